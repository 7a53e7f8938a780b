"""The tab icon, at /favicon.ico where browsers look (also before anyone signs in)."""

from __future__ import annotations

from pathlib import Path

from flask import send_from_directory

STATIC = Path(__file__).parent / "static" / "realign"
ONE_DAY = 24 * 3600


def register(app) -> None:
    @app.get("/favicon.ico")
    def favicon():
        return send_from_directory(STATIC, "favicon.svg", mimetype="image/svg+xml", max_age=ONE_DAY)

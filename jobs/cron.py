"""Run RQ's cron scheduler on the configured Redis. Run exactly one (it has no lock)."""

from __future__ import annotations

import logging

from rq.cron import CronScheduler

from service.config import load_settings
from service.infra.logs import install_redaction


def main() -> None:
    settings = load_settings()
    install_redaction(settings.log_level)
    import redis

    connection = redis.Redis.from_url(settings.effective_redis_url)
    scheduler = CronScheduler(connection=connection, logging_level=logging.INFO)
    scheduler.load_config_from_file("jobs.schedule")
    scheduler.start()


if __name__ == "__main__":
    main()

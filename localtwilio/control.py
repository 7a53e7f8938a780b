"""The `/_control/...` JSON API: inspect and steer a running LocalTwilio over HTTP.

No auth here: it is a test double bound to loopback. Each route maps onto a Python method of
`LocalTwilio` (passed in as `app`: the server imports this module, not the other way), so
a test in another process can do what an in-process test does.
"""

from __future__ import annotations

import json
from typing import Any

from localtwilio.shapes import Reply, json_reply

PREFIX = "/_control/"


def handle_control(app: Any, method: str, path: str, body: bytes) -> Reply:
    name = path.removeprefix(PREFIX).strip("/")
    try:
        data = json.loads(body) if body.strip() else {}
        if not isinstance(data, dict):
            raise ValueError("the body must be a JSON object")
        return _route(app, method, name, data)
    except KeyError as exc:
        return json_reply(400, {"error": f"missing field {exc}"})
    except (ValueError, TypeError) as exc:
        return json_reply(400, {"error": str(exc)})


def _route(app: Any, method: str, name: str, data: dict) -> Reply:
    listings = {
        "messages": app.messages,
        "calls": app.calls,
        "requests": app.requests,
        "rejected": app.rejected,
        "recordings": app.recordings,
        "media": app.media,
        "callbacks": app.callbacks,
        "faults": app.faults,
    }
    if method == "GET" and name in listings:
        return json_reply(200, listings[name]())
    if method == "POST" and name == "reset":
        app.reset()
        return json_reply(200, {"ok": True})
    if method == "POST" and name == "fail":
        to, times = data.get("to"), data.get("times")
        if data.get("call_outcome"):
            app.fail_call(data["call_outcome"], to, times=times)
        else:
            app.fail(int(data["code"]), to, times=times, status=data.get("status", "undelivered"))
        return json_reply(200, {"ok": True})
    if method == "DELETE" and name == "fail":
        app.clear_faults()
        return json_reply(200, {"ok": True})
    if method == "POST" and name == "hang":
        app.hang(
            float(data["seconds"]),
            data.get("to"),
            after_record=bool(data.get("after_record", False)),
            times=data.get("times"),
        )
        return json_reply(200, {"ok": True})
    if method == "POST" and name == "inbound":
        record = app.add_inbound(
            data["from"], data["to"], data.get("body", ""), media=int(data.get("media", 0))
        )
        return json_reply(201, record)
    if method == "POST" and name == "recordings":
        sid = app.add_recording(
            data.get("sid"), duration=int(data.get("duration", 5)), call_sid=data.get("call_sid")
        )
        return json_reply(201, {"sid": sid})
    return json_reply(404, {"error": f"no control route {method} {PREFIX}{name}"})

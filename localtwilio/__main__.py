"""`python -m localtwilio`: run the local Twilio API in the foreground (a Procfile process)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys

from localtwilio.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, LocalTwilio


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localtwilio", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("PORT", 8099)), help="default: $PORT or 8099"
    )
    # Defaults come from the app's own variables so a dev stack's .env serves both.
    parser.add_argument(
        "--account-sid", default=os.environ.get("TWILIO_ACCOUNT_SID") or DEFAULT_ACCOUNT_SID
    )
    parser.add_argument(
        "--auth-token", default=os.environ.get("TWILIO_AUTH_TOKEN") or DEFAULT_AUTH_TOKEN
    )
    parser.add_argument(
        "--callback-delay",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="wait before status callbacks, so 'queued' is visible (default: 0.5)",
    )
    parser.add_argument("--wav", help="serve this WAV file as every recording's audio")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    fake = LocalTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        callback_delay=args.callback_delay,
        wav_path=args.wav,
    )
    # honcho and most supervisors stop processes with SIGTERM: shut down cleanly on it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    fake.start()
    logging.getLogger("localtwilio").info(
        "local Twilio API on %s (account %s)", fake.base_url, args.account_sid
    )
    with contextlib.suppress(KeyboardInterrupt):
        fake.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())

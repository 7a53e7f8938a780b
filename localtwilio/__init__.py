"""A local Twilio-compatible HTTP API for tests, the dev stack and benchmarks.

    with LocalTwilio(account_sid, auth_token) as fake:      # or fake.start() / fake.stop()
        gateway = TwilioGateway(account_sid, auth_token, api_base_url=fake.base_url)
        fake.fail(21610, "+15550100200", times=1)            # inject, then inspect:
        fake.messages(), fake.calls(), fake.requests(), fake.rejected(), fake.callbacks()

`python -m localtwilio --port 8099` serves it in the foreground; `/_control/...` steers a
running one over HTTP (see localtwilio.control).
"""

from localtwilio.audio import tone_wav
from localtwilio.server import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, LocalTwilio

__all__ = ["DEFAULT_ACCOUNT_SID", "DEFAULT_AUTH_TOKEN", "LocalTwilio", "tone_wav"]

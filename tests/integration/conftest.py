"""Integration: use cases on a real database and a real Redis, without the web app's doors.

The fixtures come from tests/support (registered in tests/conftest.py): `services` for the
app's parts, `run_jobs` to run what was queued, `clock` to move time.
"""

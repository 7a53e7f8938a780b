"""The worker process's services: built by the composition root on the first job."""

from __future__ import annotations

from functools import cache

from service.app import worker_services
from service.services import Services


@cache
def services() -> Services:
    return worker_services()


def use(custom: Services | None) -> None:
    """Run jobs in this process against `custom` (tests, benchmarks); None undoes it."""
    services.cache_clear()
    _override.clear()
    if custom is not None:
        _override.append(custom)


_override: list[Services] = []


def current() -> Services:
    return _override[0] if _override else services()

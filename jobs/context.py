"""The worker process's services: built once, on the first job, never at import."""

from __future__ import annotations

from functools import cache

from service.config import load_settings
from service.infra.logs import install_redaction
from service.services import Services, build_services


@cache
def services() -> Services:
    from jobs.dispatch import RQDispatcher

    settings = load_settings()
    install_redaction(settings.log_level)
    return build_services(settings, dispatcher_factory=RQDispatcher.for_services)


def use(custom: Services | None) -> None:
    """Run jobs in this process against `custom` (tests, benchmarks); None undoes it."""
    services.cache_clear()
    _override.clear()
    if custom is not None:
        _override.append(custom)


_override: list[Services] = []


def current() -> Services:
    return _override[0] if _override else services()

"""Whether a state-changing request came from another site (a second check beside the CSRF
token): what the browser says in `Sec-Fetch-Site` and `Origin`.

Browsers send `Sec-Fetch-Site` (same-origin, same-site, cross-site, none) and, on a POST,
`Origin`. Only our own origin may change anything: another site's, a sibling subdomain's
and the opaque `null` (a sandboxed frame, a redirect across sites) are refused. A request
with neither header (an old browser, a script) is left to the CSRF token.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

TRUSTED_FETCH_SITES = {"same-origin", "none"}  # "none": typed or bookmarked by the user
DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str | None:
    """`scheme://host[:port]` of a URL (lowercase, default port left out), or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[parts.scheme]:
        host = f"{host}:{port}"
    return f"{parts.scheme}://{host}"


def is_cross_site(fetch_site: str | None, origin: str | None, own: Iterable[str]) -> bool:
    """True when the headers show the request was sent from anywhere but `own` origins."""
    if fetch_site and fetch_site.strip().lower() not in TRUSTED_FETCH_SITES:
        return True
    if origin is None:
        return False
    allowed = {o for o in (origin_of(u) for u in own) if o}
    return origin_of(origin) not in allowed

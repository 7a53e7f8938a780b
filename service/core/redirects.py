"""Where a sign-in may send the browser afterwards (`next=`): only back into our own pages.

A `next` is refused (None) unless it is a path under the given prefix on this site: another
host or scheme ('//x', 'https://x', '/\\x', which browsers read as '//x'), and any control
or invisible character (CR/LF would split the Location header; browsers drop tabs and
newlines, so '/admin\\t//x' could become another host) are all refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_LENGTH = 2048


def local_target(target, prefix: str) -> str | None:
    """`target` when it is a printable path at or under `prefix` on this site, else None."""
    if not isinstance(target, str) or not target or len(target) > MAX_LENGTH:
        return None
    if not target.isprintable() or "\\" in target:
        return None
    if target != prefix and not target.startswith((prefix + "/", prefix + "?")):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None

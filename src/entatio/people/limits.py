"""Rate limits on the cache: so many attempts per window, per scope and key.

The cache must be shared by every web process for a limit to hold across
them (Redis in production; local memory is the embedded one-process default).
"""

import hashlib
import logging

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

logger = logging.getLogger(__name__)


def _cache_key(scope: str, key: str) -> str:
    digest = hashlib.sha256(key.lower().encode()).hexdigest()[:32]
    return f"entatio:limit:{scope}:{digest}"


def count_attempt(scope: str, key: str) -> int:
    """Count one attempt in the scope's current window; the count so far."""
    _, seconds = settings.RATE_LIMITS[scope]
    cache_key = _cache_key(scope, key)

    # add() opens a window only when none is open; incr() is atomic on the
    # shared caches, so two processes never both take the last attempt.
    if cache.add(cache_key, 1, timeout=seconds):
        return 1
    try:
        return cache.incr(cache_key)
    except ValueError:
        # The window closed between the two calls.
        cache.add(cache_key, 1, timeout=seconds)
        return 1


def allow_attempt(scope: str, key: str) -> bool:
    """Count one attempt; False once the scope's limit is used up in its window."""
    attempts, _ = settings.RATE_LIMITS[scope]
    count = count_attempt(scope, key)
    if count == attempts + 1:
        logger.warning("Rate limit %s reached for one client", scope)
    return count <= attempts


def is_limited(scope: str, key: str) -> bool:
    """Whether the limit is used up, without counting an attempt."""
    attempts, _ = settings.RATE_LIMITS[scope]
    return cache.get(_cache_key(scope, key), 0) >= attempts


def client_address(request: HttpRequest) -> str:
    """The peer's address; a proxy in front must pass the client's as REMOTE_ADDR."""
    return request.META.get("REMOTE_ADDR", "") or "unknown"

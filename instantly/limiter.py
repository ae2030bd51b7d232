"""Client-side rate limiting for the Instantly API.

Instantly allows 100 requests/s and 6,000 requests/min per workspace, shared by every key, every
worker and v1 and v2 alike. Staying under that here is cheaper than eating 429s and backing off.
Both backends expose `acquire(key)`, which blocks until one request may be sent for `key`
(the workspace). Clock and sleeper are injectable so tests never sleep.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class RateLimit:
    """At most `limit` requests in any window of `period` seconds."""

    limit: int
    period: float


DEFAULT_LIMITS: tuple[RateLimit, ...] = (RateLimit(100, 1.0), RateLimit(6000, 60.0))


class RateLimiter(Protocol):
    """What the client needs from a limiter."""

    def acquire(self, key: str) -> None: ...


def _check_limits(limits: Sequence[RateLimit]) -> tuple[RateLimit, ...]:
    limits = tuple(limits)
    if not limits:
        raise ValueError("at least one RateLimit is required")
    for rate in limits:
        if rate.limit < 1 or rate.period <= 0:
            raise ValueError(f"invalid rate limit {rate!r}")
    return limits


class LocalRateLimiter:
    """Sliding-window limiter for the threads of one process.

    Keeps one deque of send times per (key, window); a request may go when every window has
    room, otherwise the caller sleeps until the oldest send in the fullest window expires.
    """

    def __init__(
        self,
        limits: Sequence[RateLimit] = DEFAULT_LIMITS,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = _check_limits(limits)
        self._clock = clock
        self._sleeper = sleeper
        self._lock = threading.Lock()
        self._sent: dict[str, list[deque[float]]] = {}

    def acquire(self, key: str) -> None:
        """Block until a request for `key` fits every window, then record it."""
        while True:
            with self._lock:
                wait = self._try_acquire(key, self._clock())
            if wait <= 0:
                return
            # Sleep outside the lock so other keys (and the clock) keep moving.
            self._sleeper(wait)

    def _try_acquire(self, key: str, now: float) -> float:
        windows = self._sent.setdefault(key, [deque() for _ in self.limits])
        wait = 0.0
        for rate, sent in zip(self.limits, windows, strict=True):
            while sent and sent[0] <= now - rate.period:
                sent.popleft()
            if len(sent) >= rate.limit:
                wait = max(wait, sent[0] + rate.period - now)
        if wait > 0:
            return wait
        for sent in windows:
            sent.append(now)
        return 0.0


# One sorted set per window; members are unique request ids scored by send time in ms.
# Returns 0 when the request was recorded, else the milliseconds to wait before trying again.
_ACQUIRE_SCRIPT = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[1 + 2 * i])
  local period = tonumber(ARGV[2 + 2 * i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - period)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local until_free = tonumber(oldest[2]) + period - now
    if until_free > wait then wait = until_free end
  end
end
if wait > 0 then
  return math.ceil(wait)
end
for i, key in ipairs(KEYS) do
  local period = tonumber(ARGV[2 + 2 * i])
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, math.ceil(period) * 2 + 1000)
end
return 0
"""


class RedisRateLimiter:
    """Sliding-window limiter shared by every process that talks to the same Redis.

    The check and the record happen in one Lua script, so two workers can never both take the
    last slot. Time comes from the injected clock (wall clock by default, as processes on
    several hosts must agree on it); small clock skew only shifts the window slightly.
    """

    def __init__(
        self,
        redis_client: Any,
        limits: Sequence[RateLimit] = DEFAULT_LIMITS,
        *,
        prefix: str = "instantly:ratelimit",
        clock: Callable[[], float] = time.time,
        sleeper: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = _check_limits(limits)
        self.prefix = prefix
        self._redis = redis_client
        self._script = redis_client.register_script(_ACQUIRE_SCRIPT)
        self._clock = clock
        self._sleeper = sleeper

    def _keys(self, key: str) -> list[str]:
        # The {hash tag} keeps all windows of one workspace in one Redis Cluster slot.
        return [f"{self.prefix}:{{{key}}}:{rate.limit}/{rate.period:g}s" for rate in self.limits]

    def acquire(self, key: str) -> None:
        """Block until a request for `key` fits every window, then record it in Redis."""
        keys = self._keys(key)
        args: list[Any] = [0, ""]
        for rate in self.limits:
            args.extend([rate.limit, rate.period * 1000])
        while True:
            args[0] = self._clock() * 1000
            args[1] = uuid.uuid4().hex
            wait_ms = int(self._script(keys=keys, args=args))
            if wait_ms <= 0:
                return
            self._sleeper(wait_ms / 1000)


@functools.cache
def _shared_limiter(redis_url: str | None, limits: tuple[RateLimit, ...]) -> RateLimiter:
    if not redis_url:
        return LocalRateLimiter(limits)
    import redis  # imported lazily: the client must work where Redis is not installed

    return RedisRateLimiter(redis.Redis.from_url(redis_url), limits)


def limiter_from_url(
    redis_url: str | None, limits: Sequence[RateLimit] = DEFAULT_LIMITS
) -> RateLimiter:
    """Return the process-wide limiter: Redis-backed when a URL is given, else in-process.

    The same instance is returned for the same arguments, so every client in a process shares
    one budget (and one Redis connection pool).
    """
    return _shared_limiter(redis_url or None, _check_limits(limits))

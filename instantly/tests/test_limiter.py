"""Rate limiters on a fake clock: the local one, and the Redis one against a real Redis."""

from __future__ import annotations

import threading
import uuid

import pytest

from instantly.limiter import (
    DEFAULT_LIMITS,
    LocalRateLimiter,
    RateLimit,
    RedisRateLimiter,
    limiter_from_url,
)

REDIS_URL = "redis://127.0.0.1:6379/15"


class FakeClock:
    """A clock that only moves when someone sleeps on it."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def redis_client():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"Redis unreachable at {REDIS_URL}")
    yield client
    client.close()


@pytest.fixture
def redis_prefix(redis_client):
    prefix = f"test:ratelimit:{uuid.uuid4().hex}"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + ":*"))
    if keys:
        redis_client.delete(*keys)


def make_redis_limiter(redis_client, prefix, clock, limits=DEFAULT_LIMITS) -> RedisRateLimiter:
    return RedisRateLimiter(redis_client, limits, prefix=prefix, clock=clock, sleeper=clock.sleep)


# --- local ---------------------------------------------------------------------------------


def test_defaults_are_instantly_limits():
    assert DEFAULT_LIMITS == (RateLimit(100, 1.0), RateLimit(6000, 60.0))


def test_local_100_requests_in_a_second_pass_and_the_101st_waits(clock):
    limiter = LocalRateLimiter(clock=clock, sleeper=clock.sleep)
    start = clock.now

    for _ in range(100):
        limiter.acquire("ws-1")
    assert clock.sleeps == []

    limiter.acquire("ws-1")

    assert clock.sleeps == [pytest.approx(1.0)]
    assert clock.now == pytest.approx(start + 1.0)


def test_local_window_slides(clock):
    limiter = LocalRateLimiter([RateLimit(2, 1.0)], clock=clock, sleeper=clock.sleep)
    limiter.acquire("ws-1")  # t = 0
    clock.now += 0.6
    limiter.acquire("ws-1")  # t = 0.6
    clock.now += 0.6
    limiter.acquire("ws-1")  # t = 1.2: the first one has left the window
    assert clock.sleeps == []

    limiter.acquire("ws-1")  # the window (0.2, 1.2] holds 0.6 and 1.2: wait for 0.6 to leave

    assert clock.sleeps == [pytest.approx(0.4)]


def test_local_6001st_request_in_a_minute_waits_at_100_per_second(clock):
    limiter = LocalRateLimiter(clock=clock, sleeper=clock.sleep)
    start = clock.now
    for second in range(60):
        clock.now = start + second
        for _ in range(100):
            limiter.acquire("ws-1")
    assert clock.sleeps == []

    clock.now = start + 59.5
    limiter.acquire("ws-1")

    assert sum(clock.sleeps) == pytest.approx(0.5)
    assert clock.now == pytest.approx(start + 60.0)


def test_local_minute_window_binds_on_its_own(clock):
    # A generous per-second limit shows the per-minute window is enforced by itself.
    limits = [RateLimit(1000, 1.0), RateLimit(6000, 60.0)]
    limiter = LocalRateLimiter(limits, clock=clock, sleeper=clock.sleep)
    start = clock.now
    for second in range(6):
        clock.now = start + second
        for _ in range(1000):
            limiter.acquire("ws-1")

    clock.now = start + 10
    limiter.acquire("ws-1")  # the 6,001st within a minute

    assert clock.sleeps == [pytest.approx(50.0)]


def test_local_workspaces_have_separate_budgets(clock):
    limiter = LocalRateLimiter(clock=clock, sleeper=clock.sleep)

    for _ in range(100):
        limiter.acquire("ws-1")
        limiter.acquire("ws-2")

    assert clock.sleeps == []


def test_local_limiter_is_shared_safely_by_threads(clock):
    limiter = LocalRateLimiter([RateLimit(50, 1.0)], clock=clock, sleeper=clock.sleep)

    def worker() -> None:
        for _ in range(25):
            limiter.acquire("ws-1")

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # 100 requests through a 50/s window: at least one full second had to pass, and no more
    # than 50 sends are ever recorded in one window.
    assert clock.now - 1_750_000_000.0 >= 1.0
    assert len(limiter._sent["ws-1"][0]) <= 50


def test_invalid_limits_are_refused():
    with pytest.raises(ValueError):
        LocalRateLimiter([])
    with pytest.raises(ValueError):
        LocalRateLimiter([RateLimit(0, 1.0)])
    with pytest.raises(ValueError):
        LocalRateLimiter([RateLimit(10, 0)])


# --- Redis ---------------------------------------------------------------------------------


def test_redis_100_requests_in_a_second_pass_and_the_101st_waits(redis_client, redis_prefix, clock):
    limiter = make_redis_limiter(redis_client, redis_prefix, clock)

    for _ in range(100):
        limiter.acquire("ws-1")
    assert clock.sleeps == []

    limiter.acquire("ws-1")

    assert clock.sleeps == [pytest.approx(1.0, abs=0.002)]


def test_redis_6001st_request_in_a_minute_waits(redis_client, redis_prefix, clock):
    limits = [RateLimit(1000, 1.0), RateLimit(6000, 60.0)]
    limiter = make_redis_limiter(redis_client, redis_prefix, clock, limits)
    start = clock.now
    for second in range(6):
        clock.now = start + second
        for _ in range(1000):
            limiter.acquire("ws-1")
    assert clock.sleeps == []

    clock.now = start + 10
    limiter.acquire("ws-1")

    assert clock.sleeps == [pytest.approx(50.0, abs=0.002)]


def test_redis_budget_is_shared_between_processes(redis_client, redis_prefix, clock):
    # Two limiter instances stand for two worker processes on the same Redis.
    worker_a = make_redis_limiter(redis_client, redis_prefix, clock)
    worker_b = make_redis_limiter(redis_client, redis_prefix, clock)

    for _ in range(60):
        worker_a.acquire("ws-1")
    for _ in range(40):
        worker_b.acquire("ws-1")
    assert clock.sleeps == []

    worker_b.acquire("ws-1")

    assert clock.sleeps == [pytest.approx(1.0, abs=0.002)]


def test_redis_workspaces_have_separate_budgets(redis_client, redis_prefix, clock):
    limiter = make_redis_limiter(redis_client, redis_prefix, clock)

    for _ in range(100):
        limiter.acquire("ws-1")
        limiter.acquire("ws-2")

    assert clock.sleeps == []


def test_redis_keys_share_a_cluster_slot_and_expire(redis_client, redis_prefix, clock):
    limiter = make_redis_limiter(redis_client, redis_prefix, clock)

    limiter.acquire("ws-1")

    keys = sorted(key.decode() for key in redis_client.scan_iter(match=redis_prefix + ":*"))
    assert keys == [f"{redis_prefix}:{{ws-1}}:100/1s", f"{redis_prefix}:{{ws-1}}:6000/60s"]
    assert all(0 < redis_client.pttl(key) <= 121_000 for key in keys)


# --- factory -------------------------------------------------------------------------------


def test_limiter_from_url_without_url_is_one_shared_local_limiter():
    limiter = limiter_from_url(None)

    assert isinstance(limiter, LocalRateLimiter)
    assert limiter is limiter_from_url(None)
    assert limiter is limiter_from_url("")
    assert limiter.limits == DEFAULT_LIMITS


def test_limiter_from_url_with_url_is_redis_backed(redis_client):
    limiter = limiter_from_url(REDIS_URL)

    assert isinstance(limiter, RedisRateLimiter)
    assert limiter is limiter_from_url(REDIS_URL)


def test_limiter_from_url_takes_custom_limits():
    limits = (RateLimit(10, 1.0),)

    limiter = limiter_from_url(None, limits)

    assert limiter.limits == limits
    assert limiter is not limiter_from_url(None)

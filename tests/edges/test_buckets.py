"""Token buckets (GCRA): a burst, then an even rate; a refusal says when a slot comes; a pause holds
everyone; on PostgreSQL every process shares one bucket and concurrent callers never share a slot."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, func, select

from bridge.db.edges import RateBucket
from bridge.edges.buckets import PRUNE_EVERY_SECONDS, DatabaseBuckets, LocalBuckets, Rate, bucket_key
from tests.conftest import requires_postgres


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def test_rates_read_like_their_settings() -> None:
    assert Rate.parse("60/minute") == Rate(1.0, 60)
    assert Rate.parse(" 5 / SECOND ") == Rate(5.0, 5)
    assert Rate.parse("7200/hour") == Rate(2.0, 7200)
    for wrong in ("0/minute", "60 per minute", "60/fortnight", "-1/second", "1.5/second"):
        with pytest.raises(ValueError):
            Rate.parse(wrong)
    with pytest.raises(ValueError):
        Rate(float("nan"), 1)


def test_a_burst_then_an_even_rate() -> None:
    clock = Clock()
    buckets, rate = LocalBuckets(clock), Rate(2.0, 3)  # 3 at once, then one per 0.5 s
    assert [buckets.reserve("k", rate).granted for _ in range(3)] == [True] * 3
    refused = buckets.reserve("k", rate)
    assert not refused.granted and refused.wait == pytest.approx(0.5) and refused.retry_after == 1
    clock.now += 0.5
    assert buckets.reserve("k", rate).granted
    assert buckets.reserve("other", rate).granted  # keys are counted apart


@pytest.mark.parametrize("clock_reading", [259086.73276765316, 4009.95194508998])
def test_a_burst_of_one_is_granted_at_any_clock_reading(clock_reading: float) -> None:
    """At these monotonic readings (now + 3600) - now - 3600 is a rounding crumb above zero: the first
    request of a 1/hour bucket must still be granted (it once was refused, at random, under load)."""
    buckets = LocalBuckets(clock=lambda: clock_reading)
    rate = Rate.parse("1/hour")
    assert buckets.reserve("first-caller", rate).granted
    assert not buckets.reserve("first-caller", rate).granted


def test_waiting_callers_get_successive_slots() -> None:
    buckets, rate = LocalBuckets(Clock()), Rate(10.0, 2)
    waits = [buckets.reserve("k", rate, max_wait=1.0).wait for _ in range(6)]
    assert waits == pytest.approx([0.0, 0.0, 0.1, 0.2, 0.3, 0.4])
    assert not buckets.reserve("k", rate, max_wait=0.45).granted  # the next slot is 0.5 s away: not reserved
    assert buckets.reserve("k", rate, max_wait=0.5).wait == pytest.approx(0.5)


def test_a_pause_holds_every_caller_then_the_rate_resumes() -> None:
    clock = Clock()
    buckets, rate = LocalBuckets(clock), Rate(10.0, 5)
    buckets.pause("k", rate, 3.0)
    assert buckets.reserve("k", rate, max_wait=10).wait == pytest.approx(3.0)
    assert buckets.reserve("k", rate, max_wait=10).wait == pytest.approx(3.1)
    buckets.pause("k", rate, 1.0)  # a shorter pause never shortens a longer one
    assert buckets.reserve("k", rate, max_wait=10).wait == pytest.approx(3.2)


def test_full_buckets_are_forgotten() -> None:
    clock = Clock()
    buckets, rate = LocalBuckets(clock), Rate(1.0, 1)
    for key in ("a", "b"):
        buckets.reserve(key, rate)
    clock.now += PRUNE_EVERY_SECONDS
    buckets.reserve("c", rate)
    assert set(buckets._arrivals) == {"c"}


def test_keys_do_not_store_what_they_count() -> None:
    key = bucket_key("pay_per_address", "203.0.113.9")
    assert "203.0.113.9" not in key and len(key) <= 64 and key == bucket_key("pay_per_address", "203.0.113.9")


# -- PostgreSQL: one bucket for every process -------------------------------------------------------
@pytest.fixture
def shared(database_url: str):  # type: ignore[no-untyped-def]
    engines = [create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT", pool_size=8) for _ in range(2)]
    yield [DatabaseBuckets(engine) for engine in engines], engines[0]
    for engine in engines:
        engine.dispose()


@requires_postgres
def test_two_processes_share_one_bucket(shared) -> None:  # type: ignore[no-untyped-def]
    (one, other), _ = shared
    rate = Rate(1 / 3600, 3)  # no refill during the test: only the burst counts
    assert one.reserve("k", rate).granted and other.reserve("k", rate).granted and one.reserve("k", rate).granted
    refused = other.reserve("k", rate)
    assert not refused.granted and refused.wait == pytest.approx(3600, abs=5)


@requires_postgres
def test_concurrent_callers_never_share_a_slot(shared) -> None:  # type: ignore[no-untyped-def]
    (one, other), engine = shared
    rate, start = Rate(100.0, 1), threading.Barrier(40)

    def reserve(index: int) -> float:
        buckets = one if index % 2 else other
        start.wait()
        reservation = buckets.reserve("k", rate, max_wait=60)
        assert reservation.granted
        return reservation.wait

    with ThreadPoolExecutor(40) as pool:
        waits = sorted(pool.map(reserve, range(40)))
    # 40 slots 10 ms apart: the last caller waits for about 39 of them, whatever the arrival order.
    assert waits[-1] == pytest.approx(0.39, abs=0.2)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RateBucket)).scalar_one() == 1


@requires_postgres
def test_pause_and_prune_on_the_database(shared) -> None:  # type: ignore[no-untyped-def]
    (one, other), engine = shared
    rate = Rate(1.0, 2)
    one.pause("held", rate, 600)
    assert other.reserve("held", rate, max_wait=700).wait == pytest.approx(600, abs=5)
    one.reserve("full", Rate(1000.0, 1))  # its slot passes within a millisecond: a full bucket again
    other._pruned_at -= PRUNE_EVERY_SECONDS
    time.sleep(0.01)
    other.reserve("third", rate)
    with engine.connect() as conn:
        keys = set(conn.execute(select(RateBucket.key)).scalars())
    assert keys == {"held", "third"}

"""The derivation of records from events, against a plain reference."""

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from entatio.engagement.derive import (
    ON_SCREEN_VERBS,
    Observation,
    derive_record,
    record_state_counts,
)

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
SEEN_AFTER_MS = 3000


def reference(observations, seen_after_ms):
    """Slow and literal: walk the visits one by one, each event counted once."""
    counted_ids = []
    visits = {}
    for o in observations:
        if o.event_id in counted_ids or o.verb not in ON_SCREEN_VERBS:
            continue
        counted_ids.append(o.event_id)
        visits.setdefault(o.visit, []).append(o)

    seen_visits = 0
    live = 0
    first = last = None
    dwell = 0
    for stints in visits.values():
        total = 0
        for o in stints:
            total += o.duration_ms
        dwell += total
        if total >= seen_after_ms:
            seen_visits += 1
            if any(o.live for o in stints):
                live += 1
            for o in stints:
                first = o.at if first is None or o.at < first else first
                last = o.at if last is None or o.at > last else last
    return (seen_visits, first, last, dwell, live, seen_visits - live)


observation = st.builds(
    Observation,
    event_id=st.integers(0, 40).map(str),
    visit=st.sampled_from(["v1", "v2", "v3"]),
    at=st.integers(0, 10_000).map(lambda s: T0 + timedelta(seconds=s)),
    verb=st.sampled_from(["viewed", "viewed", "watched", "commented"]),
    duration_ms=st.integers(0, 5000),
    live=st.booleans(),
)


def consistent(observations):
    """Repeats of an event id carry the same content, as a retried send does."""
    first = {}
    for o in observations:
        first.setdefault(o.event_id, o)
    return [first[o.event_id] for o in observations]


def as_tuple(values):
    return (
        values.visits,
        values.first_seen_at,
        values.last_seen_at,
        values.dwell_ms,
        values.live_visits,
        values.self_paced_visits,
    )


@given(st.lists(observation, max_size=30).map(consistent))
def test_agrees_with_reference(observations):
    derived = derive_record(observations, SEEN_AFTER_MS)
    assert as_tuple(derived) == reference(observations, SEEN_AFTER_MS)


@given(st.lists(observation, max_size=30).map(consistent), st.randoms())
def test_order_does_not_matter(observations, rnd: random.Random):
    shuffled = list(observations)
    rnd.shuffle(shuffled)
    assert derive_record(shuffled, SEEN_AFTER_MS) == derive_record(
        observations, SEEN_AFTER_MS
    )


@given(st.lists(observation, max_size=30).map(consistent))
def test_repeated_events_count_once(observations):
    assert derive_record(observations * 3, SEEN_AFTER_MS) == derive_record(
        observations, SEEN_AFTER_MS
    )


def test_three_seconds_within_one_visit():
    def stint(event_id, visit, ms):
        return Observation(event_id, visit, T0, "viewed", ms)

    below = [stint("a", "v1", 1500), stint("b", "v2", 1500)]
    assert derive_record(below, SEEN_AFTER_MS).visits == 0

    at_threshold = [stint("a", "v1", 1500), stint("b", "v1", 1500)]
    assert derive_record(at_threshold, SEEN_AFTER_MS).visits == 1

    twice = [*at_threshold, stint("c", "v2", 4000)]
    values = derive_record(twice, SEEN_AFTER_MS)
    assert (values.visits, values.dwell_ms, values.self_paced_visits) == (2, 7000, 2)


def test_state_counts():
    assert record_state_counts([0, 0, 1, 2, 5]) == {
        "not_yet_viewed": 2,
        "viewed": 3,
        "not_yet_viewed_again": 1,
        "viewed_again": 2,
    }

"""Activity records as a pure function of events.

The same function serves live updates and ``entatio records rebuild``, so a
record can always be recomputed from the events behind it. It is independent
of the order of events and of repeats of the same event.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

# Verbs whose duration counts as on-screen time for the slide.
ON_SCREEN_VERBS = frozenset({"viewed", "watched", "presented"})


@dataclass(frozen=True)
class Observation:
    event_id: str
    visit: str
    at: datetime
    verb: str
    duration_ms: int
    live: bool = False


@dataclass(frozen=True)
class RecordValues:
    visits: int = 0
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    dwell_ms: int = 0
    live_visits: int = 0
    self_paced_visits: int = 0


def derive_record(
    observations: Iterable[Observation], seen_after_ms: int
) -> RecordValues:
    """Fold one member's observations of one slide into their record."""
    unique = {o.event_id: o for o in observations if o.verb in ON_SCREEN_VERBS}

    by_visit: dict[str, list[Observation]] = {}
    for observation in unique.values():
        by_visit.setdefault(observation.visit, []).append(observation)

    seen = [
        stints
        for stints in by_visit.values()
        if sum(o.duration_ms for o in stints) >= seen_after_ms
    ]
    seen_times = [o.at for stints in seen for o in stints]
    live = sum(1 for stints in seen if any(o.live for o in stints))

    return RecordValues(
        visits=len(seen),
        first_seen_at=min(seen_times, default=None),
        last_seen_at=max(seen_times, default=None),
        dwell_ms=sum(o.duration_ms for o in unique.values()),
        live_visits=live,
        self_paced_visits=len(seen) - live,
    )


def record_state_counts(visits: Iterable[int]) -> dict[str, int]:
    """Counts of the four record states of the design for these records."""
    counts = {
        "not_yet_viewed": 0,
        "viewed": 0,
        "not_yet_viewed_again": 0,
        "viewed_again": 0,
    }
    for n in visits:
        if n == 0:
            counts["not_yet_viewed"] += 1
            continue
        counts["viewed"] += 1
        if n == 1:
            counts["not_yet_viewed_again"] += 1
        else:
            counts["viewed_again"] += 1
    return counts

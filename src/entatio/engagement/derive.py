"""Activity records as a pure function of events.

The same function serves live updates and ``entatio records rebuild``, so a
record can always be recomputed from the events behind it. It is independent
of the order of events and of repeats of the same event.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

# Verbs whose duration counts as on-screen time for the slide.
ON_SCREEN_VERBS = frozenset({"viewed", "watched", "presented"})


class Observation(NamedTuple):
    event_id: str
    visit: str
    at: datetime
    verb: str
    duration_ms: int
    live: bool = False


class RecordValues(NamedTuple):
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

    on_screen: dict[str, int] = {}
    for o in unique.values():
        on_screen[o.visit] = on_screen.get(o.visit, 0) + o.duration_ms
    seen = {visit for visit, ms in on_screen.items() if ms >= seen_after_ms}
    if not seen:
        return RecordValues(dwell_ms=sum(on_screen.values()))

    seen_times = [o.at for o in unique.values() if o.visit in seen]
    live = {o.visit for o in unique.values() if o.live and o.visit in seen}
    return RecordValues(
        visits=len(seen),
        first_seen_at=min(seen_times),
        last_seen_at=max(seen_times),
        dwell_ms=sum(on_screen.values()),
        live_visits=len(live),
        self_paced_visits=len(seen) - len(live),
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

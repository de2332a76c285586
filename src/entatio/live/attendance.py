"""What attendees saw: one "presented" event per slide display and attendee.

DESIGN: in a live session a slide is seen by each attendee present while the
presenter displayed it for at least 3 seconds. Each attendee's event carries
the time they were present during the display; the engagement derivation
then decides what was seen, with the organization's own threshold, so a
skipped slide (or a late arrival) yields too little time to count.
"""

import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from entatio.crm.push import LiveSessionSummary, stage_live_session
from entatio.engagement.events import record_events
from entatio.engagement.models import Visit
from entatio.live.models import LiveSession, Presence, SlideDisplay
from entatio.people.models import Member

logger = logging.getLogger(__name__)

# Ids made from the session, display and member, so recording a display
# again (a retry after a failure) stores each event once.
LIVE_NAMESPACE = uuid.UUID("5f0c8a52-6d1e-4b7a-9a43-2c1e0d7b8e61")

Interval = tuple[datetime, datetime]
_MILLISECOND = timedelta(milliseconds=1)


def live_visit_id(session: LiveSession, member_id: int) -> uuid.UUID:
    return uuid.uuid5(LIVE_NAMESPACE, f"visit:{session.pk}:{member_id}")


def event_id(display: SlideDisplay, member_id: int) -> uuid.UUID:
    return uuid.uuid5(LIVE_NAMESPACE, f"presented:{display.pk}:{member_id}")


def open_live_visit(session: LiveSession, member: Member, now: datetime) -> None:
    """The member's live visit of this session, made when they first arrive."""
    Visit.objects.get_or_create(
        pk=live_visit_id(session, member.pk),
        defaults={
            "member": member,
            "presentation_id": session.presentation_id,
            "mode": Visit.Mode.LIVE,
            "started_at": now,
            "last_activity_at": now,
        },
    )


def record_display(session: LiveSession, display: SlideDisplay) -> int:
    """Store the events of a display that has left the screen; counts them."""
    ended_at = display.ended_at or timezone.now()
    overlaps = presence_during(session, display.shown_at, ended_at)
    if not overlaps:
        return 0

    # The intake ends a named visit after 30 quiet minutes; a slide talked
    # about for longer must not split the live visit, so it is kept active.
    visits = [live_visit_id(session, member.pk) for member in overlaps]
    Visit.objects.filter(pk__in=visits, last_activity_at__lt=ended_at).update(
        last_activity_at=ended_at
    )

    items = [
        presented_event(session, display, member, start, ms)
        for member, (start, ms) in overlaps.items()
    ]
    result = record_events(session.portal, items)
    if result.errors:
        logger.warning(
            "Live session %s: %d presented events refused; first: %s",
            session.pk,
            len(result.errors),
            result.errors[0][1],
            extra={"live_session": session.pk, "display": display.pk},
        )
    return result.stored


def presented_event(
    session: LiveSession,
    display: SlideDisplay,
    member: Member,
    start: datetime,
    duration_ms: int,
) -> dict[str, Any]:
    return {
        "id": str(event_id(display, member.pk)),
        "member": member.email,
        "slide": display.slide_id,
        "presentation": session.presentation_id,
        "verb": "presented",
        "at": start.isoformat(),
        "duration_ms": duration_ms,
        "visit": str(live_visit_id(session, member.pk)),
        "live_session": session.pk,
    }


def presence_during(
    session: LiveSession, start: datetime, end: datetime
) -> dict[Member, tuple[datetime, int]]:
    """Per attendee present in [start, end): when they were first there, and
    for how many milliseconds in all (two tabs and a check-in count once)."""
    presences = (
        session.presences.filter(started_at__lt=end)
        .filter(Q(ended_at=None) | Q(ended_at__gt=start))
        .select_related("member")
    )
    spans: dict[Member, list[Interval]] = defaultdict(list)
    for presence in presences:
        spans[presence.member].append(
            (max(presence.started_at, start), min(presence.ended_at or end, end))
        )

    overlaps = {}
    for member, intervals in spans.items():
        ms = union_ms(intervals)
        if ms > 0:
            overlaps[member] = (min(s for s, _ in intervals), ms)
    return overlaps


def union_ms(intervals: list[Interval]) -> int:
    """Milliseconds covered by the intervals, overlaps counted once."""
    total, reach = 0, None
    for start, end in sorted(intervals):
        if reach is not None and start < reach:
            start = reach
        if end > start:
            total += (end - start) // _MILLISECOND
            reach = end
    return total


def stage_for_crm(session: LiveSession) -> None:
    """Stage the ended session as a Campaign with its attendees."""
    attendees = Member.objects.filter(
        pk__in=Presence.objects.filter(session=session).values("member_id")
    ).order_by("pk")
    summary = LiveSessionSummary(
        id=session.pk,
        title=f"Live: {session.presentation.title}",
        presentation_id=session.presentation_id,
        started_at=session.started_at,
        ended_at=session.ended_at,
        attendees=list(attendees),
    )
    stage_live_session(session.portal.organization, summary)

"""Events of what members do besides looking: posting in discussions, downloading.

These are written one at a time by the server, as they happen, so the id is
made here rather than by a client. None of these verbs is on-screen time, so
activity records do not change; the events are there for exports and insights.
"""

import uuid
from typing import Any

from django.utils import timezone

from entatio.engagement.models import Event
from entatio.library.models import Presentation, Slide
from entatio.people.models import Member

ACTIVITY_VERBS = frozenset({"commented", "downloaded"})


def record_activity(
    member: Member,
    verb: str,
    presentation: Presentation,
    slide: Slide | None = None,
    details: dict[str, Any] | None = None,
) -> Event:
    """Store one event of the member's activity; ``details`` join its statement."""
    if verb not in ACTIVITY_VERBS:
        raise ValueError(f"{verb!r} is not an activity verb")

    event_id = uuid.uuid4()
    at = timezone.now()
    # The plain event form of the design, as the viewer's events are kept.
    statement = {
        "id": str(event_id),
        "member": member.email,
        "verb": verb,
        "slide": slide.pk if slide else None,
        "presentation": presentation.pk,
        "at": at.isoformat(),
        **(details or {}),
    }
    return Event.objects.create(
        id=event_id,
        portal_id=member.portal_id,
        member=member,
        verb=verb,
        slide=slide,
        presentation=presentation,
        at=at,
        statement=statement,
    )

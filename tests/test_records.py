import uuid
from datetime import UTC, datetime, timedelta

from entatio.engagement.access import share_presentation, revoke_share
from entatio.engagement.events import record_events
from entatio.engagement.models import ActivityRecord
from entatio.library.models import Presentation, PresentationSlide, Slide
from tests.personas import make_member

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def deck(portal, n=3):
    presentation = Presentation.objects.create(portal=portal, title="Versioning")
    for i in range(n):
        slide = Slide.objects.create(portal=portal, title=f"S{i}", index_in_source=i)
        PresentationSlide.objects.create(
            presentation=presentation, slide=slide, position=i
        )
    return presentation


def view(member, slide, at, ms, visit=None):
    return {
        "id": str(uuid.uuid4()),
        "member": member.email,
        "slide": slide.pk,
        "verb": "viewed",
        "at": at.isoformat(),
        "duration_ms": ms,
        **({"visit": visit} if visit else {}),
    }


def test_sharing_creates_records_for_members_and_late_joiners(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    assert ActivityRecord.objects.filter(member=member).count() == 3

    late = make_member(portal, "late@globex.test")
    group.members.add(late)
    assert ActivityRecord.objects.filter(member=late, archived=False).count() == 3

    revoke_share(presentation, group)
    assert ActivityRecord.objects.filter(archived=False).count() == 0
    assert ActivityRecord.objects.filter(archived=True).count() == 6


def test_records_follow_visits_and_threshold(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    s0, s1, _ = presentation.slides.order_by("places__position")

    record_events(
        portal,
        [
            view(member, s0, T0, 2000),
            view(member, s0, T0 + timedelta(seconds=5), 1500),
            view(member, s1, T0, 2900),
        ],
    )
    r0 = ActivityRecord.objects.get(member=member, slide=s0)
    r1 = ActivityRecord.objects.get(member=member, slide=s1)
    assert (r0.visits, r0.dwell_ms) == (1, 3500)
    assert r1.visits == 0

    later = T0 + timedelta(minutes=31)
    result = record_events(portal, [view(member, s0, later, 3000)])
    assert result.stored == 1
    r0.refresh_from_db()
    assert r0.visits == 2
    assert r0.last_seen_at == later

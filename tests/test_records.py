import random
import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from entatio.engagement.access import revoke_share, share_presentation
from entatio.engagement.events import load_events, rebuild_records, record_events
from entatio.engagement.models import ActivityRecord, Event
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


def test_retried_batch_is_stored_once_and_bad_rows_reported(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    s0 = presentation.slides.order_by("places__position").first()
    good = view(member, s0, T0, 4000)
    bad = [
        {"id": "not-a-uuid", "verb": "viewed"},
        {**view(member, s0, T0, 10), "at": "yesterday"},
        {**view(member, s0, T0, 10), "member": "nobody@nowhere.test"},
        {**view(member, s0, T0, 10), "slide": 999999},
        {**view(member, s0, T0, 10), "verb": "teleported"},
    ]

    first = record_events(portal, [good, *bad])
    again = record_events(portal, [good])

    assert (first.stored, first.duplicates) == (1, 0)
    assert [n for n, _ in first.errors] == [2, 3, 4, 5, 6]
    assert "nobody@nowhere.test" in first.errors[2][1]
    assert (again.stored, again.duplicates) == (0, 1)
    assert ActivityRecord.objects.get(member=member, slide=s0).visits == 1


def test_named_visit_after_thirty_quiet_minutes_becomes_a_new_visit(
    portal, group, member
):
    presentation = deck(portal)
    share_presentation(presentation, group)
    s0 = presentation.slides.order_by("places__position").first()
    visit = str(uuid.uuid4())

    record_events(portal, [view(member, s0, T0, 3000, visit)])
    late = record_events(
        portal, [view(member, s0, T0 + timedelta(minutes=45), 3000, visit)]
    )

    assert visit in late.visits and late.visits[visit] != visit
    assert ActivityRecord.objects.get(member=member, slide=s0).visits == 2


def test_someone_elses_visit_id_is_not_joined(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    other = make_member(portal, "bob@globex.test")
    group.members.add(other)
    s0 = presentation.slides.order_by("places__position").first()
    visit = str(uuid.uuid4())

    record_events(portal, [view(member, s0, T0, 2000, visit)])
    record_events(portal, [view(other, s0, T0, 2000, visit)])

    assert ActivityRecord.objects.get(member=member, slide=s0).visits == 0
    assert ActivityRecord.objects.get(member=other, slide=s0).visits == 0


def test_rebuild_gives_the_same_records(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    slides = list(presentation.slides.order_by("places__position"))
    events = [
        view(
            member, slides[i % 3], T0 + timedelta(minutes=5 * i + 180 * (i // 6)), 3000
        )
        for i in range(12)
    ]
    record_events(portal, events[:6])
    record_events(portal, events[6:])
    before = sorted(
        ActivityRecord.objects.values_list(
            "slide_id", "visits", "dwell_ms", "last_seen_at"
        )
    )

    ActivityRecord.objects.update(visits=0, dwell_ms=0, last_seen_at=None)
    rebuild_records(portal)

    after = sorted(
        ActivityRecord.objects.values_list(
            "slide_id", "visits", "dwell_ms", "last_seen_at"
        )
    )
    assert after == before
    assert [v for _, v, _, _ in after] == [2, 2, 2]


def test_impossible_durations_and_future_times_are_refused(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    s0 = presentation.slides.first()
    items = [
        {**view(member, s0, T0, 10), "duration_ms": float("inf")},
        {**view(member, s0, T0, 10), "duration_ms": True},
        view(member, s0, datetime(2126, 1, 1, tzinfo=UTC), 5000),
        view(member, s0, T0, 5000),
    ]

    result = record_events(portal, items)

    assert result.stored == 1
    assert [n for n, _ in result.errors] == [1, 2, 3]
    assert "whole number" in result.errors[0][1]
    assert "future" in result.errors[2][1]


RECORD_VALUES = (
    "member_id",
    "slide_id",
    "visits",
    "first_seen_at",
    "last_seen_at",
    "dwell_ms",
    "live_visits",
    "self_paced_visits",
)


def viewing_history(members, slides, rnd: random.Random) -> list[dict]:
    """Sittings of every kind: named and unnamed visits, live ones, stints
    around the threshold, events off screen, and some sent twice."""
    events = []
    for member in members:
        at = T0 + timedelta(minutes=rnd.randint(0, 90))
        for _ in range(rnd.randint(2, 5)):
            visit = str(uuid.uuid4()) if rnd.random() < 0.5 else None
            live = rnd.random() < 0.2
            for _ in range(rnd.randint(1, 8)):
                event = view(
                    member, rnd.choice(slides), at, rnd.choice([0, 1000, 2500, 4000])
                )
                event["verb"] = rnd.choice(["viewed", "viewed", "watched", "opened"])
                if visit:
                    event["visit"] = visit
                if live:
                    event["live_session"] = True
                events.append(event)
                at += timedelta(seconds=rnd.randint(5, 600))
            at += timedelta(minutes=rnd.choice([10, 29, 31, 45, 600]))
    repeats = rnd.sample(events, len(events) // 10)
    return events + [dict(event) for event in repeats]


def records_now():
    return sorted(ActivityRecord.objects.values_list(*RECORD_VALUES))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batches_in_any_order_give_the_records_of_a_rebuild(portal, group, seed):
    rnd = random.Random(seed)
    presentation = deck(portal, n=4)
    members = [make_member(portal, f"m{i}@globex.test") for i in range(4)]
    group.members.add(*members)
    share_presentation(presentation, group)
    slides = list(presentation.slides.order_by("places__position"))
    events = viewing_history(members, slides, rnd)
    rnd.shuffle(events)

    loaded = load_events(portal, events, batch=rnd.randint(5, 40))
    live = records_now()
    ActivityRecord.objects.update(
        visits=0, first_seen_at=None, last_seen_at=None, dwell_ms=0
    )
    rebuild_records(portal)

    assert loaded.stored + loaded.duplicates == len(events)
    assert not loaded.errors
    assert records_now() == live
    assert any(visits >= 2 for _, _, visits, *_ in live)


def test_an_event_about_a_slide_not_shared_with_the_member_is_refused(
    portal, group, member
):
    shared = deck(portal)
    unshared = deck(portal, n=1)
    share_presentation(shared, group)
    s0 = shared.slides.first()
    hidden_from_member = unshared.slides.get()

    result = load_events(
        portal,
        [
            view(member, s0, T0, 4000),
            view(member, hidden_from_member, T0, 4000),
            view(member, s0, T0 + timedelta(seconds=5), 4000),
        ],
    )

    assert result.stored == 2
    assert [n for n, _ in result.errors] == [2]
    reason = result.errors[0][1]
    assert f"no access to slide {hidden_from_member.pk}" in reason
    assert member.email in reason and "share" in reason
    assert not ActivityRecord.objects.filter(
        member=member, slide=hidden_from_member
    ).exists()
    assert ActivityRecord.objects.get(member=member, slide=s0).visits == 1


def test_after_a_share_is_revoked_events_are_refused(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    s0 = presentation.slides.first()
    record_events(portal, [view(member, s0, T0, 4000)])

    revoke_share(presentation, group)
    result = record_events(portal, [view(member, s0, T0 + timedelta(hours=2), 4000)])

    assert result.stored == 0
    assert "no access" in result.errors[0][1]
    assert ActivityRecord.objects.get(member=member, slide=s0).visits == 1


def test_events_naming_a_presentation_are_checked_against_it(
    portal, other_portal, group, member
):
    shared = deck(portal)
    unshared = deck(portal, n=1)
    elsewhere = deck(other_portal, n=1)
    share_presentation(shared, group)
    s0 = shared.slides.first()
    on_deck = {"verb": "downloaded", "member": member.email, "at": T0.isoformat()}

    result = load_events(
        portal,
        [
            {**on_deck, "id": str(uuid.uuid4()), "presentation": shared.pk},
            {**on_deck, "id": str(uuid.uuid4()), "presentation": unshared.pk},
            {**on_deck, "id": str(uuid.uuid4()), "presentation": elsewhere.pk},
            {**view(member, s0, T0, 4000), "presentation": unshared.pk},
            {**view(member, s0, T0, 4000), "presentation": shared.pk},
        ],
    )

    assert result.stored == 2
    reasons = dict(result.errors)
    assert sorted(reasons) == [2, 3, 4]
    assert f"no access to presentation {unshared.pk}" in reasons[2]
    assert f"no presentation {elsewhere.pk} in portal" in reasons[3]
    assert f"slide {s0.pk} is not in presentation {unshared.pk}" in reasons[4]
    stored = Event.objects.order_by("verb").values_list("verb", "presentation_id")
    assert list(stored) == [("downloaded", shared.pk), ("viewed", shared.pk)]


def test_authors_events_count_on_any_slide_of_their_portal(portal, author):
    presentation = deck(portal, n=1)

    result = record_events(portal, [view(author, presentation.slides.get(), T0, 4000)])

    assert (result.stored, result.errors) == (1, [])


def test_two_copies_of_a_batch_sent_at_once_count_once(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    slides = list(presentation.slides.order_by("places__position"))
    batch = [
        view(member, s, T0 + timedelta(seconds=i), 2000)
        for i, s in enumerate(slides * 2)
    ]
    start = threading.Barrier(2)
    results = []

    def send():
        try:
            start.wait()
            results.append(record_events(portal, batch))
        finally:
            connection.close()

    senders = [threading.Thread(target=send) for _ in range(2)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()

    assert sorted((r.stored, r.duplicates) for r in results) == [(0, 6), (6, 0)]
    records = ActivityRecord.objects.filter(member=member)
    assert [(r.visits, r.dwell_ms) for r in records] == [(1, 4000)] * 3

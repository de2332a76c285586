"""A scripted live session with controlled times, and what it leaves behind:
"presented" events, live visits, records and the CRM Campaign."""

from datetime import UTC, datetime

import pytest
import time_machine

from entatio.crm.models import OutboxEntry
from entatio.engagement.access import sync_records
from entatio.engagement.models import ActivityRecord, Event, Visit
from entatio.live import attendance
from entatio.live.models import Presence
from entatio.live.sessions import (
    SessionEnded,
    check_in,
    end_session,
    join_online,
    leave_online,
    move_by,
    show_position,
    start_session,
)
from entatio.live.state import current_display, presenter_state
from tests.personas import make_member
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def late(portal, group, deck):
    """A second attendee of the group, checked in on site after slide 1."""
    bo = make_member(portal, "bo@globex.test", first_name="Bo")
    group.members.add(bo)
    sync_records([deck.pk])
    return bo


@pytest.fixture
def scripted(owner, member, late, deck):
    """Slide 1 for 10 s with Ada online; Bo checks in; slide 2 for 2 s
    (skipped); slide 3 for 5 s; then the session ends."""
    with time_machine.travel(T0, tick=False) as clock:
        session = start_session(owner, deck, "both")
        join_online(session, member, "socket-of-ada")
        clock.shift(10)
        move_by(session, 1)
        check_in(session, late)
        clock.shift(2)
        move_by(session, 1)
        clock.shift(5)
        end_session(session)
    session.refresh_from_db()
    return session


def seen_by(member, deck) -> dict[int, tuple[int, int]]:
    """Per slide position: (visits, live visits) of the member's record."""
    records = {
        r.slide_id: (r.visits, r.live_visits)
        for r in ActivityRecord.objects.filter(member=member)
    }
    return {n: records.get(s.pk) for n, s in enumerate(slides_of(deck)[:3], 1)}


def test_each_attendee_gets_the_time_they_were_there(scripted, member, late, deck):
    slides = slides_of(deck)
    events = Event.objects.filter(verb="presented").order_by("member_id", "at")

    got = [(e.member_id, e.slide_id, e.duration_ms, e.at) for e in events]
    assert got == [
        (member.pk, slides[0].pk, 10_000, T0),
        (member.pk, slides[1].pk, 2_000, T0.replace(second=10)),
        (member.pk, slides[2].pk, 5_000, T0.replace(second=12)),
        (late.pk, slides[1].pk, 2_000, T0.replace(second=10)),
        (late.pk, slides[2].pk, 5_000, T0.replace(second=12)),
    ]
    assert all(e.live for e in events)
    assert {e.statement["live_session"] for e in events} == {scripted.pk}


def test_records_count_live_visits_and_not_skipped_or_earlier_slides(
    scripted, member, late, deck
):
    # Slide 2 was on screen 2 s, under the 3 s of the design: seen by nobody.
    assert seen_by(member, deck) == {1: (1, 1), 2: (0, 0), 3: (1, 1)}
    # Bo arrived after slide 1 had left the screen.
    assert seen_by(late, deck) == {1: (0, 0), 2: (0, 0), 3: (1, 1)}


def test_each_attendee_has_one_live_visit(scripted, member, late, deck):
    visits = Visit.objects.filter(presentation=deck).order_by("member_id")

    assert [(v.member_id, v.mode) for v in visits] == [
        (member.pk, Visit.Mode.LIVE),
        (late.pk, Visit.Mode.LIVE),
    ]
    assert visits[0].started_at == T0
    assert visits[0].last_activity_at == T0.replace(second=17)
    for event in Event.objects.filter(verb="presented"):
        assert event.visit_id == attendance.live_visit_id(scripted, event.member_id)


def test_recording_a_display_again_stores_nothing_new(scripted):
    last = scripted.displays.order_by("-shown_at").first()
    with time_machine.travel(T0.replace(minute=5), tick=False):
        stored = attendance.record_display(scripted, last)

    assert stored == 0
    assert Event.objects.filter(verb="presented").count() == 5


def test_the_ended_session_is_a_campaign_with_its_attendees(scripted, org):
    campaign = OutboxEntry.objects.get(organization=org, sobject="Campaign")

    assert campaign.external_id == f"live-{scripted.pk}"
    assert campaign.payload["Status"] == "Completed"
    assert scripted.ended_at == T0.replace(second=17)
    assert not Presence.objects.filter(session=scripted, ended_at=None).exists()


def test_an_attendee_who_leaves_sees_only_what_was_shown_while_there(
    owner, member, deck
):
    with time_machine.travel(T0, tick=False) as clock:
        session = start_session(owner, deck, "virtual")
        join_online(session, member, "socket-1")
        clock.shift(1)
        leave_online("socket-1")
        clock.shift(9)
        move_by(session, 1)
        end_session(session)

    # One second of slide 1 and nothing of slide 2.
    assert list(Event.objects.values_list("duration_ms", flat=True)) == [1_000]
    assert seen_by(member, deck)[1] == (0, 0)


def test_two_sockets_and_a_check_in_count_once(owner, member, deck):
    with time_machine.travel(T0, tick=False) as clock:
        session = start_session(owner, deck, "both")
        join_online(session, member, "laptop")
        clock.shift(2)
        join_online(session, member, "phone")
        check_in(session, member)
        clock.shift(4)
        end_session(session)

    assert list(Event.objects.values_list("duration_ms", flat=True)) == [6_000]


def test_showing_the_same_slide_again_keeps_one_display(owner, deck):
    with time_machine.travel(T0, tick=False):
        session = start_session(owner, deck, "virtual")
        show_position(session, 1)
        show_position(session, 99)

    # The hidden fourth slide is not shown: the deck ends at slide 3.
    assert [d.position for d in session.displays.order_by("shown_at", "pk")] == [1, 3]
    assert current_display(session).slide == slides_of(deck)[2]


def test_an_ended_session_cannot_move(owner, deck):
    session = start_session(owner, deck, "virtual")
    end_session(session)

    with pytest.raises(SessionEnded):
        move_by(session, 1)


def test_the_presenter_sees_notes_next_slide_and_who_is_present(owner, member, deck):
    first = slides_of(deck)[0]
    first.notes = "Say hello."
    first.save(update_fields=["notes"])
    session = start_session(owner, deck, "virtual")
    join_online(session, member, "socket-1")

    state = presenter_state(session)

    assert (state["position"], state["count"], state["notes"]) == (1, 3, "Say hello.")
    assert state["next"]["id"] == slides_of(deck)[1].pk
    assert state["present"] == [{"id": member.pk, "name": "Ada", "ways": ["online"]}]


def test_an_author_in_the_audience_is_an_attendee_too(owner, author, deck):
    with time_machine.travel(T0, tick=False) as clock:
        session = start_session(owner, deck, "virtual")
        join_online(session, author, "socket-of-the-author")
        clock.shift(4)
        end_session(session)

    event = Event.objects.get(verb="presented")
    assert (event.member_id, event.duration_ms) == (author.pk, 4_000)
    assert seen_by(author, deck)[1] == (1, 1)

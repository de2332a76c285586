"""The viewer's event endpoint and visits: stored once, records as designed."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from entatio.engagement.models import ActivityRecord, Event, Visit
from entatio.engagement.reports import engagement_report
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of, viewed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    """Server time at T0, moved only by the test; sessions live in it too."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def send(client: Client, events: list[dict]) -> dict:
    response = client.post(
        reverse("record_events"),
        json.dumps({"events": events}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()


def open_viewer(client: Client, presentation) -> str:
    """Load the viewer page and return the visit id it carries."""
    response = client.get(reverse("viewer", args=[presentation.pk]))
    assert response.status_code == 200
    return response.context["viewer_config"]["visit"]


def record(member, slide) -> ActivityRecord:
    return ActivityRecord.objects.get(member=member, slide=slide)


def test_a_retried_batch_is_stored_once(clock, deck, member, client_of):
    client = client_of("member")
    s1, s2, *_ = slides_of(deck)
    visit = open_viewer(client, deck)
    batch = [
        viewed(s1, deck, T0 + timedelta(seconds=4), 4000, visit),
        viewed(s2, deck, T0 + timedelta(seconds=6), 2000, visit),
    ]

    first = send(client, batch)
    again = send(client, batch)

    assert (first["stored"], first["duplicates"]) == (2, 0)
    assert (again["stored"], again["duplicates"]) == (0, 2)
    assert Event.objects.count() == 2
    assert record(member, s1).dwell_ms == 4000


def test_records_move_through_the_four_states(clock, deck, member, client_of):
    client = client_of("member")
    s1, s2, s3, _ = slides_of(deck)
    visit = open_viewer(client, deck)

    # Slide 1 three seconds in two stretches, slide 2 under the threshold.
    send(
        client,
        [
            viewed(s1, deck, T0 + timedelta(seconds=2), 2000, visit),
            viewed(s2, deck, T0 + timedelta(seconds=5), 2900, visit),
            viewed(s1, deck, T0 + timedelta(seconds=7), 1000, visit),
        ],
    )
    assert [record(member, s).visits for s in (s1, s2, s3)] == [1, 0, 0]

    # More of slide 1 in the same visit does not make it "viewed again".
    send(client, [viewed(s1, deck, T0 + timedelta(minutes=20), 5000, visit)])
    assert record(member, s1).visits == 1

    # After 31 quiet minutes the server starts a new visit and says so.
    later = T0 + timedelta(minutes=51)
    answer = send(client, [viewed(s1, deck, later, 3000, visit)])
    new_visit = answer["visits"][visit]
    assert new_visit != visit
    assert Visit.objects.filter(member=member, presentation=deck).count() == 2
    assert record(member, s1).visits == 2

    # The page switches to the new id; the visit continues under it.
    send(client, [viewed(s2, deck, later + timedelta(seconds=9), 3000, new_visit)])
    assert record(member, s2).visits == 1

    report = engagement_report(deck)
    counts = {c.slide.pk: c.counts for c in report.slides}
    assert counts[s1.pk] == {
        "not_yet_viewed": 0,
        "viewed": 1,
        "not_yet_viewed_again": 0,
        "viewed_again": 1,
    }
    assert counts[s2.pk]["not_yet_viewed_again"] == 1
    assert counts[s3.pk]["not_yet_viewed"] == 1


def test_the_page_opens_or_continues_a_visit(clock, deck, member, client_of):
    client = client_of("member")
    first = open_viewer(client, deck)
    clock.shift(timedelta(minutes=25))
    same = open_viewer(client, deck)
    clock.shift(timedelta(minutes=31))
    next_one = open_viewer(client, deck)

    assert same == first
    assert next_one != first
    visits = Visit.objects.filter(member=member, presentation=deck)
    assert {str(v.pk) for v in visits} == {first, next_one}
    assert all(v.mode == Visit.Mode.SELF_PACED for v in visits)


def test_a_beacon_posts_a_form_with_its_csrf_token(deck, member):
    client = Client(enforce_csrf_checks=True)
    client.force_login(member.user)
    page = client.get(reverse("viewer", args=[deck.pk]))
    token = page.context["csrf_token"]
    visit = page.context["viewer_config"]["visit"]
    event = viewed(slides_of(deck)[0], deck, T0, 3500, visit)

    refused = client.post(reverse("record_events"), {"events": json.dumps([event])})
    accepted = client.post(
        reverse("record_events"),
        {"events": json.dumps([event]), "csrfmiddlewaretoken": token},
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
    assert accepted.json()["stored"] == 1


def test_events_name_only_the_signed_in_member(deck, member, outsider, client_of):
    """Fields a viewer never sends are dropped: no other member, no live."""
    event = viewed(slides_of(deck)[0], deck, T0, 3500, "")
    event.update(member=outsider.email, live_session="forged")
    del event["visit"]

    send(client_of("member"), [event])

    stored = Event.objects.get()
    assert stored.member_id == member.pk
    assert stored.live is False
    assert "live_session" not in stored.statement


def test_malformed_batches_are_refused(deck, client_of):
    client = client_of("member")
    slide = slides_of(deck)[0]
    url = reverse("record_events")
    good = viewed(slide, deck, T0, 3000, "")
    cases = {
        "not json": "{",
        "empty": json.dumps({"events": []}),
        "not a list": json.dumps({"events": {"a": 1}}),
        "other verb": json.dumps([{**good, "verb": "commented"}]),
        "no slide": json.dumps([{k: v for k, v in good.items() if k != "slide"}]),
        "slide not an id": json.dumps([{**good, "slide": "1"}]),
        "too many": json.dumps([good] * 501),
        "nested deep": "[" * 100_000 + "]" * 100_000,
    }
    for name, body in cases.items():
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400, name
        assert response.json()["error"], name
    assert Event.objects.count() == 0


def test_ids_beyond_any_column_are_refused_not_a_crash(deck, client_of):
    slide = slides_of(deck)[0]
    good = viewed(slide, deck, T0, 3000, "")
    client = client_of("member")

    for key in ("slide", "presentation"):
        response = client.post(
            reverse("record_events"),
            json.dumps([good, {**good, "id": str(uuid.uuid4()), key: 10**30}]),
            content_type="application/json",
        )
        assert response.status_code == 400, key
        assert response.json()["error"] == f"No {key} has the id {10**30}."
    assert Event.objects.count() == 0


def test_bad_items_are_reported_and_the_rest_kept(deck, client_of):
    slide = slides_of(deck)[0]
    events = [
        viewed(slide, deck, T0, 3000, ""),
        {**viewed(slide, deck, T0, 3000, ""), "id": "not-a-uuid"},
    ]

    answer = send(client_of("member"), events)

    assert answer["stored"] == 1
    assert [e["line"] for e in answer["errors"]] == [2]

"""Who may open which live page or action: every persona against every case.

Attending needs the presentation to be visible; presenting and its actions
need an author too. Outsiders and strangers get 404, members trying a
presenter's action 403, anonymous visitors the login page.
"""

from types import SimpleNamespace

import pytest
from django.urls import reverse

from entatio.live.models import Presence
from entatio.live.sessions import end_session, start_session
from tests.test_web_access import (
    ASKING_ORDER,
    AUTHOR_CHANGE,
    AUTHOR_PAGE,
    LOGIN,
    SHARED,
    UNSHARED,
    UNSHARED_CHANGE,
    Case,
    outcome,
    outcomes,
)
from tests.test_web_fixtures import *  # noqa: F403


def session_url(name: str, which: str = "live") -> object:
    return lambda ctx: reverse(name, args=[getattr(ctx, which).code])


def fresh_session_url(name: str) -> object:
    """A session of its own for each persona, for actions that end it."""
    return lambda ctx: reverse(
        name, args=[start_session(ctx.owner, ctx.deck, "virtual").code]
    )


CASES = {
    "start page, shared": Case(
        "get", lambda ctx: reverse("live_start", args=[ctx.deck.pk]), AUTHOR_PAGE
    ),
    "start page, unshared": Case(
        "get", lambda ctx: reverse("live_start", args=[ctx.secret.pk]), UNSHARED
    ),
    "start, shared": Case(
        "post",
        lambda ctx: reverse("live_start", args=[ctx.deck.pk]),
        AUTHOR_CHANGE,
        data=lambda ctx: {"mode": "both"},
    ),
    "start, unshared": Case(
        "post",
        lambda ctx: reverse("live_start", args=[ctx.secret.pk]),
        UNSHARED_CHANGE,
    ),
    "attend, shared": Case("get", session_url("live_attend"), SHARED),
    "attend, unshared": Case("get", session_url("live_attend", "hidden"), UNSHARED),
    "present, shared": Case("get", session_url("live_present"), AUTHOR_PAGE),
    "present, unshared": Case("get", session_url("live_present", "hidden"), UNSHARED),
    "move": Case(
        "post", session_url("live_move"), AUTHOR_CHANGE, data=lambda c: {"to": "2"}
    ),
    "move, unshared": Case("post", session_url("live_move", "hidden"), UNSHARED_CHANGE),
    "check in an attendee": Case(
        "post",
        session_url("live_check_in"),
        AUTHOR_CHANGE,
        data=lambda ctx: {"member": ctx.member.pk},
    ),
    "check in somebody without access": Case(
        "post",
        session_url("live_check_in"),
        outcomes(404, 404, 403, 404, 404, LOGIN),
        data=lambda ctx: {"member": ctx.outsider.pk},
    ),
    "end": Case("post", fresh_session_url("live_end"), AUTHOR_CHANGE),
    "live now": Case(
        "get", lambda ctx: reverse("live_now"), outcomes(200, 200, 200, 200, 200, 401)
    ),
}


@pytest.fixture
def ctx(portal, deck, secret, owner, member, outsider):
    return SimpleNamespace(
        deck=deck,
        secret=secret,
        owner=owner,
        member=member,
        outsider=outsider,
        live=start_session(owner, deck, "both"),
        hidden=start_session(owner, secret, "virtual"),
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_live_permission_matrix(case: Case, ctx, client_of):
    got = {}
    for persona in ASKING_ORDER:
        ctx.persona = persona
        got[persona] = outcome(case, client_of(persona), ctx)

    assert got == {p: case.expect[p] for p in ASKING_ORDER}


def test_an_unknown_code_is_404(ctx, client_of):
    response = client_of("owner").get(reverse("live_attend", args=["NOSUCH99"]))

    assert response.status_code == 404


def test_an_ended_session_refuses_moves_and_says_so(ctx, client_of):
    end_session(ctx.live)
    client = client_of("owner")

    moved = client.post(reverse("live_move", args=[ctx.live.code]), {"to": "next"})
    page = client_of("member").get(reverse("live_attend", args=[ctx.live.code]))

    assert moved.status_code == 409
    assert "This live session has ended." in page.content.decode()


def test_a_script_gets_the_presenters_state(ctx, client_of):
    client = client_of("author")
    url = reverse("live_check_in", args=[ctx.live.code])

    answer = client.post(url, {"member": ctx.member.pk}, HTTP_ACCEPT="application/json")

    state = answer.json()
    assert state["present_count"] == 1
    assert state["present"][0]["ways"] == ["on_site"]
    assert Presence.objects.get().way == Presence.Way.ON_SITE

    client.post(url, {"member": ctx.member.pk, "out": "1"})
    assert Presence.objects.get().ended_at is not None


def test_starting_opens_the_presenter_page(ctx, client_of):
    response = client_of("author").post(
        reverse("live_start", args=[ctx.deck.pk]), {"mode": "in_person"}
    )

    code = response["Location"].split("/")[2]
    page = client_of("author").get(response["Location"]).content.decode()
    assert response["Location"] == reverse("live_present", args=[code])
    assert code in page
    assert "Check in on site" in page
    assert "Ada" in page


def test_the_banner_lists_only_sessions_the_member_may_attend(ctx, client_of):
    mine = client_of("member").get(reverse("live_now")).content.decode()
    theirs = client_of("stranger").get(reverse("live_now")).content.decode()

    assert ctx.live.code in mine and ctx.hidden.code not in mine
    assert "A live session is on" in mine
    assert theirs.strip() == ""


def test_the_presentation_page_links_to_presenting_and_joining(ctx, client_of):
    url = reverse("viewer", args=[ctx.deck.pk])
    author_page = client_of("author").get(url).content.decode()
    member_page = client_of("member").get(url).content.decode()

    assert reverse("live_start", args=[ctx.deck.pk]) in author_page
    assert reverse("live_start", args=[ctx.deck.pk]) not in member_page
    assert reverse("live_attend", args=[ctx.live.code]) in member_page

"""Assembly pages: who may pick, insert, remove, replace, copy and write cards,
and what each does to the presentation."""

import json
from types import SimpleNamespace

import pytest
from django.urls import reverse

from entatio.engagement.models import ActivityRecord
from entatio.library.assembly import copy_slide, create_text_card
from entatio.library.models import Slide
from tests.test_web_access import (
    AUTHOR_CHANGE,
    AUTHOR_PAGE,
    LOGIN,
    Case,
    outcome,
    outcomes,
)
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import make_deck, slides_of

ASKING_ORDER = ("anonymous", "stranger", "outsider", "member", "author", "owner")
UNSHARED_CHANGE = outcomes(302, 302, 404, 404, 404, LOGIN)


@pytest.fixture
def ctx(portal, group, deck, secret, outsider, personas):
    card = create_text_card(deck, "Card", "Some *text*").slide
    return SimpleNamespace(
        portal=portal,
        deck=deck,
        secret=secret,
        deck_slides=slides_of(deck),
        secret_slides=slides_of(secret),
        card=card,
        persona="",
    )


def turn(ctx) -> int:
    """Author and owner each change a slide of their own, one after the other."""
    return 1 if ctx.persona == "owner" else 0


def deck_url(name: str, slide=None):
    def url(ctx) -> str:
        args = [ctx.deck.pk]
        if slide is not None:
            args.append(slide(ctx).pk)
        return reverse(name, args=args)

    return url


CASES = {
    "picker": Case(
        "get", lambda c: deck_url("slide_picker")(c) + "?q=roadmap", AUTHOR_PAGE
    ),
    "picker, replacing": Case(
        "get",
        lambda c: deck_url("slide_picker")(c) + f"?q=x&replace={c.deck_slides[0].pk}",
        AUTHOR_PAGE,
    ),
    "origins": Case("get", deck_url("slide_origins"), AUTHOR_PAGE),
    "insert": Case(
        "post",
        deck_url("insert_slides"),
        AUTHOR_CHANGE,
        data=lambda c: {"slides": [c.secret_slides[turn(c)].pk], "position": 0},
    ),
    "insert copies": Case(
        "post",
        deck_url("insert_slides"),
        AUTHOR_CHANGE,
        data=lambda c: {"slides": [c.secret_slides[0].pk], "copy": "on"},
    ),
    "remove": Case(
        "post",
        deck_url("remove_slide", lambda c: c.deck_slides[turn(c)]),
        AUTHOR_CHANGE,
    ),
    "replace": Case(
        "post",
        deck_url("replace_slide", lambda c: c.deck_slides[turn(c)]),
        AUTHOR_CHANGE,
        data=lambda c: {"replacement": c.secret_slides[turn(c)].pk},
    ),
    "copy page": Case(
        "get", deck_url("copy_slide_page", lambda c: c.deck_slides[0]), AUTHOR_PAGE
    ),
    "copy": Case(
        "post",
        deck_url("copy_slide", lambda c: c.deck_slides[0]),
        AUTHOR_CHANGE,
        data=lambda c: {"target": c.secret.pk},
    ),
    "copy from an unshared presentation": Case(
        "post",
        lambda c: reverse("copy_slide", args=[c.secret.pk, c.secret_slides[0].pk]),
        UNSHARED_CHANGE,
        data=lambda c: {"target": c.deck.pk},
    ),
    "add card": Case(
        "post",
        deck_url("add_text_card"),
        AUTHOR_CHANGE,
        data=lambda c: {"title": "Note", "text": "**Read me**"},
    ),
    "edit card": Case(
        "post",
        deck_url("edit_text_card", lambda c: c.card),
        AUTHOR_CHANGE,
        data=lambda c: {"text": f"Written by {c.persona}"},
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_permission_matrix(case: Case, ctx, client_of):
    got = {}
    for persona in ASKING_ORDER:
        ctx.persona = persona
        got[persona] = outcome(case, client_of(persona), ctx)

    assert got == {p: case.expect[p] for p in ASKING_ORDER}


def post(client, url: str, data: dict) -> dict:
    response = client.post(url, data, HTTP_ACCEPT="application/json")
    return {"status": response.status_code, **json.loads(response.content)}


def titles(presentation) -> list[str]:
    return [s.title for s in slides_of(presentation)]


def test_slides_picked_from_the_search_are_inserted_in_place(ctx, client_of):
    client = client_of("author")
    page = client.get(reverse("slide_picker", args=[ctx.deck.pk]), {"q": "roadmap"})
    found = [hit.slide.pk for hit in page.context["hits"]]
    assert found == [s.pk for s in ctx.secret_slides]
    assert 'form="insert-form"' in page.content.decode()

    answer = post(
        client,
        reverse("insert_slides", args=[ctx.deck.pk]),
        {"slides": list(reversed(found)), "position": 1},
    )

    assert answer["status"] == 200
    assert titles(ctx.deck)[:3] == ["Versioning 1", "Roadmap 2", "Roadmap 1"]


def test_inserting_a_slide_already_there_is_refused(ctx, client_of):
    answer = post(
        client_of("author"),
        reverse("insert_slides", args=[ctx.deck.pk]),
        {"slides": [ctx.deck_slides[0].pk]},
    )

    assert answer["status"] == 400
    assert "already in this presentation" in answer["error"]


def test_a_slide_of_another_portal_cannot_be_picked(ctx, client_of, other_portal):
    foreign = slides_of(make_deck(other_portal, "Theirs", ["red"]))[0]

    response = client_of("author").post(
        reverse("insert_slides", args=[ctx.deck.pk]), {"slides": [foreign.pk]}
    )

    assert response.status_code == 404
    assert len(titles(ctx.deck)) == 5


def test_a_copy_into_a_presentation_the_author_cannot_see_is_404(
    ctx, client_of, other_portal
):
    foreign = make_deck(other_portal, "Theirs", ["red"])

    response = client_of("author").post(
        reverse("copy_slide", args=[ctx.deck.pk, ctx.deck_slides[0].pk]),
        {"target": foreign.pk},
    )

    assert response.status_code == 404
    assert not Slide.objects.filter(copied_from=ctx.deck_slides[0]).exists()


def test_remove_archives_the_audience_records(ctx, client_of, member):
    removed = ctx.deck_slides[0]
    assert ActivityRecord.objects.get(member=member, slide=removed).archived is False

    response = client_of("author").post(
        reverse("remove_slide", args=[ctx.deck.pk, removed.pk])
    )

    assert response.status_code == 302
    assert removed not in slides_of(ctx.deck)
    assert ActivityRecord.objects.get(member=member, slide=removed).archived is True


def test_replace_from_the_picker(ctx, client_of, member):
    client = client_of("author")
    old = ctx.deck_slides[1]
    page = client.get(
        reverse("slide_picker", args=[ctx.deck.pk]),
        {"q": "roadmap", "replace": old.pk},
    )
    assert "Replace with this" in page.content.decode()

    new = ctx.secret_slides[0]
    answer = post(
        client,
        reverse("replace_slide", args=[ctx.deck.pk, old.pk]),
        {"replacement": new.pk},
    )

    assert answer["status"] == 200
    assert titles(ctx.deck)[1] == "Roadmap 1"
    assert ActivityRecord.objects.get(member=member, slide=new).archived is False
    assert ActivityRecord.objects.get(member=member, slide=old).archived is True


def test_copy_into_another_presentation_keeps_lineage(ctx, client_of):
    original = ctx.deck_slides[2]
    answer = post(
        client_of("author"),
        reverse("copy_slide", args=[ctx.deck.pk, original.pk]),
        {"target": ctx.secret.pk, "position": 0},
    )

    copy = Slide.objects.get(pk=answer["copy"])
    assert copy.copied_from == original
    assert titles(ctx.secret)[0] == "Versioning 3"


def test_the_origins_page_shows_where_slides_came_from(ctx, client_of):
    copy_slide(ctx.secret_slides[1], ctx.deck, at=0)

    page = client_of("author").get(reverse("slide_origins", args=[ctx.deck.pk]))
    html = page.content.decode()

    assert page.status_code == 200
    assert "A copy of “Roadmap 2”" in html
    assert "slide 2 of the upload Roadmap.pdf" in html
    assert "slide 1 of the upload Versioning.pdf" in html
    assert "a text card written here" in html
    assert f'href="{reverse("editor", args=[ctx.secret.pk])}"' in html


def test_a_card_is_written_and_its_text_changed(ctx, client_of):
    client = client_of("author")
    answer = post(
        client,
        reverse("add_text_card", args=[ctx.deck.pk]),
        {"title": "Agenda", "text": "1. Why\n2. How", "position": 0},
    )
    card = Slide.objects.get(pk=answer["card"])
    assert (card.kind, card.title) == (Slide.Kind.TEXT, "Agenda")
    assert titles(ctx.deck)[0] == "Agenda"

    post(
        client, reverse("edit_text_card", args=[ctx.deck.pk, card.pk]), {"text": "Now"}
    )
    card.refresh_from_db()
    assert (card.title, card.text) == ("Agenda", "Now")

    refused = post(client, reverse("add_text_card", args=[ctx.deck.pk]), {"text": " "})
    assert refused["status"] == 400


def test_the_editor_offers_the_assembly_tools(ctx, client_of):
    html = client_of("author").get(reverse("editor", args=[ctx.deck.pk])).content
    html = html.decode()

    assert reverse("slide_picker", args=[ctx.deck.pk]) in html
    assert reverse("remove_slide", args=[ctx.deck.pk, ctx.deck_slides[0].pk]) in html
    assert reverse("edit_text_card", args=[ctx.deck.pk, ctx.card.pk]) in html
    assert reverse("add_text_card", args=[ctx.deck.pk]) in html


@pytest.mark.parametrize(
    "fields",
    [{"slides": ["99999999999999999999999"]}, {"slides": ["0"]}],
    ids=["beyond any column", "zero"],
)
def test_an_impossible_slide_id_is_refused_not_a_crash(ctx, client_of, fields):
    answer = post(
        client_of("author"), reverse("insert_slides", args=[ctx.deck.pk]), fields
    )

    assert answer["status"] == 400
    assert answer["error"] == "Slides: Pick slides by their ids."
    assert len(titles(ctx.deck)) == 5

"""Who may open what: every page and endpoint against every persona.

Outsiders (same portal, not in the group) and strangers (another portal)
get 404 for what is not shared with them, as if it did not exist; a member
who may see a presentation but tries an author's action gets 403; anonymous
visitors are sent to the login page, or get 401 from script endpoints.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from entatio.engagement.models import Event, Share
from entatio.people.models import SharingGroup
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import (
    PERSONAS,
    png_bytes,
    slides_of,
    stored,
    viewed,
)

LOGIN = "login"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def outcomes(*codes: int | str) -> dict[str, int | str]:
    return dict(zip(PERSONAS, codes, strict=True))


EVERY_MEMBER = outcomes(200, 200, 200, 200, 200, LOGIN)
SHARED = outcomes(200, 200, 200, 404, 404, LOGIN)
UNSHARED = outcomes(200, 200, 404, 404, 404, LOGIN)
AUTHOR_PAGE = outcomes(200, 200, 403, 404, 404, LOGIN)
AUTHOR_CHANGE = outcomes(302, 302, 403, 404, 404, LOGIN)
UNSHARED_CHANGE = outcomes(302, 302, 404, 404, 404, LOGIN)
UNSHARED_PAGE = UNSHARED


@dataclass
class Case:
    method: str
    url: Callable[[Any], str]
    expect: dict[str, int | str]
    data: Callable[[Any], Any] = field(default=lambda ctx: {})
    as_json: bool = False


def slide_url(name: str, pick: Callable[[Any], Any]) -> Callable[[Any], str]:
    return lambda ctx: reverse(name, args=[pick(ctx).pk])


def deck_url(name: str, *extra: Callable[[Any], int]) -> Callable[[Any], str]:
    return lambda ctx: reverse(name, args=[ctx.deck.pk, *(f(ctx) for f in extra)])


def secret_url(name: str) -> Callable[[Any], str]:
    return lambda ctx: reverse(name, args=[ctx.secret.pk])


def first_slide(ctx: Any) -> int:
    return ctx.deck_slides[0].pk


def events_on(pick: Callable[[Any], Any], presentation: str) -> Callable[[Any], Any]:
    def batch(ctx: Any) -> dict:
        deck = getattr(ctx, presentation)
        event = viewed(pick(ctx), deck, T0, 3500, ctx.visit)
        return {"events": [event]}

    return batch


CASES = {
    "library": Case("get", lambda ctx: reverse("library"), EVERY_MEMBER),
    "switch_portal": Case(
        "post",
        lambda ctx: reverse("switch_portal"),
        outcomes(302, 302, 302, 302, 404, LOGIN),
        data=lambda ctx: {"portal": ctx.portal.pk},
    ),
    "upload page": Case(
        "get",
        lambda ctx: reverse("upload"),
        # The stranger is an author too, uploading into their own portal.
        outcomes(200, 200, 403, 403, 200, LOGIN),
    ),
    "upload file": Case(
        "post",
        lambda ctx: reverse("upload_file"),
        outcomes(201, 201, 403, 403, 201, 401),
        data=lambda ctx: {"file": ctx.png_file(), "title": "Colours"},
    ),
    "import status, shared": Case(
        "get",
        lambda ctx: reverse("source_status", args=[ctx.deck.source_id]),
        outcomes(200, 200, 403, 404, 404, 401),
    ),
    "import status, unshared": Case(
        "get",
        lambda ctx: reverse("source_status", args=[ctx.secret.source_id]),
        outcomes(200, 200, 404, 404, 404, 401),
    ),
    "viewer, shared": Case("get", deck_url("viewer"), SHARED),
    "viewer, unshared": Case("get", secret_url("viewer"), UNSHARED),
    "editor, shared": Case("get", deck_url("editor"), AUTHOR_PAGE),
    "editor, unshared": Case("get", secret_url("editor"), UNSHARED_PAGE),
    "rename": Case(
        "post",
        deck_url("rename_presentation"),
        AUTHOR_CHANGE,
        data=lambda ctx: {"title": "Renamed"},
    ),
    "edit slide": Case(
        "post",
        deck_url("edit_slide", first_slide),
        AUTHOR_CHANGE,
        data=lambda ctx: {"title": "New", "description": "Text"},
    ),
    "hide slide": Case(
        "post",
        deck_url("hide_slide", first_slide),
        AUTHOR_CHANGE,
        data=lambda ctx: {"hidden": "on"},
    ),
    "move slide": Case(
        "post",
        deck_url("move_slide", first_slide),
        AUTHOR_CHANGE,
        data=lambda ctx: {"direction": "down"},
    ),
    "reorder": Case(
        "post",
        deck_url("reorder_slides"),
        AUTHOR_CHANGE,
        data=lambda ctx: {
            "order": ",".join(str(s.pk) for s in reversed(ctx.deck_slides))
        },
    ),
    "share page, shared": Case("get", deck_url("share"), AUTHOR_PAGE),
    "share page, unshared": Case("get", secret_url("share"), UNSHARED_PAGE),
    "share with group": Case(
        "post",
        secret_url("share_with_group"),
        UNSHARED_CHANGE,
        data=lambda ctx: {"group": ctx.group.pk},
    ),
    "share with new group": Case(
        "post",
        deck_url("share_with_new_group"),
        AUTHOR_CHANGE,
        data=lambda ctx: {
            "name": f"Newcomers of {ctx.persona}",
            "members": [ctx.outsider.pk],
        },
    ),
    "revoke": Case(
        "post",
        deck_url("revoke_share", lambda ctx: ctx.group.pk),
        AUTHOR_CHANGE,
    ),
    "engagement, shared": Case("get", deck_url("engagement"), AUTHOR_PAGE),
    "engagement, unshared": Case("get", secret_url("engagement"), UNSHARED_PAGE),
    "engagement csv": Case("get", deck_url("engagement_csv"), AUTHOR_PAGE),
    "events, shown slide": Case(
        "post",
        lambda ctx: reverse("record_events"),
        outcomes(200, 200, 200, 404, 404, 401),
        data=events_on(lambda ctx: ctx.deck_slides[0], "deck"),
        as_json=True,
    ),
    "events, hidden slide": Case(
        "post",
        lambda ctx: reverse("record_events"),
        outcomes(200, 200, 404, 404, 404, 401),
        data=events_on(lambda ctx: ctx.deck_slides[3], "deck"),
        as_json=True,
    ),
    "events, unshared slide": Case(
        "post",
        lambda ctx: reverse("record_events"),
        outcomes(200, 200, 404, 404, 404, 401),
        data=events_on(lambda ctx: ctx.secret_slides[0], "secret"),
        as_json=True,
    ),
    "image, shown slide": Case(
        "get", slide_url("slide_image", lambda ctx: ctx.deck_slides[0]), SHARED
    ),
    "thumbnail, shown slide": Case(
        "get", slide_url("slide_thumbnail", lambda ctx: ctx.deck_slides[0]), SHARED
    ),
    "media, shown slide": Case(
        "get", slide_url("slide_media", lambda ctx: ctx.deck_slides[1]), SHARED
    ),
    "image, hidden slide": Case(
        "get", slide_url("slide_image", lambda ctx: ctx.deck_slides[3]), UNSHARED
    ),
    "thumbnail, hidden slide": Case(
        "get", slide_url("slide_thumbnail", lambda ctx: ctx.deck_slides[3]), UNSHARED
    ),
    "image, unshared slide": Case(
        "get", slide_url("slide_image", lambda ctx: ctx.secret_slides[0]), UNSHARED
    ),
    "thumbnail, unshared slide": Case(
        "get",
        slide_url("slide_thumbnail", lambda ctx: ctx.secret_slides[1]),
        UNSHARED,
    ),
}


@pytest.fixture
def ctx(portal, group, deck, secret, outsider, personas):
    slides = slides_of(deck)
    slides[1].media = stored("media/hello.html", b"<h1>Hello</h1>")
    slides[1].save(update_fields=["media"])
    return SimpleNamespace(
        portal=portal,
        group=group,
        deck=deck,
        secret=secret,
        outsider=outsider,
        deck_slides=slides,
        secret_slides=slides_of(secret),
        # A visit id the sender makes up; the intake starts it for them.
        visit="8d3c1f4e-2b1a-4c5d-9e6f-7a8b9c0d1e2f",
        png_file=lambda: _named_file("colours.png", png_bytes("orange")),
    )


def _named_file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


# Those refused go first, so each request meets the state the fixtures made.
ASKING_ORDER = ("anonymous", "stranger", "outsider", "member", "author", "owner")


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_permission_matrix(case: Case, ctx, client_of):
    got = {}
    for persona in ASKING_ORDER:
        ctx.persona = persona
        got[persona] = outcome(case, client_of(persona), ctx)

    assert got == {p: case.expect[p] for p in ASKING_ORDER}


def outcome(case: Case, client, ctx) -> int | str:
    url = case.url(ctx)
    data = case.data(ctx)
    if case.as_json:
        response = client.post(url, json.dumps(data), content_type="application/json")
    else:
        response = getattr(client, case.method)(url, data)

    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(reverse("login") + "?"):
        return LOGIN
    return response.status_code


def test_refused_events_store_nothing(ctx, client_of):
    client = client_of("member")
    batch = events_on(lambda c: c.secret_slides[0], "secret")(ctx)
    batch["events"].insert(0, viewed(ctx.deck_slides[0], ctx.deck, T0, 3000, ctx.visit))

    response = client.post(
        reverse("record_events"), json.dumps(batch), content_type="application/json"
    )

    assert response.status_code == 404
    assert Event.objects.count() == 0


def test_a_slide_cannot_be_claimed_under_another_presentation(ctx, client_of):
    """A shown slide named with a presentation that does not show it: 404."""
    event = viewed(ctx.secret_slides[0], ctx.deck, T0, 3000, ctx.visit)

    response = client_of("member").post(
        reverse("record_events"),
        json.dumps({"events": [event]}),
        content_type="application/json",
    )

    assert response.status_code == 404
    assert Event.objects.count() == 0


def test_slide_files_are_private_and_complete(ctx, client_of):
    slide = ctx.deck_slides[0]
    response = client_of("member").get(reverse("slide_image", args=[slide.pk]))

    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, max-age=3600"
    body = b"".join(response.streaming_content)
    with slide.image.open("rb") as f:
        assert body == f.read()


def test_an_html_slide_runs_sandboxed(ctx, client_of):
    response = client_of("member").get(
        reverse("slide_media", args=[ctx.deck_slides[1].pk])
    )

    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"] == "sandbox allow-scripts"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(response.streaming_content) == b"<h1>Hello</h1>"


def test_no_public_media_url(ctx, client_of):
    name = ctx.deck_slides[0].image.name
    for prefix in ("/media/", "/"):
        assert client_of("owner").get(prefix + name).status_code == 404


def test_a_group_of_another_portal_cannot_be_shared_with(
    ctx, client_of, other_portal, stranger
):
    foreign = SharingGroup.objects.create(portal=other_portal, name="Theirs")
    foreign.members.add(stranger)

    response = client_of("owner").post(
        reverse("share_with_group", args=[ctx.deck.pk]), {"group": foreign.pk}
    )
    assert response.status_code == 302
    assert not Share.objects.filter(group=foreign).exists()

    revoke = client_of("owner").post(
        reverse("revoke_share", args=[ctx.deck.pk, foreign.pk])
    )
    assert revoke.status_code == 404


def test_a_slide_of_another_presentation_cannot_be_edited_here(ctx, client_of):
    other = ctx.secret_slides[0]
    response = client_of("owner").post(
        reverse("edit_slide", args=[ctx.deck.pk, other.pk]), {"title": "Hijacked"}
    )

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.title == "Roadmap 1"


# Discussions and downloads. A post is written once per test, before the
# personas ask, by the persona named; a presentation is made downloadable, or
# given its original file, as its case asks.


def post_by(persona: str, presentation: str = "deck") -> Callable[[Any], Any]:
    def written(ctx: Any) -> Any:
        from entatio.discussions.posting import start_post

        key = f"post_of_{persona}_{presentation}"
        if not hasattr(ctx, key):
            writer = ctx.personas[persona]
            setattr(
                ctx, key, start_post(writer, getattr(ctx, presentation), None, "Hi")
            )
        return getattr(ctx, key)

    return written


def post_url(name: str, pick: Callable[[Any], Any]) -> Callable[[Any], str]:
    return lambda ctx: reverse(name, args=[pick(ctx).pk])


def thread_of(pick: Callable[[Any], Any], presentation: str) -> Callable[[Any], str]:
    def url(ctx: Any) -> str:
        deck = getattr(ctx, presentation)
        base = reverse("discussion_thread", args=[deck.pk])
        return f"{base}?slide={pick(ctx).pk}"

    return url


def download_url(name: str, presentation: str, allowed: bool) -> Callable[[Any], str]:
    def url(ctx: Any) -> str:
        deck = getattr(ctx, presentation)
        deck.downloadable = allowed
        deck.source.file = stored(f"sources/{deck.title}.pdf", b"%PDF-1.4 original")
        deck.source.save(update_fields=["file"])
        deck.save(update_fields=["downloadable"])
        return reverse(name, args=[deck.pk])

    return url


POSTED = outcomes(302, 302, 302, 404, 404, LOGIN)

DISCUSSION_CASES = {
    "discussion of a shown slide": Case(
        "get", thread_of(lambda ctx: ctx.deck_slides[0], "deck"), SHARED
    ),
    "discussion of a hidden slide": Case(
        "get", thread_of(lambda ctx: ctx.deck_slides[3], "deck"), UNSHARED
    ),
    "discussion of an unshared slide": Case(
        "get", thread_of(lambda ctx: ctx.secret_slides[0], "secret"), UNSHARED
    ),
    "discussion of a presentation": Case("get", deck_url("discussion_thread"), SHARED),
    "discussion of an unshared presentation": Case(
        "get", secret_url("discussion_thread"), UNSHARED
    ),
    "post on a shown slide": Case(
        "post",
        deck_url("discussion_post"),
        POSTED,
        data=lambda ctx: {"body": "Hello", "slide": ctx.deck_slides[0].pk},
    ),
    "post on a hidden slide": Case(
        "post",
        deck_url("discussion_post"),
        UNSHARED_CHANGE,
        data=lambda ctx: {"body": "Hello", "slide": ctx.deck_slides[3].pk},
    ),
    "post on an unshared presentation": Case(
        "post",
        secret_url("discussion_post"),
        UNSHARED_CHANGE,
        data=lambda ctx: {"body": "Hello"},
    ),
    "reply": Case(
        "post",
        deck_url("discussion_post"),
        POSTED,
        data=lambda ctx: {"body": "Yes", "parent": post_by("author")(ctx).pk},
    ),
    "edit a member's post": Case(
        "post",
        post_url("edit_post", post_by("member")),
        # Only its writer; authors moderate by deleting, never by rewording.
        outcomes(403, 403, 302, 404, 404, LOGIN),
        data=lambda ctx: {"body": f"Edited by {ctx.persona}"},
    ),
    "delete a member's post": Case(
        "post", post_url("delete_post", post_by("member")), POSTED
    ),
    "delete an author's post": Case(
        "post", post_url("delete_post", post_by("author")), AUTHOR_CHANGE
    ),
    "delete a post of an unshared presentation": Case(
        "post",
        post_url("delete_post", post_by("owner", "secret")),
        UNSHARED_CHANGE,
    ),
    "discussions page, shared": Case(
        "get", deck_url("presentation_discussions"), AUTHOR_PAGE
    ),
    "discussions page, unshared": Case(
        "get", secret_url("presentation_discussions"), UNSHARED_PAGE
    ),
    "download original, not downloadable": Case(
        "get", download_url("download_original", "deck", False), UNSHARED
    ),
    "download pdf, not downloadable": Case(
        "get", download_url("download_pdf", "deck", False), UNSHARED
    ),
    "download original, downloadable": Case(
        "get", download_url("download_original", "deck", True), SHARED
    ),
    "download pdf, downloadable": Case(
        "get", download_url("download_pdf", "deck", True), SHARED
    ),
    "download, downloadable but unshared": Case(
        "get", download_url("download_pdf", "secret", True), UNSHARED
    ),
    "allow downloads": Case(
        "post",
        deck_url("set_downloadable"),
        AUTHOR_CHANGE,
        data=lambda ctx: {"downloadable": "on"},
    ),
}


@pytest.fixture
def discussion_ctx(ctx, personas):
    from django.core.cache import cache

    # Posting is rate-limited in the cache, which outlives the database.
    cache.clear()
    ctx.personas = personas
    return ctx


@pytest.mark.parametrize("case", DISCUSSION_CASES.values(), ids=DISCUSSION_CASES.keys())
def test_discussion_and_download_permissions(case: Case, discussion_ctx, client_of):
    got = {}
    for persona in ASKING_ORDER:
        discussion_ctx.persona = persona
        got[persona] = outcome(case, client_of(persona), discussion_ctx)

    assert got == {p: case.expect[p] for p in ASKING_ORDER}

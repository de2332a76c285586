"""Slide media: byte ranges of videos, HTML slides in their sandbox, cards,
and the viewer's watch and interaction events."""

import io
import json
import re
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.urls import reverse

from entatio.engagement.models import ActivityRecord, Event
from entatio.library.assembly import create_text_card
from entatio.library.models import Slide
from entatio.web.views.media import (
    GRANT_SECONDS,
    ByteRange,
    Unsatisfiable,
    page_grant,
    requested_range,
)
from tests.test_web_access import ASKING_ORDER, SHARED, Case, outcome, outcomes
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of, stored

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
VIDEO = bytes(range(256)) * 40  # 10,240 bytes, each byte telling its offset
SITE = {
    "site/index.html": b'<link rel="stylesheet" href="style.css"><h1>Quiz</h1>',
    "site/style.css": b"h1 { color: teal }",
    "site/img/dot.svg": b"<svg xmlns='http://www.w3.org/2000/svg'/>",
    "site/": b"",
}


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


@pytest.fixture
def media(deck, secret, personas):
    """Slide 1 a video, 2 a page, 3 a site in a ZIP; the secret's 1 a video."""
    video, page, site, hidden = slides_of(deck)
    video.kind, video.media = Slide.Kind.VIDEO, stored("media/clip.mp4", VIDEO)
    page.kind, page.media = Slide.Kind.HTML, stored("media/page.html", b"<h1>Hi</h1>")
    site.kind, site.media = Slide.Kind.HTML, stored("media/site.zip", zip_bytes(SITE))
    for slide in (video, page, site):
        slide.save()
    unshared = slides_of(secret)[0]
    unshared.kind, unshared.media = Slide.Kind.HTML, site.media.name
    unshared.save()
    return SimpleNamespace(
        deck=deck,
        video=video,
        page=page,
        site=site,
        hidden=hidden,
        secret=unshared,
        personas=personas,
        persona="member",
    )


def body(response) -> bytes:
    return b"".join(response.streaming_content)


# --- Ranges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-99", (0, 99)),
        ("bytes=100-", (100, 999)),
        ("bytes=-10", (990, 999)),
        ("bytes=-5000", (0, 999)),
        ("bytes=990-5000", (990, 999)),
        ("", None),
        ("bytes=0-9,20-29", None),
        ("items=0-9", None),
        ("bytes=9-0", None),
        ("bytes=-", None),
    ],
)
def test_requested_range(header, expected):
    found = requested_range(header, 1000)
    assert (found.start, found.end) == expected if expected else found is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5000-6000", "bytes=-0"])
def test_unsatisfiable_ranges(header):
    with pytest.raises(Unsatisfiable):
        requested_range(header, 1000)


def test_a_range_length_counts_both_ends():
    assert ByteRange(10, 19).length == 10


def test_a_video_is_sent_whole_with_ranges_offered(media, client_of):
    response = client_of("member").get(reverse("slide_media", args=[media.video.pk]))

    assert response.status_code == 200
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(VIDEO))
    assert body(response) == VIDEO


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=256-511", 256, 511),
        ("bytes=10000-", 10000, 10239),
        ("bytes=-40", 10200, 10239),
    ],
)
def test_a_range_of_a_video(media, client_of, header, start, end):
    response = client_of("member").get(
        reverse("slide_media", args=[media.video.pk]), HTTP_RANGE=header
    )

    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {start}-{end}/{len(VIDEO)}"
    assert response["Content-Length"] == str(end - start + 1)
    assert body(response) == VIDEO[start : end + 1]


def test_a_range_past_the_end_is_416(media, client_of):
    response = client_of("member").get(
        reverse("slide_media", args=[media.video.pk]), HTTP_RANGE="bytes=20000-"
    )

    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{len(VIDEO)}"


def test_if_range_gets_the_whole_file(media, client_of):
    response = client_of("member").get(
        reverse("slide_media", args=[media.video.pk]),
        HTTP_RANGE="bytes=0-9",
        HTTP_IF_RANGE="Wed, 21 Oct 2015 07:28:00 GMT",
    )

    assert response.status_code == 200
    assert body(response) == VIDEO


def test_ranges_are_access_checked(media, client_of):
    url = reverse("slide_media", args=[media.video.pk])
    assert client_of("outsider").get(url, HTTP_RANGE="bytes=0-9").status_code == 404
    assert client_of("stranger").get(url, HTTP_RANGE="bytes=0-9").status_code == 404


# --- HTML slides ----------------------------------------------------------


def page_url(slide: Slide, path: str, member=None) -> str:
    grant = page_grant(slide, member) if member else "no-grant"
    return reverse("slide_page", args=[slide.pk, grant, path])


def test_a_page_is_served_sandboxed_without_cookies(media, client_of):
    client = client_of("member")
    # A fresh session has no portal picked yet: the page must not pick one.
    response = client.get(page_url(media.page, "index.html", media.personas["member"]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"] == "sandbox allow-scripts"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "Set-Cookie" not in str(response.serialize_headers())
    assert not response.cookies
    assert body(response) == b"<h1>Hi</h1>"


def test_a_single_page_has_no_other_files(media, client_of):
    response = client_of("member").get(
        page_url(media.page, "style.css", media.personas["member"])
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("site/index.html", "text/html"),
        ("site/style.css", "text/css"),
        ("site/img/dot.svg", "image/svg+xml"),
    ],
)
def test_a_site_is_served_by_path_inside_its_zip(media, client_of, path, content_type):
    response = client_of("member").get(
        page_url(media.site, path, media.personas["member"])
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Security-Policy"] == "sandbox allow-scripts"
    assert not response.cookies
    assert body(response) == SITE[path]


@pytest.mark.parametrize(
    "path",
    [
        "../media/page.html",
        "site/../site/index.html",
        "site/../../settings.py",
        "/etc/passwd",
        "site//index.html",
        "site/./index.html",
        "site\\index.html",
        "C:/site/index.html",
        "site/",
        "site/missing.html",
    ],
)
def test_paths_outside_the_zip_or_not_in_it_are_refused(media, client_of, path):
    response = client_of("member").get(
        page_url(media.site, path, media.personas["member"])
    )
    assert response.status_code == 404


def test_an_escaping_member_stored_in_a_zip_is_never_served(media, client_of):
    media.site.media = stored(
        "media/evil.zip", zip_bytes({"index.html": b"ok", "../escape.html": b"no"})
    )
    media.site.save()

    client = client_of("member")
    assert (
        client.get(
            page_url(media.site, "index.html", media.personas["member"])
        ).status_code
        == 200
    )
    assert (
        client.get(
            page_url(media.site, "../escape.html", media.personas["member"])
        ).status_code
        == 404
    )


def test_pages_are_access_checked(media, client_of):
    for persona, expected in [("outsider", 404), ("stranger", 404), ("owner", 200)]:
        response = client_of(persona).get(
            page_url(media.secret, "site/index.html", media.personas[persona])
        )
        assert response.status_code == expected, persona
    assert (
        client_of("member")
        .get(page_url(media.video, "index.html", media.personas["member"]))
        .status_code
        == 404
    )


# Pages are opened with a grant of the persona's own, made by the viewer;
# without one (anonymous) there is nothing to find.
PAGE_SHARED = outcomes(200, 200, 200, 404, 404, 404)
PAGE_UNSHARED = outcomes(200, 200, 404, 404, 404, 404)


def own_page(ctx, slide: Slide, path: str) -> str:
    return page_url(slide, path, ctx.personas[ctx.persona])


MATRIX = {
    "video range, shown slide": Case(
        "get", lambda ctx: reverse("slide_media", args=[ctx.video.pk]), SHARED
    ),
    "page, shown slide": Case(
        "get", lambda ctx: own_page(ctx, ctx.page, "index.html"), PAGE_SHARED
    ),
    "site file, shown slide": Case(
        "get", lambda ctx: own_page(ctx, ctx.site, "site/style.css"), PAGE_SHARED
    ),
    "site file, unshared slide": Case(
        "get", lambda ctx: own_page(ctx, ctx.secret, "site/style.css"), PAGE_UNSHARED
    ),
    "page, hidden slide": Case(
        "get", lambda ctx: own_page(ctx, ctx.hidden, "index.html"), PAGE_UNSHARED
    ),
}


@pytest.mark.parametrize("case", MATRIX.values(), ids=MATRIX.keys())
def test_permission_matrix(case, media, client_of, personas):
    media.hidden.kind, media.hidden.media = Slide.Kind.HTML, media.page.media.name
    media.hidden.save()

    got = {}
    for persona in ASKING_ORDER:
        media.persona = persona
        got[persona] = outcome(case, client_of(persona), media)

    assert got == {p: case.expect[p] for p in ASKING_ORDER}


# --- The viewer -----------------------------------------------------------


def test_the_viewer_frames_html_slides_in_a_sandbox(media, client_of):
    response = client_of("member").get(
        reverse("viewer", args=[media.deck.pk]) + "?slide=3"
    )
    html = response.content.decode()

    frame = re.search(r'<iframe sandbox="allow-scripts" src="([^"]+)"', html)
    assert frame is not None
    assert "allow-same-origin" not in html
    # The page opens at the site's index, under a grant for this member.
    site = f"/slides/{media.site.pk}/page/"
    assert frame[1].startswith(site) and frame[1].endswith("/site/index.html")
    data = response.context["slide_data"]
    page = f"/slides/{media.page.pk}/page/"
    assert data[1]["page"].startswith(page) and data[1]["page"].endswith("/index.html")
    assert client_of("member").get(frame[1]).status_code == 200
    assert data[0]["media"] == reverse("slide_media", args=[media.video.pk])


def test_a_text_card_is_shown_sanitized(deck, client_of):
    create_text_card(
        deck,
        "Welcome",
        "# Hello\n\n<script>alert(1)</script> **bold** [x](javascript:y)",
        at=0,
    )

    response = client_of("member").get(reverse("viewer", args=[deck.pk]))
    html = response.content.decode()

    assert "<h1>Hello</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="javascript' not in html
    card = response.context["slide_data"][0]
    assert card["html"].startswith("<h1>Hello</h1>")


def watched(slide, deck, ms, furthest, visit="visit-1", verb="watched") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "slide": slide.pk,
        "presentation": deck.pk,
        "verb": verb,
        "at": T0.isoformat(),
        "duration_ms": ms,
        "furthest_ms": furthest,
        "visit": visit,
    }


def post_events(client, *events):
    return client.post(
        reverse("record_events"),
        json.dumps({"events": list(events)}),
        content_type="application/json",
    )


def test_watched_time_is_stored_and_makes_the_slide_seen(media, client_of, member):
    response = post_events(
        client_of("member"),
        watched(media.video, media.deck, 2000, 2000),
        watched(media.video, media.deck, 1500, 6500),
    )

    assert response.status_code == 200
    assert response.json()["stored"] == 2
    events = Event.objects.filter(verb="watched").order_by("duration_ms")
    assert [(e.duration_ms, e.statement["furthest_ms"]) for e in events] == [
        (1500, 6500),
        (2000, 2000),
    ]
    record = ActivityRecord.objects.get(member=member, slide=media.video)
    assert (record.visits, record.dwell_ms) == (1, 3500)


def test_interactions_are_stored_but_are_not_time_on_screen(media, client_of, member):
    response = post_events(
        client_of("member"), watched(media.site, media.deck, 0, 0, verb="interacted")
    )

    assert response.status_code == 200
    assert Event.objects.get().verb == "interacted"
    record = ActivityRecord.objects.get(member=member, slide=media.site)
    assert (record.visits, record.dwell_ms) == (0, 0)


@pytest.mark.parametrize("furthest", [-1, "12", 1.5, True])
def test_a_bad_furthest_point_is_refused(media, client_of, furthest):
    event = watched(media.video, media.deck, 1000, 0)
    event["furthest_ms"] = furthest

    response = post_events(client_of("member"), event)

    assert response.status_code == 400
    assert Event.objects.count() == 0


def test_other_verbs_stay_refused(media, client_of):
    response = post_events(
        client_of("member"), watched(media.video, media.deck, 0, 0, verb="commented")
    )
    assert response.status_code == 400


# --- Grants ---------------------------------------------------------------


def test_a_grant_opens_the_page_without_cookies(media, client_of):
    """The sandboxed page's own requests carry no session; the grant is enough."""
    url = page_url(media.site, "site/style.css", media.personas["member"])

    response = client_of("anonymous").get(url)

    assert response.status_code == 200
    assert response["Referrer-Policy"] == "no-referrer"
    assert body(response) == SITE["site/style.css"]


def test_a_grant_is_for_one_slide(media, client_of):
    grant = page_grant(media.page, media.personas["member"])
    url = reverse("slide_page", args=[media.site.pk, grant, "site/index.html"])
    assert client_of("member").get(url).status_code == 404


def test_a_tampered_grant_is_refused(media, client_of):
    grant = page_grant(media.site, media.personas["member"])
    forged = grant.replace(f"{media.site.pk}-", f"{media.secret.pk}-", 1)
    url = reverse("slide_page", args=[media.secret.pk, forged, "site/index.html"])
    assert client_of("member").get(url).status_code == 404


def test_a_grant_expires(media, client_of):
    import time_machine

    url = page_url(media.site, "site/index.html", media.personas["member"])
    later = datetime.now(UTC) + timedelta(seconds=GRANT_SECONDS + 60)
    with time_machine.travel(later):
        assert client_of("anonymous").get(url).status_code == 404


def test_a_grant_ends_with_the_access(media, client_of, group):
    member = media.personas["member"]
    url = page_url(media.site, "site/index.html", member)
    assert client_of("anonymous").get(url).status_code == 200

    group.members.remove(member)

    assert client_of("anonymous").get(url).status_code == 404

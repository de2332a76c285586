"""A video slide played in the viewer, and an interactive slide in its sandbox.

The video is made here with PyAV (VP8 in WebM, which every Chromium plays),
played to its end at four times the speed, and the "watched" event and the
record it makes are read from the database. The HTML slide is a small site
in a ZIP: its page, stylesheet and script load in a sandboxed frame, and
stepping into it is reported as an "interacted" event.
"""

import io
import re
import time
import zipfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect

from entatio.engagement.access import share_presentation
from entatio.engagement.models import ActivityRecord, Event
from entatio.library.models import Presentation, PresentationSlide, Slide
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import png_bytes, stored

pytestmark = pytest.mark.browser

VIDEO_SECONDS = 4
FPS = 10
SITE = {
    "quiz/index.html": (
        b'<!doctype html><link rel="stylesheet" href="quiz.css">'
        b'<h1 id="q">Which branch?</h1><button id="answer">Main</button>'
        b'<script src="quiz.js"></script>'
    ),
    "quiz/quiz.css": b"h1 { color: rgb(0, 128, 128); }",
    # A sandboxed page without same-origin may not even ask for cookies.
    "quiz/quiz.js": (
        b"function cookies() { try { return document.cookie || 'none'; }"
        b" catch (error) { return 'refused'; } }"
        b"document.getElementById('answer').addEventListener('click', function ()"
        b" { document.getElementById('q').textContent = 'Cookies: ' + cookies(); });"
    ),
}


def make_video(path: Path) -> Path:
    """Four seconds of a square moving across a dark picture."""
    with av.open(str(path), "w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.codec_context.time_base = Fraction(1, FPS)
        for index in range(VIDEO_SECONDS * FPS):
            picture = np.full((96, 160, 3), 30, dtype=np.uint8)
            picture[30:60, index * 3 : index * 3 + 30] = (240, 180, 20)
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def media_deck(portal, group, video: Path) -> Presentation:
    presentation = Presentation.objects.create(portal=portal, title="Media tour")
    clip = Slide.objects.create(
        portal=portal,
        kind=Slide.Kind.VIDEO,
        title="Branching in a minute",
        image=stored("slides/clip.png", png_bytes("black", (160, 96))),
        media=stored("media/clip.webm", video.read_bytes()),
        duration_seconds=VIDEO_SECONDS,
    )
    quiz = Slide.objects.create(
        portal=portal,
        kind=Slide.Kind.HTML,
        title="Quiz",
        media=stored("media/quiz.zip", zip_bytes(SITE)),
    )
    for position, slide in enumerate([clip, quiz]):
        PresentationSlide.objects.create(
            presentation=presentation, slide=slide, position=position
        )
    share_presentation(presentation, group)
    return presentation


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    """Poll the server's state for what the page sent in the background."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def open_viewer(browser: Browser, base: str, member, deck) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("User name or e-mail").fill(member.email)
    page.get_by_label("Password").fill("pw-" + member.email)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()
    page.goto(f"{base}/presentations/{deck.pk}/")
    expect(page.locator("#counter")).to_have_text("Slide 1 of 2")
    return page


def test_a_video_played_to_the_end_is_watched_and_seen(
    browser: Browser, live_server, portal, group, member, tmp_path
):
    deck = media_deck(portal, group, make_video(tmp_path / "clip.webm"))
    clip = deck.places.get(position=0).slide
    page = open_viewer(browser, live_server.url, member, deck)

    video = page.locator("#stage video")
    expect(video).to_have_attribute("src", f"/slides/{clip.pk}/media/")
    with page.expect_response(re.compile(r"/events/$")) as sent:
        page.evaluate(
            """() => {
                const v = document.querySelector('#stage video');
                v.muted = true;
                v.playbackRate = 4;
                return v.play();
            }"""
        )
        expect(video).to_have_js_property("ended", True, timeout=20_000)
    assert sent.value.json()["stored"] >= 1

    wait_for(lambda: Event.objects.filter(verb="watched").exists(), "watched")
    watched = list(Event.objects.filter(verb="watched", slide=clip))
    played = sum(e.duration_ms for e in watched)
    furthest = max(e.statement["furthest_ms"] for e in watched)
    # Every second of the video played once; looks come every quarter second.
    assert VIDEO_SECONDS * 1000 - 600 <= played <= VIDEO_SECONDS * 1000
    assert VIDEO_SECONDS * 1000 - 600 <= furthest <= VIDEO_SECONDS * 1000
    record = ActivityRecord.objects.get(member=member, slide=clip)
    assert record.visits == 1
    assert record.dwell_ms >= played


def test_an_interactive_slide_runs_in_its_sandbox(
    browser: Browser, live_server, portal, group, member, tmp_path
):
    deck = media_deck(portal, group, make_video(tmp_path / "clip.webm"))
    quiz = deck.places.get(position=1).slide
    page = open_viewer(browser, live_server.url, member, deck)

    page.keyboard.press("ArrowRight")
    frame = page.locator("#stage iframe")
    expect(frame).to_have_attribute("sandbox", "allow-scripts")
    expect(frame).to_have_attribute(
        "src", re.compile(rf"^/slides/{quiz.pk}/page/[^/]+/quiz/index\.html$")
    )

    inside = page.frame_locator("#stage iframe")
    heading = inside.locator("#q")
    expect(heading).to_have_text("Which branch?")
    expect(heading).to_have_css("color", "rgb(0, 128, 128)")
    with page.expect_response(re.compile(r"/events/$")):
        inside.get_by_role("button", name="Main").click()
    # The site's script ran, and saw none of the application's cookies.
    expect(heading).to_have_text("Cookies: refused")

    wait_for(
        lambda: Event.objects.filter(verb="interacted", slide=quiz).exists(),
        "the interacted event",
    )

"""Upload, share, view in two visits, and read the four record states.

The author uploads a small deck made here, shares it with a new group and
logs out; the member pages through it twice, with more than 30 minutes
between the visits on the page's clock, so the server's visit rule decides
that the second sitting is a new visit; then the author reads the states.
"""

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pptx import Presentation as Deck
from pptx.util import Inches

from entatio.engagement.models import Event, Visit
from entatio.library.models import Presentation
from tests.browser.clock import pause_now

pytestmark = [pytest.mark.browser, pytest.mark.soffice]

SLIDE_TITLES = ["Why versions matter", "Branching", "Merging", "Releases"]
SLOW_IMPORT_MS = 180_000


def make_deck(path: Path) -> Path:
    deck = Deck()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    for number, title in enumerate(SLIDE_TITLES, start=1):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"Point {number}: what a team should know."
        slide.notes_slide.notes_text_frame.text = f"Notes for {title.lower()}."
    deck.save(path)
    return path


def log_in(page: Page, base: str, email: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name or e-mail").fill(email)
    page.get_by_label("Password").fill("pw-" + email)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
    """Poll the server's state for what the page sent in the background."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def shoot(page: Page, folder: Path | None, name: str) -> None:
    if folder is not None:
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def stay(page: Page, ms: int) -> None:
    page.clock.run_for(ms)


def test_upload_share_view_twice_and_read_states(
    browser: Browser, live_server, author, member, tmp_path, screenshots
):
    base = live_server.url
    deck_file = make_deck(tmp_path / "Version control.pptx")

    # The author uploads, sees the progress and the slides, and shares.
    author_context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = author_context.new_page()
    log_in(page, base, author.email)
    page.get_by_role("link", name="Upload", exact=True).first.click()
    expect(page.get_by_role("heading", name="Upload", exact=True)).to_be_visible()

    page.locator("#upload-files").set_input_files(str(deck_file))
    item = page.locator(".upload-item").first
    expect(item.locator(".name")).to_have_text("Version control.pptx")
    expect(item.locator(".state")).to_have_text(
        "Ready: 4 slides", timeout=SLOW_IMPORT_MS
    )
    expect(item.locator("progress")).to_have_attribute("value", "1")
    shoot(page, screenshots, "1-upload")

    item.get_by_role("link", name=re.compile("Edit slides")).click()
    expect(page.get_by_role("heading", name="Edit slides")).to_be_visible()
    rows = page.locator(".slide-row")
    expect(rows).to_have_count(4)
    for row, title in zip(rows.all(), SLIDE_TITLES, strict=True):
        expect(row.get_by_label("Title")).to_have_value(title)
        expect(row.locator(".thumb img")).to_have_js_property("complete", True)
        assert row.locator(".thumb img").evaluate("i => i.naturalWidth") > 0
    shoot(page, screenshots, "2-editor")

    page.get_by_role("link", name="Share").first.click()
    page.get_by_label("Group name").fill("Pilot customers")
    page.get_by_label(re.compile("Ada")).check()
    page.get_by_role("button", name="Create and share").click()
    expect(page.locator("#shares")).to_contain_text("Pilot customers")
    expect(page.locator("#shares")).to_contain_text("1 member")
    shoot(page, screenshots, "3-share")
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in to Entatio")).to_be_visible()

    presentation = Presentation.objects.get()
    slide_ids = [p.slide_id for p in presentation.places.order_by("position")]

    # The member's first visit: slides 1 and 2 for four seconds each.
    member_context = browser.new_context(viewport={"width": 1280, "height": 900})
    member_context.clock.install(time=timezone.now())
    page = member_context.new_page()
    log_in(page, base, member.email)
    cover = page.locator(".card .thumb img")
    expect(cover).to_have_count(1)
    expect(cover).to_have_js_property("complete", True)
    shoot(page, screenshots, "4-member-library")
    page.get_by_role("link", name="Version control").click()
    expect(page.locator("#counter")).to_have_text("Slide 1 of 4")
    expect(page.locator("#slide-title")).to_have_text(SLIDE_TITLES[0])
    first_visit = viewer_visit(page)
    pause_now(page)

    stay(page, 4000)
    with page.expect_response(re.compile(r"/events/$")) as sent:
        page.keyboard.press("ArrowRight")
    assert sent.value.json()["stored"] == 1
    expect(page.locator("#counter")).to_have_text("Slide 2 of 4")
    expect(page.locator("#slide-title")).to_have_text(SLIDE_TITLES[1])
    shoot(page, screenshots, "5-viewer")
    stay(page, 4000)
    page.get_by_role("link", name="Back to the library").click()
    wait_for(lambda: Event.objects.count() == 2, "the beacon of the first visit")

    # Over 30 minutes later on the page's clock, a second visit: slide 1.
    page.clock.fast_forward("31:00")
    page.get_by_role("link", name="Version control").click()
    expect(page.locator("#counter")).to_have_text("Slide 1 of 4")
    page_visit = viewer_visit(page)
    stay(page, 4000)
    page.get_by_role("link", name="Back to the library").click()
    wait_for(lambda: Event.objects.count() == 3, "the beacon of the second visit")

    # The page still named the first visit; the server's gap rule split it.
    assert page_visit == first_visit
    last = Event.objects.order_by("at").last()
    assert last.slide_id == slide_ids[0]
    assert str(last.visit_id) != first_visit
    assert Visit.objects.filter(member=member, presentation=presentation).count() == 2

    # The author reads the states.
    page = author_context.new_page()
    log_in(page, base, author.email)
    shoot(page, screenshots, "7-author-library")
    page.goto(f"{base}/presentations/{presentation.pk}/engagement/")
    shoot(page, screenshots, "6-engagement")

    cells = page.locator(f'#grid tr[data-member="{member.email}"] td.cell')
    expect(cells).to_have_count(4)
    states = [c.get_attribute("data-state") for c in cells.all()]
    assert states == ["viewed_again", "viewed", "not_yet_viewed", "not_yet_viewed"]

    assert slide_counts(page, slide_ids) == [
        [0, 1, 0, 1],
        [0, 1, 1, 0],
        [1, 0, 0, 0],
        [1, 0, 0, 0],
    ]
    totals = page.locator("#totals .total .value").all_inner_texts()
    assert totals == ["2", "2", "1", "1"]

    member_context.close()
    author_context.close()


def viewer_visit(page: Page) -> str:
    return page.evaluate(
        "JSON.parse(document.getElementById('viewer-config').textContent).visit"
    )


def slide_counts(page: Page, slide_ids: list[int]) -> list[list[int]]:
    """Per slide, members in each state, in the order of the table's columns."""
    rows = []
    for slide_id in slide_ids:
        cells = page.locator(
            f'#slide-counts tr[data-slide="{slide_id}"] td[data-state]'
        )
        rows.append([int(text) for text in cells.all_inner_texts()])
    return rows

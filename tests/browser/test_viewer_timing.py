"""The viewer's own rules: attended time only, idle cut-off, resending.

The page's clock is paused and moved by the test, so every duration the
script reports is exact.
"""

import re
import time
from collections.abc import Callable

import pytest
from django.db.models import Sum
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from entatio.engagement.models import ActivityRecord, Event
from tests.browser.clock import pause_now
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of

pytestmark = pytest.mark.browser

MINUTE = 60_000


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def open_viewer(browser: Browser, base: str, member, deck) -> Page:
    context = browser.new_context()
    context.clock.install(time=timezone.now())
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("User name or e-mail").fill(member.email)
    page.get_by_label("Password").fill("pw-" + member.email)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()

    # Paused before the viewer loads, so its first stretch starts at zero.
    pause_now(page)
    page.goto(f"{base}/presentations/{deck.pk}/")
    expect(page.locator("#counter")).to_have_text("Slide 1 of 3")
    return page


def set_focus(page: Page, focused: bool) -> None:
    """What the window manager would do; headless pages always report focus."""
    page.evaluate(
        """focused => {
            document.hasFocus = () => focused;
            window.dispatchEvent(new Event(focused ? "focus" : "blur"));
        }""",
        focused,
    )


def set_visible(page: Page, visible: bool) -> None:
    page.evaluate(
        """visible => {
            Object.defineProperty(document, "visibilityState", {
                configurable: true, get: () => visible ? "visible" : "hidden",
            });
            document.dispatchEvent(new Event("visibilitychange"));
        }""",
        visible,
    )


def dwell_on(slide) -> int:
    total = Event.objects.filter(slide=slide).aggregate(ms=Sum("duration_ms"))
    return total["ms"] or 0


def test_only_attended_time_counts(browser: Browser, live_server, deck, member):
    page = open_viewer(browser, live_server.url, member, deck)
    first = slides_of(deck)[0]

    page.clock.run_for(2000)
    set_focus(page, False)
    page.clock.run_for(10_000)
    set_focus(page, True)
    page.clock.run_for(1000)
    set_visible(page, False)
    page.clock.run_for(20_000)
    set_visible(page, True)
    page.clock.run_for(1000)

    # Reading without touching anything counts for five minutes, no more.
    page.mouse.move(10, 10)
    page.clock.run_for(9 * MINUTE)
    page.mouse.move(20, 20)
    page.clock.run_for(1500)
    page.keyboard.press("ArrowRight")

    expected = 2000 + 1000 + 1000 + 5 * MINUTE + 1500
    wait_for(lambda: dwell_on(first) == expected, f"{expected} ms on slide 1")
    assert ActivityRecord.objects.get(member=member, slide=first).visits == 1
    page.context.close()


def test_unsent_events_wait_in_the_browser(browser: Browser, live_server, deck, member):
    page = open_viewer(browser, live_server.url, member, deck)
    first, second, *_ = slides_of(deck)
    queue = f"localStorage.getItem('entatio:events:{member.pk}')"

    page.context.set_offline(True)
    page.clock.run_for(4000)
    page.keyboard.press("ArrowRight")
    page.clock.run_for(3000)
    page.keyboard.press("ArrowRight")
    wait_for(
        lambda: len(page.evaluate(f"JSON.parse({queue})")) == 2, "two queued events"
    )
    assert Event.objects.count() == 0

    # Back online, the leaving page's beacon and the new page both send the
    # queue; the server keeps each event once.
    page.context.set_offline(False)
    with page.expect_response(re.compile(r"/events/$")) as answer:
        page.reload()
    sent = answer.value.json()
    assert sent["stored"] + sent["duplicates"] == 2
    wait_for(lambda: page.evaluate(f"JSON.parse({queue})") == [], "an empty queue")

    assert Event.objects.count() == 2
    assert (dwell_on(first), dwell_on(second)) == (4000, 3000)
    page.context.close()

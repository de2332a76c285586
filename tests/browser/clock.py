"""Control of a page's clock that holds on a busy machine."""

from datetime import UTC, datetime

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page


def pause_now(page: Page) -> None:
    """Stop the page's clock so only the test moves it.

    The clock runs until the pause; on a busy machine it can pass the mark
    before the pause arrives, and then a later mark is tried.
    """
    for _ in range(10):
        now = page.evaluate("Date.now()")
        try:
            page.clock.pause_at(datetime.fromtimestamp((now + 250) / 1000, tz=UTC))
            return
        except PlaywrightError as error:
            if "past" not in str(error):
                raise
    raise AssertionError("the page clock could not be paused")

"""A presenter moves to the next slide and the audience's page follows.

pytest-django's live server speaks WSGI only, so this test serves the ASGI
application (pages and WebSockets) with uvicorn on a free loopback port.
"""

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, Page, expect

from entatio.live.sessions import start_session
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of

pytestmark = pytest.mark.browser


@pytest.fixture
def asgi_server(transactional_db) -> Iterator[str]:
    import uvicorn

    from entatio.asgi import application

    channel_layers.backends.clear()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(application, lifespan="off", log_level="warning")
    )
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listening]}, daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)  # waiting for a server to listen, not for the product

    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    listening.close()
    channel_layers.backends.clear()


def signed_in_page(browser: Browser, someone) -> Page:
    client = Client()
    client.force_login(someone.user)
    context = browser.new_context()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "domain": "127.0.0.1",
                "path": "/",
            }
        ]
    )
    return context.new_page()


def test_the_audience_follows_the_presenter(
    browser: Browser, asgi_server: str, owner, member, deck, screenshots
):
    slides = slides_of(deck)
    session = start_session(owner, deck, "virtual")

    audience = signed_in_page(browser, member)
    audience.goto(f"{asgi_server}/live/{session.code}/")
    expect(audience.locator("#live")).to_have_attribute("data-connected", "true")
    expect(audience.locator("#counter")).to_have_text("Slide 1 of 3")

    presenter = signed_in_page(browser, owner)
    presenter.goto(f"{asgi_server}/live/{session.code}/present/")
    expect(presenter.locator("#live")).to_have_attribute("data-connected", "true")
    expect(presenter.locator("#present-count")).to_have_text("1")
    expect(presenter.locator("#present-list")).to_contain_text("Ada (online)")

    presenter.get_by_role("button", name="Next").click()
    expect(presenter.locator("#counter")).to_have_text("Slide 2 of 3")
    expect(audience.locator("#counter")).to_have_text("Slide 2 of 3")
    followed = audience.locator("#current-slide img")
    expect(followed).to_have_attribute("data-slide", str(slides[1].pk))
    expect(followed).to_have_attribute("src", f"/slides/{slides[1].pk}/image/")
    # The image arrives through the access-checked view, for this member.
    expect(followed).to_have_js_property("complete", True)
    assert followed.evaluate("img => img.naturalWidth") == 160

    presenter.keyboard.press("ArrowRight")
    expect(audience.locator("#counter")).to_have_text("Slide 3 of 3")
    if screenshots:
        presenter.screenshot(path=screenshots / "live-presenter.png")
        audience.screenshot(path=screenshots / "live-audience.png")

    presenter.get_by_role("button", name="End the session").click()
    expect(audience.locator("#live-note")).to_have_text("This live session has ended.")

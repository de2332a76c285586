"""The viewer's discussion panels: post about a slide without leaving it."""

import pytest
from playwright.sync_api import Browser, Page, expect

from entatio.discussions.models import Post
from entatio.engagement.models import Event
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import slides_of

pytestmark = pytest.mark.browser


def open_viewer(browser: Browser, base: str, member, deck) -> Page:
    page = browser.new_context().new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("User name or e-mail").fill(member.email)
    page.get_by_label("Password").fill("pw-" + member.email)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()

    page.goto(f"{base}/presentations/{deck.pk}/")
    expect(page.locator("#counter")).to_have_text("Slide 1 of 3")
    return page


def test_a_post_on_a_slide_appears_in_its_panel(
    browser: Browser, live_server, deck, member
):
    slides = slides_of(deck)
    page = open_viewer(browser, live_server.url, member, deck)
    slide_panel = page.locator("#slide-discussion")
    deck_panel = page.locator("#presentation-discussion")
    expect(slide_panel.locator(f'[data-thread="s{slides[0].pk}"]')).to_be_visible()
    expect(slide_panel.get_by_text("No posts yet.")).to_be_visible()

    page.locator("#next").click()
    expect(page.locator("#counter")).to_have_text("Slide 2 of 3")
    expect(slide_panel.locator(f'[data-thread="s{slides[1].pk}"]')).to_be_visible()

    box = slide_panel.get_by_label("Post about this slide")
    box.fill("Why is **green** second?")
    # Arrow keys move the cursor in the box; they do not page the deck.
    box.press("ArrowLeft")
    slide_panel.get_by_role("button", name="Post", exact=True).click()

    written = slide_panel.locator(".post-body").first
    expect(written).to_have_text("Why is green second?")
    expect(written.locator("strong")).to_have_text("green")
    expect(page.locator("#counter")).to_have_text("Slide 2 of 3")
    expect(page).to_have_url(f"{live_server.url}/presentations/{deck.pk}/?slide=2")
    expect(deck_panel.get_by_text("No posts yet.")).to_be_visible()

    post = Post.objects.get()
    assert (post.author, post.slide, post.body) == (
        member,
        slides[1],
        "Why is **green** second?",
    )
    event = Event.objects.get(verb="commented")
    assert (event.member, event.slide, event.presentation) == (member, slides[1], deck)

    # The panel follows the slide on the stage, there and back.
    page.locator("#previous").click()
    expect(slide_panel.locator(f'[data-thread="s{slides[0].pk}"]')).to_be_visible()
    expect(slide_panel.get_by_text("No posts yet.")).to_be_visible()
    page.locator("#next").click()
    expect(slide_panel.locator(".post-body").first).to_have_text("Why is green second?")


def test_replies_and_posts_about_the_whole_presentation(
    browser: Browser, live_server, deck, member
):
    page = open_viewer(browser, live_server.url, member, deck)
    deck_panel = page.locator("#presentation-discussion")

    deck_panel.get_by_label("Post about the presentation").fill("Great deck")
    deck_panel.get_by_role("button", name="Post", exact=True).click()
    expect(deck_panel.locator(".post-body")).to_have_text("Great deck")

    deck_panel.locator("details.reply summary").click()
    deck_panel.get_by_label("Your reply").fill("Agreed")
    deck_panel.get_by_role("button", name="Reply", exact=True).click()
    expect(deck_panel.locator(".replies .post-body")).to_have_text("Agreed")

    expect(
        page.locator("#slide-discussion").get_by_text("No posts yet.")
    ).to_be_visible()
    first, reply = Post.objects.order_by("pk")
    assert first.slide is None and reply.parent == first


def test_a_too_long_post_says_why_in_the_panel(
    browser: Browser, live_server, deck, member
):
    page = open_viewer(browser, live_server.url, member, deck)
    slide_panel = page.locator("#slide-discussion")

    slide_panel.get_by_label("Post about this slide").fill("x" * 5001)
    slide_panel.get_by_role("button", name="Post", exact=True).click()

    expect(slide_panel.get_by_role("alert")).to_have_text(
        "A post can be at most 5,000 characters long; this one has 5,001."
    )
    expect(slide_panel.get_by_label("Post about this slide")).to_have_value("x" * 5001)
    assert Post.objects.count() == 0


def test_a_post_lost_on_the_way_keeps_its_draft(
    browser: Browser, live_server, deck, member
):
    page = open_viewer(browser, live_server.url, member, deck)
    slide_panel = page.locator("#slide-discussion")
    expect(slide_panel.get_by_text("No posts yet.")).to_be_visible()
    page.route("**/discussion/posts/", lambda route: route.abort())

    slide_panel.get_by_label("Post about this slide").fill("Still here")
    slide_panel.get_by_role("button", name="Post", exact=True).click()

    expect(slide_panel.get_by_role("alert")).to_have_text(
        "Your post could not be sent; try again."
    )
    expect(slide_panel.get_by_label("Post about this slide")).to_have_value(
        "Still here"
    )
    expect(slide_panel.get_by_role("button", name="Post", exact=True)).to_be_enabled()
    assert Post.objects.count() == 0

"""Invitations and sign-up forms in a real browser, with the mails they send.

The live server runs in this process, so the messages it sends land in the
test's own outbox; the links in them name the public address, which is
swapped for the live server's before the browser follows them.
"""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from playwright.sync_api import Browser, Page, expect

from entatio.people.models import Member, Signup

pytestmark = [pytest.mark.browser]

PUBLIC = "http://localhost:8000"
PASSWORD = "a long secret 42"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()


def log_in(page: Page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("User name or e-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Library")).to_be_visible()


def link_in(message, pattern: str, base: str) -> str:
    link = re.search(pattern, message.body).group(0)
    assert link.startswith(PUBLIC)
    return base + link.removeprefix(PUBLIC)


def test_invite_preview_send_accept(
    browser: Browser, live_server, owner, group, mailoutbox
):
    base = live_server.url
    owner_page = browser.new_context().new_page()
    log_in(owner_page, base, owner.email, "pw-" + owner.email)

    owner_page.get_by_role("link", name="Invite", exact=True).click()
    owner_page.get_by_label("E-mail addresses").fill("lin@newco.test, broken@")
    owner_page.get_by_label("Add them to a group").select_option(label=group.name)
    owner_page.get_by_role("button", name="Preview").click()
    expect(owner_page.locator("#preview-summary")).to_have_text(
        "1 row will be invited into Globex admins; 1 bad row will be left out."
    )
    bad = owner_page.locator('#preview tr[data-outcome="bad"]')
    expect(bad).to_contain_text("has an invalid e-mail address 'broken@'")
    assert mail.outbox == []

    owner_page.get_by_role("button", name="Send 1 invitation").click()
    pending = owner_page.locator('#invitations tr[data-email="lin@newco.test"]')
    expect(pending).to_have_attribute("data-status", "pending")
    [message] = mailoutbox
    assert message.to == ["lin@newco.test"]
    accept_link = link_in(message, r"http://\S+/invitation/[^/\s]+/", base)

    newcomer = browser.new_context().new_page()
    newcomer.goto(accept_link)
    expect(newcomer.get_by_role("heading", name="Join Customers")).to_be_visible()
    newcomer.get_by_label("Choose a password").fill(PASSWORD)
    newcomer.get_by_label("The same password again").fill(PASSWORD)
    newcomer.get_by_role("button", name="Accept the invitation").click()
    expect(newcomer.get_by_role("heading", name="Library")).to_be_visible()
    expect(newcomer.locator(".messages")).to_contain_text("Welcome to Customers.")

    newcomer.goto(accept_link)
    expect(newcomer.get_by_role("alert")).to_contain_text("used already")
    owner_page.reload()
    expect(
        owner_page.locator('#invitation-counts [data-status="accepted"]')
    ).to_contain_text("1")
    lin = Member.objects.get(email="lin@newco.test")
    assert group.members.filter(pk=lin.pk).exists()


def test_sign_up_verify_approve_log_in(
    browser: Browser, live_server, author, account, mailoutbox
):
    base = live_server.url
    author_page = browser.new_context().new_page()
    log_in(author_page, base, author.email, "pw-" + author.email)

    author_page.get_by_role("link", name="Sign-up forms").click()
    author_page.get_by_label("Form title").fill("Globex pilot")
    author_page.get_by_label("Name", exact=True).check()
    author_page.get_by_label("Company").check()
    author_page.get_by_label("Free questions").fill("Which product do you use?")
    author_page.get_by_label("Only these e-mail domains").fill("globex.test")
    author_page.get_by_label("An author approves each sign-up").check()
    author_page.get_by_role("button", name="Open the form").click()
    public = author_page.locator("#signup-forms .public-link").first
    expect(public).to_contain_text("/join/")
    form_link = base + public.inner_text().removeprefix(PUBLIC)

    visitor = browser.new_context().new_page()
    visitor.goto(form_link)
    expect(visitor.get_by_role("heading", name="Globex pilot")).to_be_visible()
    visitor.get_by_label("E-mail").fill("lin@initech.test")
    visitor.get_by_label("Choose a password").fill(PASSWORD)
    visitor.get_by_label("First name").fill("Lin")
    visitor.get_by_label("Last name").fill("Chen")
    visitor.get_by_label("Company").fill("Globex")
    visitor.get_by_label("Which product do you use?").fill("Entatio Cloud")
    visitor.get_by_role("button", name="Sign up").click()
    expect(visitor.locator("#email-errors")).to_contain_text(
        "Only addresses at globex.test can sign up here."
    )
    visitor.get_by_label("E-mail").fill("lin@globex.test")
    visitor.get_by_label("Choose a password").fill(PASSWORD)
    visitor.get_by_role("button", name="Sign up").click()
    expect(visitor.get_by_role("heading", name="Check your e-mail")).to_be_visible()

    [verification] = mailoutbox
    verify_link = link_in(verification, r"http://\S+/join/verify/[^/\s]+/", base)
    visitor.goto(verify_link)
    expect(
        visitor.get_by_role("heading", name="Your address is verified")
    ).to_be_visible()

    author_page.reload()
    waiting = author_page.locator('#awaiting tr[data-email="lin@globex.test"]')
    expect(waiting).to_contain_text("Entatio Cloud")
    waiting.get_by_role("button", name=re.compile("Approve")).click()
    expect(author_page.locator(".messages")).to_contain_text("lin@globex.test joined")

    approved = mailoutbox[-1]
    assert approved.subject == "You can now sign in to Customers"
    log_in(visitor, base, "lin@globex.test", PASSWORD)
    lin = Signup.objects.get(email="lin@globex.test").member
    assert (lin.first_name, lin.account) == ("Lin", account)
    assert lin.attributes == {"Which product do you use?": "Entatio Cloud"}

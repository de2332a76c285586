"""Sign-up forms: fields onto metadata, domains, verification, approval, limits."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from entatio.people.models import Account, Member, Signup, SignupForm
from entatio.people.signups import (
    SignupError,
    SignupFormSpec,
    create_signup_form,
    domains_of,
    start_signup,
    verify_signup,
)
from tests.personas import make_member
from tests.test_web_fixtures import *  # noqa: F403

PASSWORD = "a long secret 42"


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()


def spec(**changes) -> SignupFormSpec:
    fields = {
        "title": "Join the customer portal",
        "fields": ["name", "company", "role", "region"],
        "questions": ["Which product do you use?"],
        "allowed_domains": [],
        "denied_domains": [],
        "needs_approval": False,
    }
    return SignupFormSpec(**{**fields, **changes})


def verification_token(message) -> str:
    return re.search(r"/join/verify/([^/\s]+)/", message.body).group(1)


def fill(client, form: SignupForm, email: str, **answers):
    data = {
        "email": email,
        "password": PASSWORD,
        "first_name": "Lin",
        "last_name": "Chen",
        "company": "Globex",
        "role": "developer",
        "region": "APAC",
        "question_0": "Entatio Cloud",
        **answers,
    }
    return client.post(reverse("signup", args=[form.key]), data)


def test_a_sign_up_becomes_a_member_with_metadata_account_and_group(
    portal, group, account, client, mailoutbox
):
    form = create_signup_form(portal, spec(group=group))

    sent = fill(client, form, "Lin@Globex.test")
    assert "We sent a link to" in sent.content.decode()
    assert not Member.objects.filter(email="lin@globex.test").exists()
    [message] = mailoutbox
    assert message.to == ["lin@globex.test"]
    assert message.subject == "Confirm your e-mail address for Customers"
    assert message.alternatives[0][1] == "text/html"

    done = client.get(reverse("verify_signup", args=[verification_token(message)]))

    assert done.status_code == 302 and done["Location"] == reverse("library")
    lin = Member.objects.get(portal=portal, email="lin@globex.test")
    assert (lin.first_name, lin.last_name, lin.user_type, lin.region) == (
        "Lin",
        "Chen",
        "developer",
        "APAC",
    )
    assert lin.account == account
    assert lin.attributes == {"Which product do you use?": "Entatio Cloud"}
    assert group.members.filter(pk=lin.pk).exists()
    assert lin.user.check_password(PASSWORD)
    assert client.get(reverse("library")).status_code == 200


def test_a_new_company_becomes_an_account_unless_accounts_must_be_known(
    org, portal, mailoutbox
):
    form = create_signup_form(portal, spec())
    start_signup(form, "a@newco.test", PASSWORD, {"company": "Newco"})
    verify_signup(verification_token(mailoutbox[-1]))
    assert Member.objects.get(email="a@newco.test").account.name == "Newco"

    org.accounts_must_be_known = True
    org.save()
    start_signup(form, "b@other.test", PASSWORD, {"company": "Other Inc"})
    verify_signup(verification_token(mailoutbox[-1]))
    b = Member.objects.get(email="b@other.test")
    assert b.account is None
    assert b.attributes == {"company": "Other Inc"}
    assert not Account.objects.filter(name="Other Inc").exists()


def test_only_the_fields_the_author_picked_are_asked(portal, client):
    form = create_signup_form(portal, spec(fields=["region"], questions=[]))

    page = client.get(reverse("signup", args=[form.key])).content.decode()

    assert 'name="region"' in page
    assert 'name="company"' not in page and 'name="first_name"' not in page


def test_allowed_and_denied_domains(portal, client, mailoutbox):
    assert domains_of("@globex.test, Initech.test;x.test") == [
        "globex.test",
        "initech.test",
        "x.test",
    ]
    form = create_signup_form(
        portal,
        spec(allowed_domains=["globex.test"], denied_domains=["temp.globex.test"]),
    )

    outside = fill(client, form, "a@initech.test")
    denied = fill(client, form, "a@temp.globex.test")
    inside = fill(client, form, "a@eu.globex.test")

    assert outside.status_code == 400
    assert "Only addresses at globex.test can sign up here." in outside.content.decode()
    assert denied.status_code == 400
    assert "Addresses at temp.globex.test cannot sign up here." in (
        denied.content.decode()
    )
    assert inside.status_code == 200
    assert [m.to for m in mailoutbox] == [["a@eu.globex.test"]]


def test_approval_waits_for_an_author_who_may_also_reject(
    portal, client, client_of, author, mailoutbox
):
    form = create_signup_form(portal, spec(needs_approval=True))
    fill(client, form, "lin@globex.test")
    fill(client, form, "max@globex.test", first_name="Max")
    lin_link, max_link = (verification_token(m) for m in mailoutbox)

    waiting = client.get(reverse("verify_signup", args=[lin_link]))
    verify_signup(max_link)

    assert "An author of Customers approves each sign-up" in waiting.content.decode()
    assert not Member.objects.filter(email="lin@globex.test").exists()
    page = client_of("author").get(reverse("signup_forms")).content.decode()
    assert 'data-email="lin@globex.test"' in page and "Entatio Cloud" in page

    lin = Signup.objects.get(email="lin@globex.test")
    maxs = Signup.objects.get(email="max@globex.test")
    approve = {"decision": "approve"}
    client_of("author").post(reverse("decide_signup", args=[lin.pk]), approve)
    client_of("author").post(
        reverse("decide_signup", args=[maxs.pk]), {"decision": "reject"}
    )

    lin.refresh_from_db()
    maxs.refresh_from_db()
    assert (lin.status, lin.decided_by) == (Signup.Status.JOINED, author)
    assert lin.member.user.check_password(PASSWORD)
    assert maxs.status == Signup.Status.REJECTED
    assert not Member.objects.filter(email="max@globex.test").exists()
    told = mailoutbox[-1]
    assert told.to == ["lin@globex.test"]
    assert told.subject == "You can now sign in to Customers"
    assert "http://localhost:8000/login/" in told.body


def test_verification_links_work_once_and_expire(portal, mailoutbox):
    form = create_signup_form(portal, spec())
    start_signup(form, "lin@globex.test", PASSWORD, {})
    start_signup(form, "max@globex.test", PASSWORD, {})
    lin_link, max_link = (verification_token(m) for m in mailoutbox)

    verify_signup(lin_link)
    with pytest.raises(SignupError, match="verified already"):
        verify_signup(lin_link)
    with pytest.raises(SignupError, match="not valid"):
        verify_signup(max_link[:-2] + "xx")
    later = timezone.now() + timedelta(days=3)
    with (
        time_machine.travel(later, tick=False),
        pytest.raises(SignupError, match="expired"),
    ):
        verify_signup(max_link)
    assert not Member.objects.filter(email="max@globex.test").exists()


def test_a_login_elsewhere_keeps_its_password_and_is_not_signed_in(
    portal, other_portal, client, mailoutbox
):
    sam = make_member(other_portal, "sam@acme.test")
    form = create_signup_form(portal, spec())
    fill(client, form, "sam@acme.test")

    done = client.get(
        reverse("verify_signup", args=[verification_token(mailoutbox[0])])
    )

    assert done["Location"] == reverse("login")
    joined = Member.objects.get(portal=portal, email="sam@acme.test")
    assert joined.user == sam.user
    assert sam.user.check_password("pw-sam@acme.test")
    assert User.objects.filter(username="sam@acme.test").count() == 1


def test_members_already_in_and_closed_forms_are_refused(
    portal, member, client, client_of
):
    form = create_signup_form(portal, spec())

    again = fill(client, form, member.email)
    client_of("author").post(reverse("open_signup_form", args=[form.pk]), {"open": "0"})
    closed = client.get(reverse("signup", args=[form.key]))

    assert "This address is a member already; log in instead." in (
        again.content.decode()
    )
    assert closed.status_code == 404
    assert client.get(reverse("signup", args=["no-such-key"])).status_code == 404


def test_sign_up_and_verification_are_rate_limited(portal, client, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "signup": (2, 3600),
        "verify": (2, 3600),
    }
    form = create_signup_form(portal, spec())

    signups = [fill(client, form, f"p{n}@globex.test").status_code for n in range(3)]
    verifies = [
        client.get(reverse("verify_signup", args=["forged"])).status_code
        for _ in range(3)
    ]

    assert signups == [200, 200, 429]
    assert Signup.objects.count() == 2
    assert verifies == [410, 410, 429]


def test_login_is_refused_after_failures_for_the_address_and_the_name(
    member, client, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (3, 900)}
    login = reverse("login")
    wrong = {"username": member.email, "password": "wrong"}
    right = {"username": member.email, "password": "pw-" + member.email}

    codes = [client.post(login, wrong).status_code for _ in range(3)]
    refused = client.post(login, right)

    assert codes == [200, 200, 200]
    assert refused.status_code == 429
    cache.clear()
    assert client.post(login, right).status_code == 302


def test_successful_logins_do_not_count(member, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login": (2, 900)}
    right = {"username": member.email, "password": "pw-" + member.email}

    for _ in range(4):
        client.logout()
        assert client.post(reverse("login"), right).status_code == 302


def test_failures_from_elsewhere_do_not_lock_the_owner_out(member, settings):
    from django.test import Client

    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "login": (3, 900),
        "login_address": (5, 900),
    }
    login = reverse("login")
    attacker = Client(REMOTE_ADDR="10.9.9.9")
    owner = Client(REMOTE_ADDR="127.0.0.7")
    wrong = {"username": member.email, "password": "wrong"}
    right = {"username": member.email, "password": "pw-" + member.email}

    for _ in range(4):
        attacker.post(login, wrong)
    assert attacker.post(login, right).status_code == 429
    assert owner.post(login, right).status_code == 302

    # Many names from one address meet the address's own, wider limit.
    for number in range(5):
        attacker.post(login, {"username": f"n{number}@x.test", "password": "x"})
    other = {"username": "someone@x.test", "password": "x"}
    assert attacker.post(login, other).status_code == 429

"""The invite wizard and invitations: preview, send, accept, resend, revoke."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core import mail
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from entatio.people.invitations import (
    InvitationError,
    accept_invitation,
    invite_members,
    resend_invitation,
    revoke_invitation,
)
from entatio.people.models import Account, Invitation, Member
from tests.personas import make_member
from tests.test_web_fixtures import *  # noqa: F403

PEOPLE = """\
email,first_name,last_name,user_type,account,title,region,team
eve@globex.test,Eve,Lovelace,admin,Globex,CTO,EMEA,platform
not-an-address,Bad,Row,,,,,
lin@newco.test,Lin,Chen,developer,Newco,Engineer,APAC,
EVE@globex.test,Eve,Again,,,,,
"""


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()


def token_of(message) -> str:
    return re.search(r"/invitation/([^/\s]+)/", message.body).group(1)


def preview(client, **data):
    response = client.post(reverse("invite_preview"), data)
    assert response.status_code == 200
    return response


def test_the_preview_shows_each_row_as_made_and_each_bad_row_why(
    portal, account, client_of, owner
):
    upload = SimpleUploadedFile("people.csv", PEOPLE.encode(), "text/csv")
    before = Member.objects.count()

    response = preview(client_of("owner"), people_csv=upload)

    rows = {p.line: p for p in response.context["planned"]}
    assert (rows[2].outcome, rows[2].account, rows[2].account_is_new) == (
        "new member",
        "Globex",
        False,
    )
    assert rows[2].row.fields["title"] == "CTO"
    assert rows[2].row.attributes == {"team": "platform"}
    assert (rows[3].outcome, rows[3].reason) == (
        "bad",
        "has an invalid e-mail address 'not-an-address'",
    )
    assert (rows[4].account, rows[4].account_is_new) == ("Newco", True)
    assert (rows[5].outcome, rows[5].reason) == (
        "bad",
        "repeats eve@globex.test of line 2",
    )
    page = response.content.decode()
    assert "2 rows will be invited; 2 bad rows will be left out." in page
    # Nothing is made by looking.
    assert Member.objects.count() == before
    assert not Account.objects.filter(name="Newco").exists()
    assert mail.outbox == []


def test_an_organization_that_requires_known_accounts_refuses_unknown_ones(
    org, portal, account, client_of, owner
):
    org.accounts_must_be_known = True
    org.save()
    upload = SimpleUploadedFile("people.csv", PEOPLE.encode(), "text/csv")

    rows = {
        p.line: p
        for p in preview(client_of("owner"), people_csv=upload).context["planned"]
    }

    assert (rows[4].outcome, rows[4].reason) == (
        "bad",
        "names the unknown account 'Newco'",
    )
    assert rows[2].outcome == "new member"


def test_sending_makes_members_and_mails_each_an_expiring_single_use_link(
    portal, group, client_of, owner
):
    text = "eve@globex.test, lin@newco.test\nnope@\n"
    form = preview(client_of("owner"), addresses=text, group=group.pk)
    assert [p.outcome for p in form.context["planned"]] == [
        "new member",
        "new member",
        "bad",
    ]

    response = client_of("owner").post(
        reverse("send_invites"), {"kind": "addresses", "text": text, "group": group.pk}
    )

    assert response.status_code == 302
    lin = Member.objects.get(portal=portal, email="lin@newco.test")
    assert lin.user is None
    assert group.members.filter(pk=lin.pk).exists()
    invitation = Invitation.objects.get(member=lin)
    assert invitation.invited_by == owner
    assert invitation.expires_at - invitation.sent_at == timedelta(days=14)
    assert sorted(m.to[0] for m in mail.outbox) == ["eve@globex.test", "lin@newco.test"]
    message = next(m for m in mail.outbox if m.to == ["lin@newco.test"])
    assert message.subject == "Your invitation to Customers"
    [(html, kind)] = message.alternatives
    assert kind == "text/html"
    link = f"http://localhost:8000/invitation/{token_of(message)}/"
    assert link in message.body and link in html
    # The token is never stored, only its digest.
    assert token_of(message) not in invitation.token_digest


def test_accepting_makes_the_login_signs_in_and_uses_the_link_up(
    portal, client, mailoutbox
):
    ada = Member.objects.create(
        portal=portal, email="ada@globex.test", first_name="Ada"
    )
    invite_members([ada])
    link = reverse("accept_invitation", args=[token_of(mailoutbox[0])])

    page = client.get(link)
    assert "Choose a password" in page.content.decode()
    mismatch = client.post(
        link, {"password": "a long secret 42", "password_again": "another one 42"}
    )
    assert mismatch.status_code == 400
    done = client.post(
        link, {"password": "a long secret 42", "password_again": "a long secret 42"}
    )

    assert done.status_code == 302 and done["Location"] == reverse("library")
    ada.refresh_from_db()
    assert ada.user.check_password("a long secret 42")
    assert ada.user.first_name == "Ada"
    assert client.get(reverse("library")).status_code == 200
    again = client.get(link)
    assert again.status_code == 410
    assert "This invitation was used already" in again.content.decode()


def test_a_person_with_a_login_elsewhere_keeps_it(portal, other_portal, mailoutbox):
    sam = make_member(other_portal, "sam@acme.test")
    joining = Member.objects.create(portal=portal, email="sam@acme.test")
    invite_members([joining])

    member = accept_invitation(token_of(mailoutbox[0]))

    assert member.user == sam.user
    assert sam.user.check_password("pw-sam@acme.test")
    assert User.objects.count() == 1


def test_an_expired_invitation_is_refused_and_a_resend_makes_a_new_link(
    portal, mailoutbox
):
    ada = Member.objects.create(portal=portal, email="ada@globex.test")
    [sent] = invite_members([ada])
    old_token = token_of(mailoutbox[0])

    with time_machine.travel(timezone.now() + timedelta(days=15), tick=False):
        with pytest.raises(InvitationError, match="has expired"):
            accept_invitation(old_token, "a long secret 42")
        # Expired, the member needs an invitation again; inviting sends one.
        assert [s.member for s in invite_members([ada])] == [ada]

    resend_invitation(sent.invitation)
    new_token = token_of(mailoutbox[-1])
    with pytest.raises(InvitationError, match="not valid"):
        accept_invitation(old_token, "a long secret 42")
    assert accept_invitation(new_token, "a long secret 42") == ada
    sent.invitation.refresh_from_db()
    assert sent.invitation.send_count == 2


def test_a_revoked_invitation_cannot_be_used(portal, mailoutbox):
    ada = Member.objects.create(portal=portal, email="ada@globex.test")
    [sent] = invite_members([ada])

    revoke_invitation(sent.invitation)

    with pytest.raises(InvitationError, match="withdrawn"):
        accept_invitation(token_of(mailoutbox[0]), "a long secret 42")
    with pytest.raises(InvitationError, match="revoked"):
        resend_invitation(sent.invitation)
    ada.refresh_from_db()
    assert ada.user is None


def test_inviting_twice_sends_once_and_members_with_a_login_are_skipped(
    portal, member, mailoutbox
):
    ada = Member.objects.create(portal=portal, email="new@globex.test")

    first = invite_members([ada, member])
    second = invite_members([ada, member])

    assert [s.member for s in first] == [ada]
    assert second == []
    assert len(mailoutbox) == 1


def test_the_list_shows_accepted_pending_and_expired_at_a_glance(
    portal, client_of, owner, mailoutbox
):
    people = [
        Member.objects.create(portal=portal, email=f"p{n}@globex.test")
        for n in range(3)
    ]
    sent = invite_members(people, invited_by=owner)
    accept_invitation(token_of(mailoutbox[0]), "a long secret 42")
    Invitation.objects.filter(pk=sent[2].invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    response = client_of("owner").get(reverse("invites"))

    assert response.context["counts"] == {
        "accepted": 1,
        "pending": 1,
        "expired": 1,
        "revoked": 0,
    }
    page = response.content.decode()
    assert 'data-email="p0@globex.test" data-status="accepted"' in page
    assert 'data-email="p1@globex.test" data-status="pending"' in page
    assert 'data-email="p2@globex.test" data-status="expired"' in page


def test_resend_and_revoke_from_the_page(portal, client_of, owner, mailoutbox):
    eve = Member.objects.create(portal=portal, email="eve@globex.test")
    [sent] = invite_members([eve])
    client = client_of("author")

    client.post(reverse("resend_invite", args=[sent.invitation.pk]))
    client.post(reverse("revoke_invite", args=[sent.invitation.pk]))

    sent.invitation.refresh_from_db()
    assert sent.invitation.send_count == 2
    assert sent.invitation.revoked_at is not None
    assert len(mailoutbox) == 2
    assert token_of(mailoutbox[0]) != token_of(mailoutbox[1])


def test_accepting_is_rate_limited(portal, client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "invitation": (3, 3600)}
    link = reverse("accept_invitation", args=["made-up"])

    codes = [client.post(link, {"password": "x"}).status_code for _ in range(4)]

    assert codes == [410, 410, 410, 429]


def test_the_people_pages_ask_the_same_queries_however_many_people(
    portal, group, client_of, owner, mailoutbox
):
    def queries(name: str, *args) -> int:
        client = client_of("owner")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse(name, args=args)).status_code == 200
        return len(captured)

    def add_people(first: int, count: int) -> None:
        people = [
            Member.objects.create(portal=portal, email=f"p{n}@globex.test")
            for n in range(first, first + count)
        ]
        invite_members(people)
        group.members.add(*people)

    add_people(0, 2)
    few = [queries("invites"), queries("portal_members"), queries("group", group.pk)]
    add_people(2, 8)
    many = [queries("invites"), queries("portal_members"), queries("group", group.pk)]

    assert many == few

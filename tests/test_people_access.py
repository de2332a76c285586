"""Who may open the people pages: members, groups, invitations, sign-up forms.

Each page and change is asked by every persona: owners and authors of the
portal, a member, an outsider (same portal, no group), a stranger (author of
another portal of the organization) and an anonymous visitor.
"""

from types import SimpleNamespace

import pytest
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from entatio.engagement.access import presentation_for
from entatio.people.invitations import invite_members
from entatio.people.models import Member, SharingGroup, Signup, SignupForm
from tests.test_web_access import ASKING_ORDER, LOGIN, Case, outcome, outcomes
from tests.test_web_fixtures import *  # noqa: F403

OWNER_PAGE = outcomes(200, 403, 403, 403, 403, LOGIN)
# The stranger is an author too, working in their own portal.
AUTHOR_PAGE_ANY_PORTAL = outcomes(200, 200, 403, 403, 200, LOGIN)
AUTHOR_CHANGE_ANY_PORTAL = outcomes(302, 302, 403, 403, 302, LOGIN)
GROUP_PAGE = outcomes(200, 200, 403, 404, 404, LOGIN)
GROUP_CHANGE = outcomes(302, 302, 403, 404, 404, LOGIN)
PORTAL_THING_CHANGE = outcomes(302, 302, 404, 404, 404, LOGIN)


def group_url(name: str):
    return lambda ctx: reverse(name, args=[ctx.group.pk])


CASES = {
    "members page": Case("get", lambda ctx: reverse("portal_members"), OWNER_PAGE),
    "set role": Case(
        "post",
        lambda ctx: reverse("set_role", args=[ctx.outsider.pk]),
        outcomes(302, 403, 403, 403, 404, LOGIN),
        data=lambda ctx: {"role": "member"},
    ),
    "new portal": Case(
        "post",
        lambda ctx: reverse("new_portal"),
        outcomes(302, 403, 403, 403, 403, LOGIN),
        data=lambda ctx: {"name": f"Events of {ctx.persona}", "kind": "event"},
    ),
    "groups page": Case("get", lambda ctx: reverse("groups"), AUTHOR_PAGE_ANY_PORTAL),
    "new group": Case(
        "post",
        lambda ctx: reverse("new_group"),
        AUTHOR_CHANGE_ANY_PORTAL,
        data=lambda ctx: {"name": f"Made by {ctx.persona}"},
    ),
    "group page": Case("get", group_url("group"), GROUP_PAGE),
    "rename group": Case(
        "post",
        group_url("rename_group"),
        GROUP_CHANGE,
        data=lambda ctx: {"name": f"Renamed by {ctx.persona}"},
    ),
    "add to group": Case(
        "post",
        group_url("add_group_members"),
        GROUP_CHANGE,
        data=lambda ctx: {"members": [ctx.outsider.pk]},
    ),
    "remove from group": Case(
        "post",
        group_url("remove_group_members"),
        GROUP_CHANGE,
        data=lambda ctx: {"members": [ctx.outsider.pk]},
    ),
    "invitations page": Case(
        "get", lambda ctx: reverse("invites"), AUTHOR_PAGE_ANY_PORTAL
    ),
    "invitation preview": Case(
        "post",
        lambda ctx: reverse("invite_preview"),
        AUTHOR_PAGE_ANY_PORTAL,
        data=lambda ctx: {"addresses": "eve@globex.test"},
    ),
    "send invitations": Case(
        "post",
        lambda ctx: reverse("send_invites"),
        AUTHOR_CHANGE_ANY_PORTAL,
        data=lambda ctx: {"kind": "addresses", "text": f"{ctx.persona}@new.test"},
    ),
    "resend invitation": Case(
        "post",
        lambda ctx: reverse("resend_invite", args=[ctx.invitation.pk]),
        PORTAL_THING_CHANGE,
    ),
    "revoke invitation": Case(
        "post",
        lambda ctx: reverse("revoke_invite", args=[ctx.invitation.pk]),
        PORTAL_THING_CHANGE,
    ),
    "sign-up forms page": Case(
        "get", lambda ctx: reverse("signup_forms"), AUTHOR_PAGE_ANY_PORTAL
    ),
    "new sign-up form": Case(
        "post",
        lambda ctx: reverse("new_signup_form"),
        AUTHOR_CHANGE_ANY_PORTAL,
        data=lambda ctx: {"title": f"Join, by {ctx.persona}", "asks": ["name"]},
    ),
    "close a sign-up form": Case(
        "post",
        lambda ctx: reverse("open_signup_form", args=[ctx.signup.form_id]),
        PORTAL_THING_CHANGE,
        data=lambda ctx: {"open": "0"},
    ),
    "decide a sign-up": Case(
        "post",
        lambda ctx: reverse("decide_signup", args=[ctx.signup.pk]),
        PORTAL_THING_CHANGE,
        data=lambda ctx: {"decision": "reject"},
    ),
}


@pytest.fixture(autouse=True)
def fresh_limits():
    cache.clear()


@pytest.fixture
def ctx(portal, group, outsider, personas, mailoutbox):
    newcomer = Member.objects.create(portal=portal, email="newcomer@globex.test")
    [sent] = invite_members([newcomer])
    form = SignupForm.objects.create(
        portal=portal, key="k1", title="Join", needs_approval=True
    )
    signup = Signup.objects.create(
        form=form,
        email="walk-in@globex.test",
        password_hash=make_password("a long secret 42"),
        status=Signup.Status.AWAITING_APPROVAL,
        verified_at=timezone.now(),
    )
    return SimpleNamespace(
        portal=portal,
        group=group,
        outsider=outsider,
        invitation=sent.invitation,
        signup=signup,
    )


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_permission_matrix(case: Case, ctx, client_of):
    got = {}
    for persona in ASKING_ORDER:
        ctx.persona = persona
        got[persona] = outcome(case, client_of(persona), ctx)

    assert got == {p: case.expect[p] for p in ASKING_ORDER}


def test_refused_changes_change_nothing(ctx, client_of, stranger, member):
    """Members of another portal or without the role leave every row as it was."""
    for persona in ("stranger", "member", "outsider"):
        client = client_of(persona)
        client.post(reverse("rename_group", args=[ctx.group.pk]), {"name": "Mine"})
        client.post(
            reverse("add_group_members", args=[ctx.group.pk]),
            {"members": [ctx.outsider.pk]},
        )
        client.post(reverse("revoke_invite", args=[ctx.invitation.pk]))
        client.post(
            reverse("decide_signup", args=[ctx.signup.pk]), {"decision": "approve"}
        )
        client.post(reverse("set_role", args=[ctx.outsider.pk]), {"role": "owner"})

    ctx.group.refresh_from_db()
    ctx.invitation.refresh_from_db()
    ctx.signup.refresh_from_db()
    ctx.outsider.refresh_from_db()
    assert ctx.group.name == "Globex admins"
    assert list(ctx.group.members.all()) == [member]
    assert ctx.invitation.revoked_at is None
    assert ctx.signup.status == Signup.Status.AWAITING_APPROVAL
    assert ctx.outsider.role == "member"


def test_a_stranger_cannot_put_members_of_another_portal_in_their_group(
    ctx, client_of, stranger, member
):
    theirs = SharingGroup.objects.create(portal=stranger.portal, name="Theirs")

    response = client_of("stranger").post(
        reverse("add_group_members", args=[theirs.pk]), {"members": [member.pk]}
    )

    assert response.status_code == 302
    assert list(theirs.members.all()) == []


def test_the_people_pages_list_only_their_own_portal(ctx, client_of, stranger):
    SharingGroup.objects.create(portal=stranger.portal, name="Product insiders")
    Member.objects.create(portal=stranger.portal, email="insider@acme.test")
    invite_members([Member.objects.get(email="insider@acme.test")])

    groups = client_of("owner").get(reverse("groups")).content.decode()
    invites = client_of("owner").get(reverse("invites")).content.decode()
    members = client_of("owner").get(reverse("portal_members")).content.decode()

    assert "Globex admins" in groups and "Product insiders" not in groups
    assert "newcomer@globex.test" in invites and "insider@acme.test" not in invites
    assert "ada@globex.test" in members
    assert "insider@acme.test" not in members and "sam@acme.test" not in members


def test_membership_by_hand_decides_what_a_member_sees(ctx, client_of, deck, outsider):
    """Added to the group the deck is shared with, the outsider sees it; removed,
    they see it no more."""
    viewer = reverse("viewer", args=[deck.pk])
    assert client_of("outsider").get(viewer).status_code == 404

    client_of("author").post(
        reverse("add_group_members", args=[ctx.group.pk]), {"members": [outsider.pk]}
    )
    assert client_of("outsider").get(viewer).status_code == 200
    assert presentation_for(outsider, deck.pk) == deck

    client_of("author").post(
        reverse("remove_group_members", args=[ctx.group.pk]),
        {"members": [outsider.pk]},
    )
    assert client_of("outsider").get(viewer).status_code == 404

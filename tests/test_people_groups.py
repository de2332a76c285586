"""Groups, roles and portals by hand, sharing with several groups at once, and
invitations from the command line."""

import json

import pytest
from django.urls import reverse

from entatio.cli.main import main
from entatio.engagement.access import visible_presentations
from entatio.engagement.models import Share
from entatio.people.groups import GroupError, create_group, rename_group
from entatio.people.invitations import accept_invitation
from entatio.people.models import Invitation, Member, Portal, SharingGroup
from entatio.people.portals import PortalError, change_role, create_portal
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import make_deck


def test_groups_are_made_renamed_and_filled_from_the_pages(
    portal, client_of, member, outsider
):
    client = client_of("author")

    made = client.post(
        reverse("new_group"), {"name": "  EMEA   admins ", "members": [member.pk]}
    )
    group = SharingGroup.objects.get(portal=portal, name="EMEA admins")
    assert made["Location"] == reverse("group", args=[group.pk])
    client.post(reverse("rename_group", args=[group.pk]), {"name": "EMEA leads"})
    client.post(
        reverse("add_group_members", args=[group.pk]), {"members": [outsider.pk]}
    )
    client.post(
        reverse("remove_group_members", args=[group.pk]), {"members": [member.pk]}
    )

    group.refresh_from_db()
    assert group.name == "EMEA leads"
    assert list(group.members.all()) == [outsider]
    page = client.get(reverse("group", args=[group.pk])).content.decode()
    assert "olaf@initech.test" in page


def test_group_names_stay_unique_in_a_portal_whatever_their_case(
    portal, other_portal, client_of
):
    first = create_group(portal, "Pilots")
    second = create_group(portal, "Partners")
    create_group(other_portal, "Partners")

    with pytest.raises(GroupError, match="Another group is called “pilots”"):
        rename_group(second, "pilots")
    refused = client_of("author").post(reverse("new_group"), {"name": "PILOTS"})

    assert refused.status_code == 400
    assert "already exists in this portal" in refused.content.decode()
    assert rename_group(first, "Pilots 2026").name == "Pilots 2026"


def test_sharing_with_several_groups_at_once_and_revoking_one(
    portal, client_of, member, outsider
):
    deck = make_deck(portal, "Pricing", ["red", "blue"])
    admins = create_group(portal, "Admins", [member])
    developers = create_group(portal, "Developers", [outsider])

    client_of("author").post(
        reverse("share_with_group", args=[deck.pk]),
        {"group": [admins.pk, developers.pk]},
    )
    assert set(visible_presentations(member)) == {deck}
    assert set(visible_presentations(outsider)) == {deck}

    client_of("author").post(reverse("revoke_share", args=[deck.pk, developers.pk]))

    assert set(visible_presentations(member)) == {deck}
    assert set(visible_presentations(outsider)) == set()
    assert Share.objects.filter(presentation=deck, revoked_at__isnull=True).count() == 1


def test_owners_set_roles_and_a_portal_keeps_an_owner(portal, client_of, owner, member):
    client_of("owner").post(reverse("set_role", args=[member.pk]), {"role": "author"})
    member.refresh_from_db()
    assert member.role == "author"

    with pytest.raises(PortalError, match="needs an owner"):
        change_role(owner, "member")
    client_of("owner").post(reverse("set_role", args=[owner.pk]), {"role": "member"})
    owner.refresh_from_db()
    assert owner.role == "owner"


def test_an_owner_makes_a_portal_of_the_organization_and_owns_it(
    portal, client_of, owner
):
    client = client_of("owner")

    client.post(reverse("new_portal"), {"name": "Partner summit", "kind": "event"})
    again = create_portal(owner, "Partner summit", "event")

    made = Portal.objects.get(slug="partner-summit")
    assert (made.organization_id, made.kind) == (portal.organization_id, "event")
    assert again.slug == "partner-summit-2"
    mine = Member.objects.get(portal=made, user=owner.user)
    assert mine.role == "owner"
    # The new portal is now the one the owner works in, and it is empty.
    page = client.get(reverse("portal_members")).content.decode()
    assert "Members of Partner summit" in page
    assert "ada@globex.test" not in page


def test_people_import_with_invite_uses_the_invitations(
    capsys, portal, tmp_path, mailoutbox
):
    people = tmp_path / "people.csv"
    people.write_text(
        "email,first_name,account\nlin@newco.test,Lin,Newco\nbad,,\n", encoding="utf-8"
    )

    status = main(["people", "import", str(people), "--invite", "--json"])
    document = json.loads(capsys.readouterr().out)

    assert status == 2
    assert document["invited"] == ["lin@newco.test"]
    assert document["errors"] == [
        {"line": 3, "reason": "has an invalid e-mail address 'bad'"}
    ]
    invitation = Invitation.objects.get(member__email="lin@newco.test")
    assert invitation.invited_by is None
    [message] = mailoutbox
    token = message.body.split("/invitation/")[1].split("/")[0]
    lin = accept_invitation(token, "a long secret 42")
    assert lin.user.check_password("a long secret 42")
    assert lin.account.name == "Newco"


def test_an_author_changing_a_role_is_told_it_takes_an_owner(
    portal, client_of, author, member
):
    response = client_of("author").post(
        reverse("set_role", args=[member.pk]), {"role": "author"}
    )

    assert response.status_code == 403
    assert "Only owners of this portal may do this." in response.content.decode()
    member.refresh_from_db()
    assert member.role == "member"

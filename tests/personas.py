"""The people every test can count on: made once per test, one portal each."""

import pytest
from django.contrib.auth.models import User

from entatio.people.models import Account, Member, Organization, Portal, SharingGroup


def make_member(portal: Portal, email: str, role: str = "member", **fields) -> Member:
    user = User.objects.create_user(username=email, email=email, password="pw-" + email)
    return Member.objects.create(
        portal=portal, user=user, email=email, role=role, **fields
    )


@pytest.fixture
def org(transactional_db) -> Organization:
    return Organization.objects.create(name="Acme Software", slug="acme")


@pytest.fixture
def portal(org) -> Portal:
    return Portal.objects.create(organization=org, name="Customers", slug="customers")


@pytest.fixture
def other_portal(org) -> Portal:
    return Portal.objects.create(organization=org, name="Product team", slug="product")


@pytest.fixture
def account(org) -> Account:
    return Account.objects.create(organization=org, name="Globex", segment="Enterprise")


@pytest.fixture
def owner(portal) -> Member:
    return make_member(portal, "owner@acme.test", role="owner")


@pytest.fixture
def author(portal) -> Member:
    return make_member(
        portal, "author@acme.test", role="author", user_type="customer success manager"
    )


@pytest.fixture
def member(portal, account) -> Member:
    return make_member(
        portal, "ada@globex.test", first_name="Ada", user_type="admin", account=account
    )


@pytest.fixture
def outsider(portal) -> Member:
    """In the portal, but in no group the content is shared with."""
    return make_member(portal, "olaf@initech.test", user_type="developer")


@pytest.fixture
def stranger(other_portal) -> Member:
    """An author of another portal of the same organization."""
    return make_member(other_portal, "sam@acme.test", role="author")


@pytest.fixture
def group(portal, member) -> SharingGroup:
    group = SharingGroup.objects.create(portal=portal, name="Globex admins")
    group.members.add(member)
    return group

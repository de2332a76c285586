"""Insights pages: authors only, 404 for other portals, CSV for every table."""

import csv
import io

import pytest
from django.test import Client

from entatio.insights.models import Goal
from entatio.insights.views import PAGES, scope_of
from entatio.people.models import Member
from tests.personas import make_member


def _client(member) -> Client:
    client = Client()
    client.login(username=member.email, password="pw-" + member.email)
    return client


@pytest.fixture
def author(portal):
    return make_member(portal, "writer@acme.test", role="author")


@pytest.mark.parametrize("name", list(PAGES))
def test_an_author_sees_every_page_and_its_csv(author, portal, name):
    client = _client(author)

    page = client.get(f"/insights/{portal.pk}/{name}/")
    assert page.status_code == 200
    assert PAGES[name].encode() in page.content

    download = client.get(f"/insights/{portal.pk}/{name}/?format=csv")
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    header = next(csv.reader(io.StringIO(download.content.decode())))
    assert len(header) >= 3


def test_readers_get_403_and_outsiders_404(portal, member, stranger):
    assert _client(member).get(f"/insights/{portal.pk}/cube/").status_code == 403
    assert _client(stranger).get(f"/insights/{portal.pk}/cube/").status_code == 404
    anonymous = Client().get(f"/insights/{portal.pk}/cube/")
    assert anonymous.status_code == 302


def test_an_author_adds_a_goal(author, portal):
    response = _client(author).post(
        f"/insights/{portal.pk}/goals/",
        {"name": "Admins", "topic": "0", "measure": "reach", "unit": "accounts",
         "person_field": "user_type", "person_value": "admin",
         "target": "0.6", "due": "2027-01-31"},
    )  # fmt: skip

    assert response.status_code == 302
    goal = Goal.objects.get()
    assert (goal.unit, goal.target, goal.person_value) == ("accounts", 0.6, "admin")
    bad = _client(author).post(
        f"/insights/{portal.pk}/goals/", {"name": "x", "target": "2", "due": "x"}
    )
    assert bad.status_code == 400


def test_an_owner_renames_a_topic_and_an_author_tags_a_slide(
    author, owner, portal, org
):
    from entatio.insights.models import SlideTopic, Topic
    from entatio.library.models import Slide

    topic = Topic.objects.create(organization=org, label="Versioning")
    slide = Slide.objects.create(portal=portal, title="Branches")
    client = _client(author)
    url = f"/insights/{portal.pk}/market/"

    rename = {"action": "rename", "topic": topic.pk, "label": "Version control"}
    # Topics are the whole organization's; an author of one portal may not
    # rename them or have them suggested again for everyone.
    assert client.post(url, rename).status_code == 403
    assert client.post(url, {"action": "suggest"}).status_code == 403
    assert _client(owner).post(url, rename).status_code == 302
    tag = {"action": "tag", "topic": topic.pk, "slide": slide.pk}
    assert client.post(url, tag).status_code == 302
    topic.refresh_from_db()
    assert (topic.label, topic.label_edited) == ("Version control", True)
    made = SlideTopic.objects.get(slide=slide)
    assert (made.origin, made.tagged_by) == ("author", author)
    assert client.post(url, {"action": "tag", "topic": 999}).status_code == 400


def test_pages_show_a_simulated_world(org):
    from entatio.insights.simulate import simulate_world

    world = simulate_world(org, seed=5, scale=0.25)
    customers = world.portals["customers"]
    lead = make_member(customers, "lead@acme.test", role="owner")
    client = _client(lead)
    base = f"/insights/{customers.pk}"

    cube = client.get(f"{base}/cube/?person=user_type&account=segment")
    assert cube.status_code == 200 and b"<svg" in cube.content
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"{base}/cube/?person=user_type&account=&format=csv").content.decode()
    )))  # fmt: skip
    admins = [r for r in rows if r["person"] == "admin" and r["topic"] != "All slides"]
    assert len(admins) == 6 and all(0 <= float(r["reach"]) <= 1 for r in admins)

    # Only the portals the person is an author of are shown.
    flow = client.get(f"{base}/flow/").content.decode()
    assert "customers" in flow and "product team" not in flow
    for tier in ("product", "success"):
        Member.objects.create(
            portal=world.portals[tier], user=lead.user, email=lead.email, role="author"
        )
    flow = client.get(f"{base}/flow/").content.decode()
    assert "product team" in flow and "success team" in flow
    market = client.get(f"{base}/market/?format=csv").content.decode()
    assert market.count("\ntopic,") == 6
    sales = client.get(f"{base}/sales/?format=csv").content.decode().splitlines()
    assert sales[0] == "account,month,visits,members_seen,won_amount"
    assert len(sales) > 12 * 12


def test_the_scope_of_an_author_without_a_login_is_their_own_portal(
    author, portal, other_portal
):
    # Other members without a login: a filter on no user would match them all.
    Member.objects.create(portal=other_portal, email="a@x.test", role="owner")
    unlinked = Member.objects.create(portal=portal, email="b@x.test", role="author")
    reader = Member.objects.create(portal=portal, email="c@x.test", role="member")

    assert scope_of(unlinked) == [portal.pk]
    assert scope_of(reader) == []
    assert scope_of(author) == [portal.pk]

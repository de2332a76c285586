"""Insights of one portal stay out of another portal's authors' sight."""

from django.test import Client

from entatio.insights.models import Goal
from tests.personas import make_member


def _client(member) -> Client:
    client = Client()
    client.login(username=member.email, password="pw-" + member.email)
    return client


GOAL = {
    "topic": "0", "measure": "reach", "unit": "accounts",
    "person_field": "user_type", "person_value": "admin",
    "target": "0.6", "due": "2027-01-31",
}  # fmt: skip


def test_goals_are_seen_in_the_portals_that_set_them(portal, other_portal):
    ours = make_member(portal, "ana@acme.test", role="author")
    theirs = make_member(other_portal, "pat@partner.test", role="author")
    _client(ours).post(f"/insights/{portal.pk}/goals/", {**GOAL, "name": "Ours"})
    _client(theirs).post(
        f"/insights/{other_portal.pk}/goals/", {**GOAL, "name": "Theirs"}
    )
    assert Goal.objects.count() == 2

    our_page = _client(ours).get(f"/insights/{portal.pk}/goals/?format=csv")
    their_page = _client(theirs).get(f"/insights/{other_portal.pk}/goals/?format=csv")

    assert "Ours" in our_page.content.decode()
    assert "Theirs" not in our_page.content.decode()
    assert "Theirs" in their_page.content.decode()
    assert "Ours" not in their_page.content.decode()


def test_person_fields_name_only_attributes_of_the_portals_in_scope(
    portal, other_portal
):
    from entatio.insights.columnar import write_copy
    from entatio.insights.cube import prepare

    make_member(portal, "m1@acme.test", attributes={"plan": "gold"})
    make_member(other_portal, "m2@partner.test", attributes={"tier": "silver"})
    copy = write_copy(portal.organization)

    ours = prepare(copy, portal_ids=[portal.pk])
    theirs = prepare(copy, portal_ids=[other_portal.pk])

    assert "attribute:plan" in ours.person_fields
    assert "attribute:tier" not in ours.person_fields
    assert "attribute:tier" in theirs.person_fields
    assert "attribute:plan" not in theirs.person_fields


def test_tagging_a_slide_of_another_portal_is_refused_in_words(
    portal, other_portal, org
):
    from entatio.insights.models import SlideTopic, Topic
    from entatio.library.models import Slide

    pat = make_member(other_portal, "pat@partner.test", role="author")
    topic = Topic.objects.create(organization=org, label="Pricing")
    theirs = Slide.objects.create(portal=portal, title="Internal: pricing guidance")

    response = _client(pat).post(
        f"/insights/{other_portal.pk}/market/",
        {"action": "tag", "topic": topic.pk, "slide": theirs.pk},
    )

    assert response.status_code == 400
    assert response.content.decode().startswith("There is no such slide in the")
    assert not SlideTopic.objects.exists()


def test_the_command_counts_the_audience_of_the_portal_named(portal, other_portal):
    import argparse

    from entatio.cli.insights import _prepared

    for place in (portal, other_portal):
        place.kind = "customer"
        place.save()
    ours = {make_member(portal, f"c{i}@acme.test").pk for i in range(2)}
    theirs = {make_member(other_portal, "p1@partner.test").pk}

    def audience(slug):
        prepared = _prepared(argparse.Namespace(portal=slug))
        rows = prepared.connection.execute("SELECT member_id FROM scope_members")
        return {member_id for (member_id,) in rows.fetchall()}

    assert audience("customers") == ours
    assert audience("product") == theirs
    assert audience(None) == ours | theirs


def test_copies_written_within_one_second_keep_the_current_one(portal):
    from entatio.insights.columnar import current_copy, write_copy

    copies = [write_copy(portal.organization) for _ in range(5)]

    current = current_copy(portal.organization.pk)
    assert current is not None and current.folder == copies[-1].folder
    assert (current.folder / "portals.parquet").exists()
    assert copies[-2].folder.exists()
    assert not copies[0].folder.exists()

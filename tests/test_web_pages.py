"""What the pages show and what their forms change, persona by persona."""

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from entatio.engagement.models import ActivityRecord, Share
from entatio.library.editing import shown_slides
from entatio.library.models import Source
from entatio.people.models import Account, Member, SharingGroup
from tests.personas import make_member
from tests.shared import corpus_dir
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import (
    make_deck,
    png_bytes,
    second_group,
    slides_of,
    viewed,
)


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# Library


def test_the_member_sees_only_what_is_shared(deck, secret, client_of):
    page = html(client_of("member").get(reverse("library")))

    assert "Versioning" in page
    assert "Roadmap" not in page
    cover = slides_of(deck)[0]
    assert reverse("slide_thumbnail", args=[cover.pk]) in page
    assert reverse("upload") not in page
    assert reverse("editor", args=[deck.pk]) not in page


def test_an_outsider_sees_an_empty_library(deck, secret, client_of):
    page = html(client_of("outsider").get(reverse("library")))

    assert "Nothing has been shared with you yet." in page
    assert "Versioning" not in page


def test_authors_see_everything_with_import_status(portal, deck, secret, client_of):
    Source.objects.create(
        portal=portal,
        original_name="broken.pptx",
        content_hash="x",
        status=Source.Status.FAILED,
        error="broken.pptx cannot be read: it is damaged.",
    )
    Source.objects.create(
        portal=portal,
        original_name="big.pdf",
        content_hash="y",
        status=Source.Status.PROCESSING,
        progress_done=3,
        progress_total=40,
    )

    page = html(client_of("author").get(reverse("library")))

    assert "Versioning" in page and "Roadmap" in page
    assert reverse("upload") in page
    assert reverse("engagement", args=[secret.pk]) in page
    assert "broken.pptx cannot be read: it is damaged." in page
    assert "slide 3 of 40" in page
    assert page.count('class="badge ready"') == 2


def test_the_library_costs_the_same_queries_for_more_presentations(
    portal, deck, client_of, django_assert_num_queries
):
    client = client_of("author")
    client.get(reverse("library"))
    # session, user, member, memberships, presentations, unfinished imports
    with django_assert_num_queries(6):
        client.get(reverse("library"))

    for n in range(3):
        make_deck(portal, f"More {n}", ["red", "blue"])
    with django_assert_num_queries(6):
        page = html(client.get(reverse("library")))
    assert page.count('class="card"') == 4


# Portals


def test_one_login_switches_between_portals(portal, other_portal, deck, member):
    make_deck(other_portal, "Internal plans", ["red"])
    Member.objects.create(
        portal=other_portal, user=member.user, email=member.email, role="author"
    )
    client = Client()
    client.force_login(member.user)

    first = html(client.get(reverse("library")))
    assert "Versioning" in first and "Internal plans" not in first
    assert 'name="portal"' in first

    client.post(reverse("switch_portal"), {"portal": other_portal.pk})
    second = html(client.get(reverse("library")))
    assert "Internal plans" in second and "Versioning" not in second
    # The deck of the first portal is now out of reach, as if it did not exist.
    assert client.get(reverse("viewer", args=[deck.pk])).status_code == 404


def test_a_lost_membership_falls_back_to_another_portal(portal, other_portal, member):
    elsewhere = Member.objects.create(
        portal=other_portal, user=member.user, email=member.email
    )
    client = Client()
    client.force_login(member.user)
    client.post(reverse("switch_portal"), {"portal": other_portal.pk})

    elsewhere.delete()

    page = html(client.get(reverse("library")))
    assert f'<span class="portal-name">{portal.name}</span>' in page


def test_a_user_without_a_portal_is_told_so(transactional_db):
    user = User.objects.create_user("lonely", password="pw-lonely-1")
    client = Client()
    client.force_login(user)

    response = client.get(reverse("library"))

    assert response.status_code == 404
    assert "You are not in a portal yet" in response.content.decode()


# Log in and out


def test_login_and_logout(member):
    client = Client()
    page = html(client.get(reverse("login")))
    assert 'autocomplete="current-password"' in page

    wrong = client.post(
        reverse("login"), {"username": member.email, "password": "nope"}
    )
    assert "Please enter a correct username and password" in wrong.content.decode()

    right = client.post(
        reverse("login"), {"username": member.email, "password": "pw-" + member.email}
    )
    assert right.status_code == 302 and right["Location"] == reverse("library")

    out = client.post(reverse("logout"))
    assert out["Location"] == reverse("login")
    assert client.get(reverse("library")).status_code == 302


# Upload


def upload(client: Client, name: str, content: bytes, **fields) -> tuple[int, dict]:
    response = client.post(
        reverse("upload_file"),
        {"file": SimpleUploadedFile(name, content), **fields},
    )
    return response.status_code, response.json()


def test_an_upload_becomes_a_presentation(author, client_of):
    client = client_of("author")

    status, body = upload(client, "Orange.png", png_bytes("orange"), title="Colours")

    assert status == 201
    followed = client.get(body["status_url"]).json()
    assert followed["status"] == "ready"
    assert followed["name"] == "Orange.png"
    presentation = followed["presentation"]
    assert presentation["title"] == "Colours"
    assert presentation["editor_url"] == reverse("editor", args=[presentation["id"]])
    source = Source.objects.get(pk=body["id"])
    assert source.uploaded_by == author
    assert source.presentations.get().pk == presentation["id"]


def test_an_unreadable_file_is_refused_with_its_name(client_of):
    status, body = upload(client_of("author"), "notes.pptx", b"not a deck at all")

    assert status == 400
    assert "notes.pptx" in body["error"]
    assert body["needs_password"] is False
    assert Source.objects.count() == 0


def test_an_upload_needs_a_file(client_of):
    response = client_of("author").post(reverse("upload_file"), {"title": "x"})

    assert response.status_code == 400
    assert response.json()["error"].startswith("File:")


@pytest.mark.soffice
def test_a_protected_deck_asks_for_its_password(client_of):
    path = corpus_dir() / "pptx-password-tika.pptx"
    client = client_of("author")

    status, body = upload(client, path.name, path.read_bytes())
    assert status == 400
    assert body["needs_password"] is True

    status, body = upload(client, path.name, path.read_bytes(), password="tika")
    assert status == 201
    assert client.get(body["status_url"]).json()["status"] == "ready"


# Slide editor


def test_the_editor_lists_every_place_in_order(deck, client_of):
    page = html(client_of("author").get(reverse("editor", args=[deck.pk])))

    positions = [page.index(f'value="Versioning {n}"') for n in range(1, 5)]
    assert positions == sorted(positions)
    assert page.count('class="slide-row is-hidden"') == 1
    assert '<span id="shown-count">3</span> of 4 slides shown' in page


def test_editing_titles_and_descriptions(deck, client_of):
    client = client_of("author")
    slide = slides_of(deck)[0]

    response = client.post(
        reverse("edit_slide", args=[deck.pk, slide.pk]),
        {"title": "  Why versions  ", "description": "Said at the start."},
        HTTP_ACCEPT="application/json",
    )
    renamed = client.post(
        reverse("rename_presentation", args=[deck.pk]), {"title": "Version control"}
    )

    assert response.json() == {
        "ok": True,
        "message": "Slide saved.",
        "title": "Why versions",
        "description": "Said at the start.",
    }
    slide.refresh_from_db()
    deck.refresh_from_db()
    assert (slide.title, slide.description) == ("Why versions", "Said at the start.")
    assert renamed["Location"] == reverse("editor", args=[deck.pk])
    assert deck.title == "Version control"


def test_an_empty_title_is_refused(deck, client_of):
    response = client_of("author").post(
        reverse("rename_presentation", args=[deck.pk]),
        {"title": "   "},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert response.json()["error"]
    deck.refresh_from_db()
    assert deck.title == "Versioning"


def test_hiding_and_showing_slides(deck, member, client_of):
    client = client_of("author")
    first, *_, hidden = slides_of(deck)

    client.post(reverse("hide_slide", args=[deck.pk, first.pk]), {"hidden": "on"})
    client.post(reverse("hide_slide", args=[deck.pk, hidden.pk]), {"hidden": ""})

    titles = [s.title for s in shown_slides(deck)]
    assert titles == ["Versioning 2", "Versioning 3", "Versioning 4"]
    assert ActivityRecord.objects.get(member=member, slide=first).archived
    assert not ActivityRecord.objects.get(member=member, slide=hidden).archived


def test_moving_and_reordering(deck, client_of):
    client = client_of("author")
    s1, s2, s3, s4 = slides_of(deck)

    client.post(reverse("move_slide", args=[deck.pk, s1.pk]), {"direction": "down"})
    client.post(reverse("move_slide", args=[deck.pk, s4.pk]), {"direction": "down"})
    assert slides_of(deck) == [s2, s1, s3, s4]

    order = ",".join(str(s.pk) for s in (s4, s3, s2, s1))
    response = client.post(
        reverse("reorder_slides", args=[deck.pk]),
        {"order": order},
        HTTP_ACCEPT="application/json",
    )
    assert response.json()["ok"] is True
    assert slides_of(deck) == [s4, s3, s2, s1]


def test_an_incomplete_order_is_refused(deck, client_of):
    s1, s2, *_ = slides_of(deck)

    response = client_of("author").post(
        reverse("reorder_slides", args=[deck.pk]),
        {"order": f"{s2.pk},{s1.pk}"},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 400
    assert "every slide" in response.json()["error"]
    assert slides_of(deck)[:2] == [s1, s2]


# Sharing


def test_sharing_with_an_existing_group(portal, deck, outsider, client_of):
    team = second_group(portal, outsider)

    response = client_of("author").post(
        reverse("share_with_group", args=[deck.pk]), {"group": team.pk}
    )

    assert response["Location"] == reverse("share", args=[deck.pk])
    # Three shown slides; the hidden one makes no record.
    assert ActivityRecord.objects.filter(member=outsider, archived=False).count() == 3
    page = html(client_of("author").get(reverse("share", args=[deck.pk])))
    assert "Second wave" in page and "Globex admins" in page


def test_creating_a_group_to_share_with(portal, secret, member, outsider, client_of):
    response = client_of("owner").post(
        reverse("share_with_new_group", args=[secret.pk]),
        {"name": " Pilot  customers ", "members": [member.pk, outsider.pk]},
    )

    assert response.status_code == 302
    group = SharingGroup.objects.get(name="Pilot customers")
    assert set(group.members.all()) == {member, outsider}
    assert Share.objects.filter(presentation=secret, group=group).exists()
    assert ActivityRecord.objects.filter(slide__in=slides_of(secret)).count() == 4
    assert (
        client_of("outsider").get(reverse("viewer", args=[secret.pk])).status_code
        == 200
    )


def test_a_group_name_is_taken_once(group, secret, client_of):
    response = client_of("owner").post(
        reverse("share_with_new_group", args=[secret.pk]),
        {"name": "globex ADMINS", "members": []},
    )

    assert response.status_code == 400
    assert "already exists" in response.content.decode()
    assert SharingGroup.objects.count() == 1


def test_members_of_another_portal_cannot_join(secret, stranger, client_of):
    response = client_of("owner").post(
        reverse("share_with_new_group", args=[secret.pk]),
        {"name": "Mixed", "members": [stranger.pk]},
    )

    assert response.status_code == 400
    assert not SharingGroup.objects.filter(name="Mixed").exists()


def test_revoking_archives_records_and_closes_the_viewer(
    deck, group, member, client_of
):
    client_of("author").post(reverse("revoke_share", args=[deck.pk, group.pk]))

    records = ActivityRecord.objects.filter(member=member)
    assert records.count() == 3
    assert all(r.archived for r in records)
    assert client_of("member").get(reverse("viewer", args=[deck.pk])).status_code == 404
    image = reverse("slide_image", args=[slides_of(deck)[0].pk])
    assert client_of("member").get(image).status_code == 404


# Viewer


def test_the_viewer_shows_only_shown_slides(deck, client_of):
    response = client_of("member").get(reverse("viewer", args=[deck.pk]) + "?slide=2")

    slides = response.context["slide_data"]
    assert [s["title"] for s in slides] == [
        "Versioning 1",
        "Versioning 2",
        "Versioning 3",
    ]
    assert response.context["slide"].title == "Versioning 2"
    config = response.context["viewer_config"]
    assert config["presentation"] == deck.pk and config["position"] == 2
    assert f'"visit": "{config["visit"]}"' in response.content.decode()


def test_a_slide_number_out_of_range_is_kept_within_the_deck(deck, client_of):
    client = client_of("member")
    url = reverse("viewer", args=[deck.pk])

    assert client.get(url + "?slide=99").context["position"] == 3
    assert client.get(url + "?slide=-4").context["position"] == 1
    assert client.get(url + "?slide=two").context["position"] == 1


# Engagement


@pytest.fixture
def audience(portal, org, deck, group, member):
    """Three members with accounts, user types and some slides seen."""
    initech = Account.objects.create(organization=org, name="Initech")
    bea = make_member(
        portal, "bea@initech.test", user_type="developer", account=initech
    )
    cal = make_member(portal, "cal@nowhere.test", user_type="")
    group.members.add(bea, cal)
    s1, s2, _, _ = slides_of(deck)
    ActivityRecord.objects.filter(member=bea, slide__in=[s1, s2]).update(visits=1)
    ActivityRecord.objects.filter(member=member, slide=s1).update(visits=3)
    return {"ada": member, "bea": bea, "cal": cal}


def grid_order(client: Client, deck, sort: str) -> list[str]:
    report = client.get(reverse("engagement", args=[deck.pk]), {"sort": sort})
    return [row.member.email for row in report.context["report"].members]


def test_the_grid_sorts_by_account_user_type_and_seen(audience, deck, client_of):
    client = client_of("author")

    assert grid_order(client, deck, "account") == [
        "ada@globex.test",
        "bea@initech.test",
        "cal@nowhere.test",
    ]
    assert grid_order(client, deck, "user_type") == [
        "ada@globex.test",
        "bea@initech.test",
        "cal@nowhere.test",
    ]
    assert grid_order(client, deck, "seen") == [
        "bea@initech.test",
        "ada@globex.test",
        "cal@nowhere.test",
    ]
    assert grid_order(client, deck, "nonsense") == grid_order(client, deck, "")


def test_the_engagement_page_counts_states(audience, deck, client_of):
    page = html(client_of("author").get(reverse("engagement", args=[deck.pk])))

    s1 = slides_of(deck)[0]
    row = page[page.index(f'data-slide="{s1.pk}"') :]
    cells = [
        row.split(f'data-state="{state}">')[1].split("<")[0]
        for state in (
            "not_yet_viewed",
            "viewed",
            "not_yet_viewed_again",
            "viewed_again",
        )
    ]
    assert cells == ["1", "2", "1", "1"]
    assert page.count('data-state="viewed_again" data-visits="3"') == 1


def test_the_grid_downloads_as_csv(audience, deck, client_of):
    audience["cal"].first_name = "=HYPERLINK(1)"
    audience["cal"].save()

    response = client_of("author").get(
        reverse("engagement_csv", args=[deck.pk]), {"sort": "account"}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="versioning-engagement.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0] == [
        "email",
        "name",
        "account",
        "user_type",
        "slides_seen",
        "1. Versioning 1",
        "2. Versioning 2",
        "3. Versioning 3",
    ]
    assert rows[1] == [
        "ada@globex.test",
        "Ada",
        "Globex",
        "admin",
        "1",
        "viewed_again",
        "not_yet_viewed",
        "not_yet_viewed",
    ]
    assert rows[2][4:6] == ["2", "viewed"]
    assert rows[3][1] == "'=HYPERLINK(1)"


def test_events_json_round_trip_matches_the_report(deck, member, client_of):
    """The page's own numbers after real events, not set by hand."""
    client = client_of("member")
    visit = client.get(reverse("viewer", args=[deck.pk])).context["viewer_config"][
        "visit"
    ]
    s1 = slides_of(deck)[0]
    now = datetime.now(UTC)
    client.post(
        reverse("record_events"),
        json.dumps({"events": [viewed(s1, deck, now, 3000, visit)]}),
        content_type="application/json",
    )

    page = html(client_of("author").get(reverse("engagement", args=[deck.pk])))
    assert 'data-state="viewed" data-visits="1"' in page


def test_the_engagement_page_costs_the_same_queries_for_more_members(
    portal, deck, group, client_of, django_assert_num_queries
):
    client = client_of("author")
    url = reverse("engagement", args=[deck.pk])
    client.get(url)
    # session, user, member, memberships, presentation, slides, audience, records
    with django_assert_num_queries(8):
        client.get(url)

    group.members.add(*(make_member(portal, f"m{n}@x.test") for n in range(5)))
    with django_assert_num_queries(8):
        page = html(client.get(url))
    assert page.count('<tr data-member="') == 6

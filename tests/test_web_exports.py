"""Export downloads: authors of a portal get that portal's history only."""

import io
import json
import uuid
import zipfile
from datetime import UTC, datetime

import pytest
from django.urls import reverse

from entatio.engagement.events import record_events
from tests.test_web_fixtures import *  # noqa: F403
from tests.test_web_fixtures import PERSONAS, make_deck, slides_of, viewed

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def history(portal, other_portal, deck, member, stranger):
    """Two events in the portal, one in the other portal by the stranger."""
    first, second, *_ = slides_of(deck)
    visit = str(uuid.uuid4())
    record_events(
        portal,
        [viewed(first, deck, T0, 3500, visit), viewed(second, deck, T0, 1200, visit)],
        member=member,
    )
    elsewhere = make_deck(other_portal, "Internal roadmap", ["black"])
    record_events(
        other_portal,
        [viewed(slides_of(elsewhere)[0], elsewhere, T0, 9000, str(uuid.uuid4()))],
        member=stranger,
    )


def status_of(client, url):
    response = client.get(url)
    if response.status_code == 302 and "/login/" in response["Location"]:
        return "login"
    return response.status_code


@pytest.mark.parametrize("kind", ["xapi", "visits", "parquet"])
def test_only_authors_download_exports(kind, history, client_of):
    got = {
        persona: status_of(client_of(persona), reverse("export_file", args=[kind]))
        for persona in PERSONAS
    }
    # The stranger is an author of the other portal: their own history.
    assert got == dict(zip(PERSONAS, (200, 200, 403, 403, 200, "login"), strict=True))


def test_exports_page_is_for_authors(history, client_of):
    got = {p: status_of(client_of(p), reverse("exports")) for p in PERSONAS}
    assert got == dict(zip(PERSONAS, (200, 200, 403, 403, 200, "login"), strict=True))


def test_an_export_holds_the_portal_s_history_only(history, client_of, member):
    response = client_of("author").get(reverse("export_file", args=["xapi"]))
    statements = [json.loads(line) for line in b"".join(response).splitlines()]

    assert len(statements) == 2
    assert {s["actor"]["mbox"] for s in statements} == {f"mailto:{member.email}"}

    response = client_of("stranger").get(reverse("export_file", args=["xapi"]))
    [elsewhere] = [json.loads(line) for line in b"".join(response).splitlines()]
    assert elsewhere["result"]["duration"] == "PT9S"


def test_parquet_download_is_a_zip_of_partitions(history, client_of):
    response = client_of("owner").get(reverse("export_file", args=["parquet"]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response)))

    names = archive.namelist()
    assert any(n.startswith("events/date=2026-03-02/") for n in names)
    assert any(n.startswith("records/date=") for n in names)


def test_my_data_is_the_member_s_own(history, client_of, member):
    response = client_of("member").get(reverse("my_data"))
    document = json.loads(response.content)

    assert document["member"]["email"] == member.email
    assert len(document["statements"]) == 2
    assert status_of(client_of("anonymous"), reverse("my_data")) == "login"
    outsider = json.loads(client_of("outsider").get(reverse("my_data")).content)
    assert outsider["statements"] == []

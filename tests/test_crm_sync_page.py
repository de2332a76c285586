"""The sync page: who may open it, and what it shows after real syncs."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from entatio.crm.models import OutboxEntry, SyncRun
from entatio.crm.sync import sync_with_salesforce
from tests.personas import *  # noqa: F403
from tests.test_crm_fixtures import *  # noqa: F403

# The site's own pages and the CRM's, as src/entatio/urls.py is to have them.

RECORD = "Entatio_Activity_Record__c"


def client_of(member) -> Client:
    client = Client()
    if member is not None:
        client.force_login(member.user)
    return client


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("owner", 200),
        ("author", 200),
        ("member", 403),
        ("outsider", 403),
        ("stranger", 404),
        ("anonymous", 302),
    ],
)
def test_only_owners_and_authors_of_the_portal_see_it(
    request, portal, persona, expected
):
    who = None if persona == "anonymous" else request.getfixturevalue(persona)

    response = client_of(who).get(reverse("crm_sync", args=[portal.pk]))

    assert response.status_code == expected
    if persona == "anonymous":
        assert response["Location"].startswith("/login/")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("author", 302), ("member", 403), ("stranger", 404), ("anonymous", 302)],
)
def test_only_authors_may_start_a_sync_or_retry_rows(
    request, portal, connected, persona, expected
):
    who = None if persona == "anonymous" else request.getfixturevalue(persona)

    for name in ("crm_sync_now", "crm_retry_failed"):
        response = client_of(who).post(reverse(name, args=[portal.pk]))
        assert response.status_code == expected
    if persona != "author":
        assert not SyncRun.objects.exists()


def test_the_page_shows_runs_backlog_and_every_failed_row(
    org, portal, author, connected, course
):
    refused = f"record-{course.other.pk}-{course.places[0].pk}"
    connected.reject(RECORD, refused, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Bo is out")
    connected.fail("limit", times=5, path="query")
    sync_with_salesforce(org)
    sync_with_salesforce(org)

    page = client_of(author).get(reverse("crm_sync", args=[portal.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert f'<span id="login-url">{connected.url}</span> by client-credentials' in text
    assert text.count('data-outcome="limited"') == 1
    assert text.count('data-outcome="partial"') == 1
    assert "REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded." in text
    assert f"<td>{refused}</td>" in text
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION:No Bo" not in text
    assert "Bo is out" in text
    assert "0 rows waiting to be sent." in text
    assert connected.client_secret not in text


def test_the_page_costs_the_same_queries_however_many_rows_failed(
    org, portal, author, connected, course
):
    client = client_of(author)
    url = reverse("crm_sync", args=[portal.pk])
    sync_with_salesforce(org)
    first = OutboxEntry.objects.filter(sobject=RECORD).order_by("pk").first()
    OutboxEntry.objects.filter(pk=first.pk).update(
        state="failed", last_error="x", next_attempt_at=timezone.now()
    )
    with CaptureQueriesContext(connection) as few:
        client.get(url)

    OutboxEntry.objects.filter(sobject=RECORD).update(
        state="failed", last_error="x", next_attempt_at=timezone.now()
    )
    SyncRun.objects.create(organization=org, started_at=timezone.now())
    with CaptureQueriesContext(connection) as many:
        page = client.get(url)

    assert page.content.decode().count("<td>x</td>") == 6
    assert len(many) == len(few) == 8


def test_sync_now_runs_a_sync_and_retry_makes_failed_rows_due(
    org, portal, author, connected, course
):
    connected.reject(RECORD, f"record-{course.member.pk}-{course.places[0].pk}")
    client = client_of(author)

    response = client.post(reverse("crm_sync_now", args=[portal.pk]))

    assert response.status_code == 302
    # The test settings run tasks at once, right after the commit.
    run = SyncRun.objects.get()
    assert (run.trigger, run.outcome) == ("demand", "partial")
    failed = OutboxEntry.objects.get(state="failed")
    assert failed.next_attempt_at > timezone.now() + timedelta(minutes=4)

    client.post(reverse("crm_retry_failed", args=[portal.pk]))
    client.post(reverse("crm_sync_now", args=[portal.pk]))

    assert not OutboxEntry.objects.exclude(state="sent").exists()


def test_without_a_connection_the_page_says_so(portal, owner, settings):
    settings.ENTATIO_SALESFORCE = {}

    page = client_of(owner).get(reverse("crm_sync", args=[portal.pk]))

    assert 'id="not-connected"' in page.content.decode()

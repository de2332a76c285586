"""The Salesforce connector against the local stand-in: pull, push, trouble.

Every test talks HTTPS to a real server on 127.0.0.1 that answers in
Salesforce's documented shapes; backoffs are set to zero, so nothing sleeps.
"""

import logging
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import time_machine
from django.utils import timezone

from entatio.crm.ids import salesforce_id_18
from entatio.crm.models import (
    Contact,
    MemberContact,
    Opportunity,
    OutboxEntry,
    PullMark,
)
from entatio.crm.push import LiveSessionSummary, stage_live_session
from entatio.crm.sync import sync_with_salesforce
from entatio.engagement.models import ActivityRecord
from entatio.people.models import Account
from tests.personas import *  # noqa: F403
from tests.personas import make_member
from tests.test_crm_fixtures import *  # noqa: F403
from tests.test_crm_fixtures import ADA_CONTACT, GLOBEX_ACCOUNT, connect

RECORD = "Entatio_Activity_Record__c"


def record_id(course, member, position: int) -> str:
    return f"record-{member.pk}-{course.places[position - 1].pk}"


def states(standin, external_id: str) -> tuple:
    record = standin.external(RECORD, external_id)
    return record["First_View__c"], record["Return__c"], record["Visits__c"]


# Pull ----------------------------------------------------------------------


def test_pull_reads_pages_and_then_only_what_changed(org, connected, portal):
    connected.page_size = 1
    stamp = "2026-02-01T08:00:00.000+0000"
    initech = connected.seed(
        "Account",
        Name="Initech",
        Industry="Software",
        Type="Customer - Direct",
        NumberOfEmployees=420,
        AnnualRevenue=12500000.5,
        BillingCountry="Germany",
        SystemModstamp=stamp,
    )
    hooli = connected.seed("Account", Name="Hooli", SystemModstamp=stamp)
    connected.seed(
        "Contact",
        AccountId=initech["Id"],
        Email="Peter@Initech.test",
        FirstName="Peter",
        LastName="Gibbons",
        Title="Engineer",
        SystemModstamp=stamp,
    )
    for month, amount in ((1, 1000), (3, 2500)):
        connected.seed(
            "Opportunity",
            AccountId=initech["Id"],
            Name=f"Renewal {month}",
            StageName="Closed Won",
            Amount=amount,
            CloseDate=f"2026-0{month}-15",
            IsWon=True,
            IsClosed=True,
            SystemModstamp=stamp,
        )
    peter = make_member(portal, "peter@initech.test")

    first = sync_with_salesforce(org)

    assert first.outcome == "done"
    assert first.counts["pulled"]["Account"]["created"] == 2
    assert first.counts["pulled"]["Contact"]["created"] == 1
    assert first.counts["pulled"]["Opportunity"]["created"] == 2
    # One record a page: the accounts and opportunities took a queryMore.
    assert connected.calls("queryMore") == 2
    account = Account.objects.get(crm_id=initech["Id"])
    assert (account.name, account.industry, account.account_type) == (
        "Initech",
        "Software",
        "Customer - Direct",
    )
    assert (account.employees, account.annual_revenue, account.region) == (
        420,
        Decimal("12500000.50"),
        "Germany",
    )
    assert sorted(
        Opportunity.objects.filter(account=account).values_list("close_date", "amount")
    ) == [
        (date(2026, 1, 15), Decimal("1000.00")),
        (date(2026, 3, 15), Decimal("2500.00")),
    ]
    peter.refresh_from_db()
    assert peter.account == account
    assert MemberContact.objects.get(member=peter).contact.email == "peter@initech.test"
    assert PullMark.objects.get(organization=org, sobject="Account").high_water == (
        datetime(2026, 2, 1, 8, tzinfo=UTC)
    )

    connected.update(
        "Account",
        hooli["Id"],
        Industry="Media",
        SystemModstamp="2026-02-02T09:30:00.000+0000",
    )
    second = sync_with_salesforce(org)

    pulled = second.counts["pulled"]["Account"]
    # Same-second records are read again (>= the mark) and change nothing.
    assert (pulled["created"], pulled["updated"], pulled["unchanged"]) == (0, 1, 1)
    assert Account.objects.get(crm_id=hooli["Id"]).industry == "Media"
    assert second.counts["pulled"]["Opportunity"]["unchanged"] == 2


def test_pulled_rows_with_problems_are_reported_and_the_rest_kept(org, connected):
    connected.seed("Account", Name="Good", SystemModstamp="2026-02-01T08:00:00Z")
    connected.seed(
        "Contact",
        AccountId=salesforce_id_18("001Sx0000000ZZZ"),
        Email="lost@nowhere.test",
        SystemModstamp="2026-02-01T08:00:00Z",
    )

    run = sync_with_salesforce(org)

    contacts = run.counts["pulled"]["Contact"]
    assert contacts["created"] == 0
    assert "is not among the accounts" in contacts["errors"][0]["reason"]
    assert Account.objects.filter(name="Good").exists()


# Push ----------------------------------------------------------------------


def test_push_writes_courses_sections_and_records_in_four_states(
    org, connected, course
):
    run = sync_with_salesforce(org)

    assert run.outcome == "done"
    assert run.counts["staged"] == {
        "Entatio_Course__c": 1,
        "Entatio_Section__c": 3,
        RECORD: 6,
    }
    assert run.counts["pushed"]["calls"] == {"sobject": 1, "collection": 2}
    presentation = course.presentation
    assert (
        connected.external("Entatio_Course__c", f"course-{presentation.pk}")[
            "Slides__c"
        ]
        == 3
    )
    section = connected.external("Entatio_Section__c", f"section-{course.places[1].pk}")
    course_row = connected.external("Entatio_Course__c", f"course-{presentation.pk}")
    assert (section["Position__c"], section["Course__c"]) == (2, course_row["Id"])

    ada, bo = course.member, course.other
    assert states(connected, record_id(course, ada, 1)) == ("Viewed", "Viewed again", 2)
    assert states(connected, record_id(course, ada, 2)) == (
        "Viewed",
        "Not yet viewed again",
        1,
    )
    assert states(connected, record_id(course, ada, 3)) == ("Not yet viewed", None, 0)
    ada_record = connected.external(RECORD, record_id(course, ada, 1))
    assert (ada_record["Contact__c"], ada_record["Account__c"]) == (
        ADA_CONTACT,
        GLOBEX_ACCOUNT,
    )
    bo_record = connected.external(RECORD, record_id(course, bo, 1))
    assert (bo_record["Contact__c"], bo_record["Member_Email__c"]) == (
        None,
        "bo@initech.test",
    )
    assert OutboxEntry.objects.filter(state="sent").count() == 10


def test_a_second_sync_sends_only_what_changed(org, connected, course):
    sync_with_salesforce(org)
    writes_before = connected.calls("collection") + connected.calls("sobject")

    quiet = sync_with_salesforce(org)
    assert quiet.counts["staged"] == {}
    assert connected.calls("collection") + connected.calls("sobject") == writes_before

    ActivityRecord.objects.filter(
        member=course.other, slide=course.places[2].slide
    ).update(visits=1)
    changed = sync_with_salesforce(org)

    assert changed.counts["staged"] == {RECORD: 1}
    assert changed.counts["pushed"]["calls"] == {"sobject": 1}
    assert states(connected, record_id(course, course.other, 3)) == (
        "Viewed",
        "Not yet viewed again",
        1,
    )
    assert max(connected.creations.values()) == 1


def test_many_rows_go_through_bulk_and_only_failed_rows_are_retried(
    org, standin, settings, course
):
    connect(settings, org, standin, bulk_threshold=3)
    ada, bo = course.member, course.other
    refused = record_id(course, bo, 2)
    standin.reject(RECORD, refused, "FIELD_CUSTOM_VALIDATION_EXCEPTION", "No Bo")

    first = sync_with_salesforce(org)

    assert first.outcome == "partial"
    assert first.counts["pushed"]["calls"] == {"sobject": 1, "collection": 1, "bulk": 1}
    assert first.counts["pushed"]["failed"] == 1
    failed = OutboxEntry.objects.get(state="failed")
    assert failed.external_id == refused
    assert failed.last_error == "FIELD_CUSTOM_VALIDATION_EXCEPTION:No Bo:--"
    assert standin.external(RECORD, refused) is None
    assert standin.count(RECORD) == 5

    # Within the row's backoff nothing is sent again.
    assert sync_with_salesforce(org).counts["pushed"]["sent"] == 0

    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        retry = sync_with_salesforce(org)

    assert retry.outcome == "done"
    assert retry.counts["pushed"] == {
        "sent": 1,
        "created": 1,
        "failed": 0,
        "unanswered": 0,
        "superseded": 0,
        "calls": {"sobject": 1},
    }
    assert standin.external(RECORD, refused)["Visits__c"] == 0
    # Every other record was written exactly once.
    assert standin.writes[(RECORD, record_id(course, ada, 1))] == 1
    assert not OutboxEntry.objects.exclude(state="sent").exists()


def test_a_bulk_job_reports_rows_by_their_external_id(org, standin, settings, course):
    connect(settings, org, standin, bulk_threshold=1)
    for position in (1, 3):
        standin.reject(RECORD, record_id(course, course.member, position))

    run = sync_with_salesforce(org)

    assert standin.calls("bulk-poll") >= 2
    failed = set(
        OutboxEntry.objects.filter(state="failed").values_list("external_id", flat=True)
    )
    assert failed == {
        record_id(course, course.member, 1),
        record_id(course, course.member, 3),
    }
    assert run.counts["pushed"]["sent"] == 8


def test_a_section_whose_course_failed_fails_with_salesforce_reason(
    org, connected, course
):
    connected.reject("Entatio_Course__c", f"course-{course.presentation.pk}")

    run = sync_with_salesforce(org)

    assert run.outcome == "partial"
    section = OutboxEntry.objects.get(external_id=f"section-{course.places[0].pk}")
    assert section.state == "failed"
    assert "Foreign key external ID: course-" in section.last_error


def test_live_session_becomes_a_campaign_of_its_attending_contacts(
    org, connected, course
):
    sync_with_salesforce(org)
    session = LiveSessionSummary(
        id=7,
        title="Launch webinar",
        presentation_id=course.presentation.pk,
        started_at=datetime(2026, 3, 2, 15, tzinfo=UTC),
        ended_at=datetime(2026, 3, 2, 16, tzinfo=UTC),
        attendees=[course.member, course.other],
    )

    staged = stage_live_session(org, session)
    run = sync_with_salesforce(org)

    # Bo is no Salesforce contact, so only Ada can be a campaign member.
    assert staged == 2
    assert run.outcome == "done"
    campaign = connected.external("Campaign", "live-7")
    assert (campaign["Name"], campaign["Status"], campaign["StartDate"]) == (
        "Launch webinar",
        "Completed",
        "2026-03-02",
    )
    assert (
        campaign["Entatio_Course__c"]
        == connected.external("Entatio_Course__c", f"course-{course.presentation.pk}")[
            "Id"
        ]
    )
    attendee = connected.external("CampaignMember", f"live-7-member-{course.member.pk}")
    assert (attendee["CampaignId"], attendee["ContactId"], attendee["Status"]) == (
        campaign["Id"],
        ADA_CONTACT,
        "Responded",
    )
    assert connected.count("CampaignMember") == 1


# Trouble -------------------------------------------------------------------


def test_an_expired_session_signs_in_again_and_goes_on(org, connected, course):
    connected.fail("expired", path="composite/sobjects/Entatio_Section__c")

    run = sync_with_salesforce(org)

    assert run.outcome == "done"
    assert connected.logins == ["client_credentials", "client_credentials"]
    assert connected.count("Entatio_Section__c") == 3


def test_503_answers_are_retried_with_backoff(org, connected, course):
    connected.fail("unavailable", times=2, path="composite/sobjects")

    run = sync_with_salesforce(org)

    assert run.outcome == "done"
    assert connected.calls("unavailable") == 2
    assert connected.count(RECORD) == 6


def test_a_request_limit_is_waited_for_then_the_run_stops_and_keeps_the_rows(
    org, standin, settings, course
):
    connect(settings, org, standin, max_attempts=3)
    standin.fail("limit", times=3, path="composite/sobjects/Entatio_Section__c")

    limited = sync_with_salesforce(org)

    assert limited.outcome == "limited"
    assert "REQUEST_LIMIT_EXCEEDED" in limited.message
    assert standin.calls("limit") == 3
    assert OutboxEntry.objects.filter(state="pending").count() == 9

    resumed = sync_with_salesforce(org)
    assert resumed.outcome == "done"
    assert standin.count(RECORD) == 6


def test_a_request_limit_that_lifts_is_retried_within_the_run(org, connected, course):
    connected.fail("limit", times=1, path="query")

    run = sync_with_salesforce(org)

    assert run.outcome == "done"
    assert connected.calls("limit") == 1


def test_timeouts_are_retried_and_then_fail_the_run(org, standin, settings, course):
    connect(settings, org, standin, timeout=0.2, max_attempts=2)
    standin.delay = 0.3

    run = sync_with_salesforce(org)

    assert run.outcome == "failed"
    assert run.message.startswith("query: ")
    assert "ReadTimeout" in run.message
    standin.delay = 0
    assert sync_with_salesforce(org).outcome == "done"


def test_jwt_bearer_login(org, standin, settings, course):
    connect(
        settings,
        org,
        standin,
        client_secret="",
        username=standin.username,
        private_key=standin.keys.jwt_private_pem,
    )

    run = sync_with_salesforce(org)

    assert run.outcome == "done"
    assert standin.logins == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]


def test_a_refused_login_fails_the_run_with_what_to_check(org, standin, settings):
    connect(settings, org, standin, client_secret="wrong-secret")

    run = sync_with_salesforce(org)

    assert run.outcome == "failed"
    assert run.message == (
        "Salesforce refused the client-credentials login (invalid_client: invalid "
        "client credentials); check the connected app, its client id and the "
        "user's approval."
    )


def test_secrets_and_tokens_are_never_logged(org, standin, settings, course, caplog):
    connect(
        settings,
        org,
        standin,
        client_secret="",
        username=standin.username,
        private_key=standin.keys.jwt_private_pem,
        bulk_threshold=3,
    )
    standin.fail("expired", path="jobs/ingest")
    standin.fail("unavailable", path="composite")
    standin.reject(RECORD, record_id(course, course.other, 1))
    caplog.set_level(logging.DEBUG)

    run = sync_with_salesforce(org)

    assert run.outcome == "partial"
    assert len(standin.issued) == 2
    secrets = [*standin.issued, standin.client_secret, "BEGIN PRIVATE KEY"]
    key_body = standin.keys.jwt_private_pem.splitlines()[1]
    written = "\n".join(
        [r.getMessage() for r in caplog.records]
        + [run.message, str(run.counts)]
        + list(OutboxEntry.objects.values_list("last_error", flat=True))
    )
    assert "Signed in to Salesforce by jwt-bearer" in written
    for secret in [*secrets, key_body]:
        assert secret not in written


def test_contacts_matched_by_pull_get_their_lookups_on_the_next_push(
    org, connected, course
):
    """Bo becomes a contact in Salesforce; his records then point at it."""
    bo_contact = connected.seed(
        "Contact",
        AccountId=GLOBEX_ACCOUNT,
        Email="bo@initech.test",
        SystemModstamp="2026-02-03T08:00:00.000+0000",
    )

    sync_with_salesforce(org)

    assert Contact.objects.get(crm_id=bo_contact["Id"]).account.crm_id == GLOBEX_ACCOUNT
    bo_record = connected.external(RECORD, record_id(course, course.other, 1))
    assert (bo_record["Contact__c"], bo_record["Account__c"]) == (
        bo_contact["Id"],
        GLOBEX_ACCOUNT,
    )

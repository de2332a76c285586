"""What Entatio writes into Salesforce, and staging it in the outbox.

The design puts crm below library and engagement; this module alone reads
them, because pushing the engagement model is the CRM's side of it. Nothing
in those apps imports crm.

The model as Salesforce custom objects (their definitions are the sfdx
source under ``salesforce/`` at the top of the repository):

- ``Entatio_Course__c``: a presentation;
- ``Entatio_Section__c``: a slide in its place in a presentation, with a
  lookup to its course (a slide reused in two presentations is two
  sections, so that reports per course add up);
- ``Entatio_Activity_Record__c``: one member's activity record on one
  section, with its four states (first view: not yet viewed / viewed;
  return: not yet viewed again / viewed again), visits as the frequency,
  and lookups to the section, the course, the Contact and the Account;
- a ``Campaign`` per live session, whose ``CampaignMember`` rows are the
  attendees that are Salesforce contacts.

Every record is upserted by its ``Entatio_Id__c`` external id, so sending
one twice changes nothing. Staging compares each record's payload with the
last one staged and writes only what changed.
"""

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from entatio.crm.ids import is_salesforce_id
from entatio.crm.models import MemberContact, OutboxEntry
from entatio.engagement.models import ActivityRecord
from entatio.library.models import Presentation, PresentationSlide
from entatio.people.models import Member, Organization

EXTERNAL_ID = "Entatio_Id__c"
COURSE = "Entatio_Course__c"
SECTION = "Entatio_Section__c"
RECORD = "Entatio_Activity_Record__c"
CAMPAIGN = "Campaign"
CAMPAIGN_MEMBER = "CampaignMember"
# Lookups by external id need their target first: the order of sending.
RANKS = {COURSE: 0, SECTION: 1, RECORD: 2, CAMPAIGN: 3, CAMPAIGN_MEMBER: 4}
CHUNK = 1000
NAME_LENGTH = 80


@dataclass(frozen=True)
class Payload:
    sobject: str
    external_id: str
    fields: dict[str, Any]

    @property
    def digest(self) -> str:
        text = json.dumps(self.fields, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class LiveSessionSummary:
    """What the push needs of a live session; the live app will provide it.

    Live sessions are not in the product yet: this is the interface their
    app is to fill in, and the tests fill it with data of their own.
    """

    id: int
    title: str
    presentation_id: int
    started_at: datetime
    ended_at: datetime | None
    attendees: Sequence[Member]


# The mapping ------------------------------------------------------------------


def course_payload(presentation: Presentation, shown_slides: int) -> Payload:
    return Payload(
        COURSE,
        f"course-{presentation.pk}",
        {
            EXTERNAL_ID: f"course-{presentation.pk}",
            "Name": _name(presentation.title),
            "Title__c": presentation.title[:255],
            "Portal__c": presentation.portal.name[:255],
            "Slides__c": shown_slides,
            "Created__c": _stamp(presentation.created_at),
        },
    )


def section_payload(place: PresentationSlide) -> Payload:
    slide = place.slide
    return Payload(
        SECTION,
        f"section-{place.pk}",
        {
            EXTERNAL_ID: f"section-{place.pk}",
            "Name": _name(slide.title or f"Slide {place.position}"),
            "Course__r." + EXTERNAL_ID: f"course-{place.presentation_id}",
            "Position__c": place.position,
            "Slide_Id__c": slide.pk,
            "Kind__c": slide.kind,
            "Hidden__c": place.hidden,
        },
    )


def record_payload(
    record: ActivityRecord, place: PresentationSlide, contact_id: str | None
) -> Payload:
    """One record in its place; the states follow the design's table."""
    member = record.member
    account = member.account
    account_id = (
        account.crm_id if account and is_salesforce_id(account.crm_id) else None
    )
    external_id = f"record-{member.pk}-{place.pk}"
    return Payload(
        RECORD,
        external_id,
        {
            EXTERNAL_ID: external_id,
            "Section__r." + EXTERNAL_ID: f"section-{place.pk}",
            "Course__r." + EXTERNAL_ID: f"course-{place.presentation_id}",
            "Contact__c": contact_id,
            "Account__c": account_id,
            "Member_Email__c": "" if member.erased_at else member.email,
            "Member_Type__c": member.user_type[:100],
            "First_View__c": "Viewed" if record.visits >= 1 else "Not yet viewed",
            # The return record exists from the first view on.
            "Return__c": _return_state(record.visits),
            "Visits__c": record.visits,
            "First_Seen__c": _stamp(record.first_seen_at),
            "Last_Seen__c": _stamp(record.last_seen_at),
            "Dwell_Seconds__c": round(record.dwell_ms / 1000, 1),
            "Live_Visits__c": record.live_visits,
            "Self_Paced_Visits__c": record.self_paced_visits,
            "Archived__c": record.archived,
        },
    )


def campaign_payloads(
    session: LiveSessionSummary, contact_ids: dict[int, str], status: str
) -> list[Payload]:
    """The session's Campaign, then a CampaignMember per attendee with a contact."""
    campaign_id = f"live-{session.id}"
    payloads = [
        Payload(
            CAMPAIGN,
            campaign_id,
            {
                EXTERNAL_ID: campaign_id,
                "Name": _name(session.title),
                "Type": "Webinar",
                "Status": "Completed" if session.ended_at else "In Progress",
                "IsActive": session.ended_at is None,
                "StartDate": _day(session.started_at),
                "EndDate": _day(session.ended_at),
                "Entatio_Course__r." + EXTERNAL_ID: f"course-{session.presentation_id}",
            },
        )
    ]
    for member in session.attendees:
        contact_id = contact_ids.get(member.pk)
        if contact_id is None:
            continue
        member_id = f"{campaign_id}-member-{member.pk}"
        payloads.append(
            Payload(
                CAMPAIGN_MEMBER,
                member_id,
                {
                    EXTERNAL_ID: member_id,
                    "Campaign." + EXTERNAL_ID: campaign_id,
                    "ContactId": contact_id,
                    "Status": status,
                },
            )
        )
    return payloads


def _return_state(visits: int) -> str | None:
    if visits == 0:
        return None
    return "Viewed again" if visits >= 2 else "Not yet viewed again"


def _name(text: str) -> str:
    return (text or "Untitled")[:NAME_LENGTH]


def _stamp(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _day(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    value: date = moment.astimezone(UTC).date()
    return value.isoformat()


# What there is to push ----------------------------------------------------------


def organization_payloads(organization: Organization) -> Iterator[Payload]:
    """Every course, section and record of the organization, as payloads."""
    presentations = Presentation.objects.filter(
        portal__organization=organization
    ).select_related("portal")
    places = list(
        PresentationSlide.objects.filter(presentation__in=presentations)
        .select_related("slide")
        .order_by("pk")
    )
    shown: dict[int, int] = {}
    for place in places:
        shown[place.presentation_id] = shown.get(place.presentation_id, 0) + int(
            not place.hidden
        )

    for presentation in presentations.order_by("pk"):
        yield course_payload(presentation, shown.get(presentation.pk, 0))
    for place in places:
        yield section_payload(place)
    yield from _record_payloads(organization, places)


def _record_payloads(
    organization: Organization, places: list[PresentationSlide]
) -> Iterator[Payload]:
    places_of_slide: dict[int, list[PresentationSlide]] = {}
    for place in places:
        places_of_slide.setdefault(place.slide_id, []).append(place)
    contacts = contact_ids_of(organization)

    records = (
        ActivityRecord.objects.filter(slide_id__in=list(places_of_slide))
        .select_related("member", "member__account")
        .order_by("pk")
    )
    last = 0
    while True:
        chunk = list(records.filter(pk__gt=last)[:CHUNK])
        if not chunk:
            return
        for record in chunk:
            contact_id = (
                None if record.member.erased_at else contacts.get(record.member_id)
            )
            for place in places_of_slide[record.slide_id]:
                yield record_payload(record, place, contact_id)
        last = chunk[-1].pk


def contact_ids_of(organization: Organization) -> dict[int, str]:
    """Member id to the Salesforce Id of their contact, where it has one."""
    links = MemberContact.objects.filter(
        member__portal__organization=organization, member__erased_at=None
    ).values_list("member_id", "contact__crm_id")
    return {member: crm_id for member, crm_id in links if is_salesforce_id(crm_id)}


# Staging ---------------------------------------------------------------------------


def stage_changes(organization: Organization) -> dict[str, int]:
    """Put every course, section and record that changed into the outbox."""
    return stage_payloads(organization, organization_payloads(organization))


def stage_live_session(organization: Organization, session: LiveSessionSummary) -> int:
    """Stage a live session's Campaign and its attendees; returns rows changed."""
    from entatio.crm.config import salesforce_config

    config = salesforce_config(organization)
    status = config.campaign_member_status if config else "Responded"
    payloads = campaign_payloads(session, contact_ids_of(organization), status)
    return sum(stage_payloads(organization, payloads).values())


def stage_payloads(
    organization: Organization, payloads: Iterable[Payload]
) -> dict[str, int]:
    """Write the payloads that differ from the last staged; counts per object."""
    changed: dict[str, int] = {}
    batch: list[Payload] = []
    for payload in payloads:
        batch.append(payload)
        if len(batch) >= CHUNK:
            _stage_batch(organization, batch, changed)
            batch = []
    if batch:
        _stage_batch(organization, batch, changed)
    return changed


def _stage_batch(
    organization: Organization, batch: list[Payload], changed: dict[str, int]
) -> None:
    now = timezone.now()
    entries = OutboxEntry.objects.filter(
        organization=organization, external_id__in=[p.external_id for p in batch]
    ).only("pk", "sobject", "external_id", "digest")
    existing = {(entry.sobject, entry.external_id): entry for entry in entries}

    new, updates = [], []
    for payload in batch:
        digest = payload.digest
        entry = existing.get((payload.sobject, payload.external_id))
        if entry is not None and entry.digest == digest:
            continue
        changed[payload.sobject] = changed.get(payload.sobject, 0) + 1
        if entry is None:
            new.append(_new_entry(organization, payload, digest, now))
        else:
            updates.append((entry.pk, payload, digest))

    with transaction.atomic():
        OutboxEntry.objects.bulk_create(new, ignore_conflicts=True)
        for pk, payload, digest in updates:
            # A new version: the sender acknowledges only the version it sent.
            OutboxEntry.objects.filter(pk=pk).update(
                payload=payload.fields,
                digest=digest,
                version=F("version") + 1,
                state=OutboxEntry.State.PENDING,
                attempts=0,
                last_error="",
                next_attempt_at=None,
                changed_at=now,
            )


def _new_entry(
    organization: Organization, payload: Payload, digest: str, now: datetime
) -> OutboxEntry:
    return OutboxEntry(
        organization=organization,
        sobject=payload.sobject,
        external_id=payload.external_id,
        rank=RANKS.get(payload.sobject, 9),
        payload=payload.fields,
        digest=digest,
        changed_at=now,
    )

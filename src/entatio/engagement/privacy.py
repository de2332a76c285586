"""A person's data: handed over on request, erased on request, kept no longer
than the organization allows."""

import logging
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from entatio.engagement.models import ActivityRecord, Event, Visit
from entatio.engagement.xapi import statement_of
from entatio.people.models import Member, Organization
from entatio.people.signals import member_data_requested, member_erased

logger = logging.getLogger(__name__)


def member_data(member: Member) -> dict[str, Any]:
    """Everything stored about one member, as one JSON-ready document."""
    records = ActivityRecord.objects.filter(member=member).select_related("slide")
    visits = Visit.objects.filter(member=member).select_related("presentation")
    events = (
        Event.objects.filter(member=member)
        .select_related("member", "slide", "presentation")
        .order_by("at")
    )
    document: dict[str, Any] = {
        "member": {
            "email": member.email,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "portal": member.portal.name,
            "role": member.role,
            "user_type": member.user_type,
            "account": member.account.name if member.account else "",
            "title": member.title,
            "region": member.region,
            "attributes": member.attributes,
            "joined": member.created_at.isoformat(),
            "groups": sorted(member.groups.values_list("name", flat=True)),
        },
        "records": [
            {
                "slide": r.slide_id,
                "slide_title": r.slide.title,
                "visits": r.visits,
                "first_seen_at": _iso(r.first_seen_at),
                "last_seen_at": _iso(r.last_seen_at),
                "dwell_ms": r.dwell_ms,
                "archived": r.archived,
            }
            for r in records
        ],
        "visits": [
            {
                "id": str(v.pk),
                "presentation": v.presentation.title,
                "mode": v.mode,
                "started_at": _iso(v.started_at),
                "last_activity_at": _iso(v.last_activity_at),
            }
            for v in visits
        ],
        "statements": [statement_of(e) for e in events],
    }
    # Apps above this one (discussions, live) add what they keep of the person.
    for _, sections in member_data_requested.send(sender=Member, member=member):
        if isinstance(sections, dict):
            document.update(sections)
    return document


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


def erase_member(member: Member) -> None:
    """Remove the person and keep what they did, without them, for aggregates.

    The member row stays as an anonymous placeholder with only the fields
    that aggregates group by (account and user type); names, address, title,
    region, attributes and the login go; raw statements lose the actor; the
    member leaves every group, so their records are archived.
    """
    with transaction.atomic():
        for event in Event.objects.filter(member=member).only("pk", "statement"):
            event.statement = _without_person(event.statement)
            event.save(update_fields=["statement"])

        member.groups.clear()
        user = member.user
        member.email = f"erased-{member.pk}@erased.invalid"
        member.first_name = member.last_name = member.title = member.region = ""
        member.attributes = {}
        member.user = None
        member.erased_at = timezone.now()
        member.save()
        member_erased.send(sender=Member, member=member)

        if user is not None and not user.memberships.exists():
            user.delete()
    logger.info("Erased member %s of portal %s", member.pk, member.portal_id)


_PERSONAL_KEYS = {"member", "actor", "email", "name", "mbox", "account"}


def _without_person(statement: dict[str, Any]) -> dict[str, Any]:
    cleaned = {k: v for k, v in statement.items() if k not in _PERSONAL_KEYS}
    if isinstance(cleaned.get("xapi"), dict):
        cleaned["xapi"] = _without_person(cleaned["xapi"])
    cleaned["erased"] = True
    return cleaned


def purge_expired_events(organization: Organization) -> int:
    """Delete raw events older than the organization keeps them.

    Records stay as they are; ``rebuild_records`` leaves alone the records
    that began before the purge, since their events are gone.
    """
    days = organization.event_retention_days
    if not days:
        return 0

    cutoff = timezone.now() - timedelta(days=days)
    with transaction.atomic():
        deleted, _ = Event.objects.filter(
            portal__organization=organization, at__lt=cutoff
        ).delete()
        if deleted:
            organization.events_purged_before = cutoff
            organization.save(update_fields=["events_purged_before"])
    if deleted:
        logger.info(
            "Deleted %d events older than %d days of organization %s",
            deleted,
            days,
            organization.slug,
        )
    return deleted

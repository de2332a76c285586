"""Taking in events: validate, store once, place in visits, update records."""

import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from entatio.engagement.derive import Observation, derive_record
from entatio.engagement.models import ActivityRecord, Event, Visit
from entatio.library.models import PresentationSlide, Slide
from entatio.people.models import Member, Portal

logger = logging.getLogger(__name__)

MAX_DURATION_MS = 60 * 60 * 1000
KNOWN_VERBS = frozenset(
    {
        "viewed",
        "watched",
        "presented",
        "opened",
        "joined",
        "left",
        "commented",
        "downloaded",
        "interacted",
    }
)


class EventError(ValueError):
    """An event that cannot be stored, with the reason in plain words."""


@dataclass
class LoadResult:
    stored: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    visits: dict[str, str] = field(default_factory=dict)


@dataclass
class _Parsed:
    id: uuid.UUID
    member: Member
    slide: Slide | None
    presentation_id: int | None
    verb: str
    at: datetime
    duration_ms: int
    visit_hint: str | None
    live: bool
    raw: Mapping[str, Any]


def record_events(
    portal: Portal,
    items: Iterable[Mapping[str, Any]],
    member: Member | None = None,
) -> LoadResult:
    """Store a batch of events; a bad item is reported, the others kept.

    ``member`` is the sender when events come from a signed-in viewer; its
    events may only name that member and slides the member can see, which
    the caller has checked.
    """
    result = LoadResult()
    parsed: list[_Parsed] = []
    for number, item in enumerate(items, start=1):
        try:
            parsed.append(_parse(portal, item, member))
        except EventError as error:
            result.errors.append((number, str(error)))

    existing = set(
        Event.objects.filter(id__in=[p.id for p in parsed]).values_list("id", flat=True)
    )
    fresh: dict[uuid.UUID, _Parsed] = {}
    for p in parsed:
        if p.id in existing or p.id in fresh:
            result.duplicates += 1
        else:
            fresh[p.id] = p

    with transaction.atomic():
        events = [_to_event(portal, p, result.visits) for p in _by_time(fresh)]
        Event.objects.bulk_create(events, batch_size=500, ignore_conflicts=True)
        result.stored = len(events)
        update_records({(e.member_id, e.slide_id) for e in events if e.slide_id})
    return result


def _by_time(fresh: dict[uuid.UUID, _Parsed]) -> list[_Parsed]:
    return sorted(fresh.values(), key=lambda p: p.at)


def _parse(portal: Portal, item: Mapping[str, Any], sender: Member | None) -> _Parsed:
    if not isinstance(item, Mapping):
        raise EventError("an event must be a JSON object")

    try:
        event_id = uuid.UUID(str(item["id"]))
    except (KeyError, ValueError) as error:
        raise EventError("'id' must be a UUID made by the sender") from error

    verb = str(item.get("verb", ""))
    if verb not in KNOWN_VERBS:
        raise EventError(
            f"'verb' must be one of {', '.join(sorted(KNOWN_VERBS))}, not {verb!r}"
        )

    at = parse_datetime(str(item.get("at", "")))
    if at is None:
        raise EventError("'at' must be an ISO 8601 time, e.g. 2026-01-31T09:30:00Z")
    if timezone.is_naive(at):
        at = timezone.make_aware(at, timezone.utc)

    try:
        duration_ms = int(item.get("duration_ms") or 0)
    except (TypeError, ValueError) as error:
        raise EventError("'duration_ms' must be a whole number") from error
    if not 0 <= duration_ms <= MAX_DURATION_MS:
        raise EventError("'duration_ms' must be between 0 and 3,600,000")

    member = sender or _member_named(portal, item.get("member"))
    slide = _slide_named(portal, item.get("slide"))
    presentation_id = item.get("presentation")
    if slide is not None and presentation_id is None:
        presentation_id = (
            PresentationSlide.objects.filter(slide=slide)
            .order_by("presentation_id")
            .values_list("presentation_id", flat=True)
            .first()
        )

    return _Parsed(
        id=event_id,
        member=member,
        slide=slide,
        presentation_id=int(presentation_id) if presentation_id else None,
        verb=verb,
        at=at,
        duration_ms=duration_ms,
        visit_hint=str(item["visit"]) if item.get("visit") else None,
        live=bool(item.get("live_session")),
        raw=item,
    )


def _member_named(portal: Portal, email: Any) -> Member:
    if not email:
        raise EventError("'member' must be the member's e-mail address")
    member = Member.objects.filter(portal=portal, email__iexact=str(email)).first()
    if member is None:
        raise EventError(f"no member {email} in portal {portal.name}")
    return member


def _slide_named(portal: Portal, slide_id: Any) -> Slide | None:
    if slide_id in (None, ""):
        return None
    try:
        slide = Slide.objects.filter(portal=portal, pk=int(slide_id)).first()
    except (TypeError, ValueError):
        slide = None
    if slide is None:
        raise EventError(f"no slide {slide_id} in portal {portal.name}")
    return slide


def _to_event(portal: Portal, p: _Parsed, visits: dict[str, str]) -> Event:
    visit = _place_in_visit(p, visits) if p.presentation_id else None
    statement = dict(p.raw)
    statement.setdefault("id", str(p.id))
    return Event(
        id=p.id,
        portal=portal,
        member=p.member,
        verb=p.verb,
        slide=p.slide,
        presentation_id=p.presentation_id,
        visit=visit,
        live=p.live,
        at=p.at,
        duration_ms=p.duration_ms,
        statement=statement,
    )


def _place_in_visit(p: _Parsed, renamed: dict[str, str]) -> Visit:
    """The visit of this event: the one named, unless 30 idle minutes passed.

    A named visit that has gone quiet for longer than the gap is followed by
    a new one; ``renamed`` tells the sender which id to use from now on.
    Without a name, the member's latest visit of the presentation continues
    if it was active within the gap.
    """
    gap = timedelta(seconds=settings.ENTATIO["VISIT_GAP_SECONDS"])
    hint = renamed.get(p.visit_hint, p.visit_hint) if p.visit_hint else None
    mode = Visit.Mode.LIVE if p.live else Visit.Mode.SELF_PACED

    visit = None
    if hint:
        visit = Visit.objects.filter(pk=_as_uuid(hint), member=p.member).first()
        if visit is None:
            return Visit.objects.create(
                id=_as_uuid(hint),
                member=p.member,
                presentation_id=p.presentation_id,
                mode=mode,
                started_at=p.at,
                last_activity_at=p.at,
            )
    else:
        visit = (
            Visit.objects.filter(
                member=p.member,
                presentation_id=p.presentation_id,
                started_at__lte=p.at + gap,
                last_activity_at__gte=p.at - gap,
            )
            .order_by("-last_activity_at")
            .first()
        )

    if visit is None or p.at > visit.last_activity_at + gap:
        new_visit = Visit.objects.create(
            member=p.member,
            presentation_id=p.presentation_id,
            mode=mode,
            started_at=p.at,
            last_activity_at=p.at,
        )
        if hint:
            renamed[p.visit_hint or ""] = str(new_visit.pk)
        return new_visit

    changed = []
    if p.at > visit.last_activity_at:
        visit.last_activity_at = p.at
        changed.append("last_activity_at")
    if p.at < visit.started_at:
        visit.started_at = p.at
        changed.append("started_at")
    if changed:
        visit.save(update_fields=changed)
    return visit


def _as_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        # A visit named by a free-form string keeps a stable id of its own.
        return uuid.uuid5(uuid.NAMESPACE_URL, f"entatio-visit:{value}")


def update_records(pairs: set[tuple[int, int]]) -> int:
    """Recompute the records of these (member, slide) pairs from their events."""
    updated = 0
    for member_id, slide_id in sorted(pairs):
        member = Member.objects.select_related("portal__organization").get(pk=member_id)
        seen_after_ms = int(member.portal.organization.seen_after_seconds * 1000)
        observations = [
            Observation(
                event_id=str(e["id"]),
                visit=str(e["visit_id"] or e["id"]),
                at=e["at"],
                verb=e["verb"],
                duration_ms=e["duration_ms"],
                live=e["live"],
            )
            for e in Event.objects.filter(member_id=member_id, slide_id=slide_id)
            .values("id", "visit_id", "at", "verb", "duration_ms", "live")
            .iterator()
        ]
        values = derive_record(observations, seen_after_ms)
        ActivityRecord.objects.update_or_create(
            member_id=member_id, slide_id=slide_id, defaults=vars(values)
        )
        updated += 1
    return updated

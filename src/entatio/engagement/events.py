"""Taking in events: validate, store once, place in visits, update records.

Everything here works on whole batches: members, slides and visits are
looked up with one query per batch, events go in with bulk inserts, and the
records of the touched (member, slide) pairs are recomputed from all their
events by the one derivation function.
"""

import logging
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from entatio.engagement.derive import Observation, RecordValues, derive_record
from entatio.engagement.models import ActivityRecord, Event, Visit
from entatio.engagement.xapi import event_from_statement
from entatio.library.models import PresentationSlide, Slide
from entatio.people.models import Member, Portal

logger = logging.getLogger(__name__)

MAX_BATCH = 500
MAX_DURATION_MS = 60 * 60 * 1000
MAX_CLOCK_AHEAD = timedelta(days=1)
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
# Enough to keep each IN (...) list well under every database's limit.
CHUNK = 900


class EventError(ValueError):
    """An event that cannot be stored, with the reason in plain words."""


@dataclass
class LoadResult:
    stored: int = 0
    duplicates: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    visits: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stored": self.stored,
            "duplicates": self.duplicates,
            "errors": [{"line": n, "reason": r} for n, r in self.errors],
            "visits": self.visits,
        }


@dataclass
class _Parsed:
    number: int
    id: uuid.UUID
    email: str
    slide_id: int | None
    presentation_id: int | None
    verb: str
    at: datetime
    duration_ms: int
    visit_hint: str | None
    live: bool
    raw: Mapping[str, Any]
    member_id: int = 0


def record_events(
    portal: Portal,
    items: Iterable[Mapping[str, Any]],
    member: Member | None = None,
) -> LoadResult:
    """Store a batch of events; a bad item is reported, the others kept.

    ``member`` is the sender when events come from a signed-in viewer: its
    events can only be that member's, and the caller has checked that the
    member may see every slide they name.
    """
    result = LoadResult()
    parsed = _parse_all(items, result)
    parsed = _resolve(portal, parsed, member, result)

    with transaction.atomic():
        # Known ids are dropped under the members' locks, so two copies of a
        # batch arriving at once cannot both be taken as new.
        _lock_members({p.member_id for p in parsed})
        fresh = _drop_known(parsed, result)
        visit_ids = _place_in_visits(fresh, result.visits)
        # Records are derived before the insert, from the stored events plus
        # this batch, so the batch is not read back from the database.
        update_records(
            {(p.member_id, p.slide_id) for p in fresh if p.slide_id},
            unstored=_observations(fresh, visit_ids),
        )
        _insert(portal, fresh, visit_ids)

    result.stored = len(fresh)
    result.errors.sort()
    if result.errors:
        logger.info(
            "Refused %d of %d events in portal %s; first: line %d, %s",
            len(result.errors),
            len(result.errors) + len(parsed),
            portal.slug,
            *result.errors[0],
        )
    return result


def _parse_all(items: Iterable[Mapping[str, Any]], result: LoadResult) -> list[_Parsed]:
    parsed = []
    for number, item in enumerate(items, start=1):
        try:
            parsed.append(parse_event(number, item))
        except EventError as error:
            result.errors.append((number, str(error)))
    return parsed


def parse_event(number: int, item: Mapping[str, Any]) -> _Parsed:
    """Check one event's own fields; who and what it names is checked later."""
    if not isinstance(item, Mapping):
        raise EventError("an event must be a JSON object")
    if isinstance(item.get("verb"), Mapping):
        item = _plain_form(item)

    try:
        event_id = uuid.UUID(str(item["id"]))
    except (KeyError, ValueError) as error:
        raise EventError("'id' must be a UUID made by the sender") from error

    verb = str(item.get("verb", ""))
    if verb not in KNOWN_VERBS:
        raise EventError(
            f"'verb' must be one of {', '.join(sorted(KNOWN_VERBS))}, not {verb!r}"
        )

    return _Parsed(
        number=number,
        id=event_id,
        email=str(item.get("member") or "").strip().lower(),
        slide_id=_whole_number(item.get("slide"), "slide"),
        presentation_id=_whole_number(item.get("presentation"), "presentation"),
        verb=verb,
        at=_parse_time(item.get("at")),
        duration_ms=_parse_duration(item.get("duration_ms")),
        visit_hint=str(item["visit"]) if item.get("visit") else None,
        live=bool(item.get("live_session")),
        raw=item,
    )


def _plain_form(statement: Mapping[str, Any]) -> dict[str, Any]:
    """An xAPI statement turned into the plain form; the original is kept."""
    try:
        plain = event_from_statement(dict(statement))
    except (ValueError, TypeError, AttributeError) as error:
        raise EventError(f"not a usable xAPI statement: {error}") from error
    plain["xapi"] = dict(statement)
    return plain


def _whole_number(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise EventError(f"'{name}' must be an id (a whole number)") from error


def _parse_time(value: Any) -> datetime:
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError as error:
        raise EventError(
            "'at' must be an ISO 8601 time, e.g. 2026-01-31T09:30:00Z"
        ) from error
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    # A day of clock skew is tolerated; a later time is an error or a forgery.
    if at > timezone.now() + MAX_CLOCK_AHEAD:
        raise EventError("'at' lies in the future; check the sender's clock")
    return at


def _parse_duration(value: Any) -> int:
    if isinstance(value, bool):
        raise EventError("'duration_ms' must be a whole number")
    try:
        duration_ms = int(value or 0)
    except (TypeError, ValueError, OverflowError) as error:
        raise EventError("'duration_ms' must be a whole number") from error
    if not 0 <= duration_ms <= MAX_DURATION_MS:
        raise EventError("'duration_ms' must be between 0 and 3600000")
    return duration_ms


def _resolve(
    portal: Portal, parsed: list[_Parsed], sender: Member | None, result: LoadResult
) -> list[_Parsed]:
    """Fill in member and presentation ids; drop events naming unknown ones."""
    members = _members_by_email(portal, {p.email for p in parsed if not sender})
    slides = _slides_of_portal(portal, {p.slide_id for p in parsed if p.slide_id})
    first_places = _first_presentation_of(
        {p.slide_id for p in parsed if p.slide_id and not p.presentation_id}
    )

    resolved = []
    for p in parsed:
        member_id = sender.pk if sender else members.get(p.email)
        if member_id is None:
            reason = "'member' must be the e-mail address of a member"
            if p.email:
                reason = f"no member {p.email} in portal {portal.name}"
            result.errors.append((p.number, reason))
            continue
        if p.slide_id is not None and p.slide_id not in slides:
            result.errors.append(
                (p.number, f"no slide {p.slide_id} in portal {portal.name}")
            )
            continue
        p.member_id = member_id
        if p.slide_id and not p.presentation_id:
            p.presentation_id = first_places.get(p.slide_id)
        resolved.append(p)
    return resolved


def _members_by_email(portal: Portal, emails: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for chunk in _chunks(sorted(emails)):
        rows = Member.objects.filter(portal=portal, email__in=chunk).values_list(
            "email", "pk"
        )
        found.update((email.lower(), pk) for email, pk in rows)

    # E-mail addresses are stored as given; fall back to a case-blind match.
    for email in emails - found.keys():
        pk = (
            Member.objects.filter(portal=portal, email__iexact=email)
            .values_list("pk", flat=True)
            .first()
        )
        if pk:
            found[email] = pk
    return found


def _slides_of_portal(portal: Portal, slide_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(slide_ids)):
        found.update(
            Slide.objects.filter(portal=portal, pk__in=chunk).values_list(
                "pk", flat=True
            )
        )
    return found


def _first_presentation_of(slide_ids: set[int]) -> dict[int, int]:
    """For events that name only a slide: the oldest presentation showing it."""
    first: dict[int, int] = {}
    for chunk in _chunks(sorted(slide_ids)):
        rows = (
            PresentationSlide.objects.filter(slide_id__in=chunk)
            .order_by("presentation_id")
            .values_list("slide_id", "presentation_id")
        )
        for slide_id, presentation_id in rows:
            first.setdefault(slide_id, presentation_id)
    return first


def _drop_known(parsed: list[_Parsed], result: LoadResult) -> list[_Parsed]:
    as_uuid = _uuid_adapter()
    known: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        for chunk in _chunks([as_uuid(p.id) for p in parsed], size=5000):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                f"SELECT id FROM engagement_event WHERE id IN ({marks})", chunk
            )
            known.update(uuid.UUID(str(found)) for (found,) in cursor.fetchall())

    fresh: dict[uuid.UUID, _Parsed] = {}
    for p in parsed:
        if p.id in known or p.id in fresh:
            result.duplicates += 1
        else:
            fresh[p.id] = p
    return sorted(fresh.values(), key=lambda p: p.at)


@dataclass
class _Span:
    visit: Visit
    new: bool = False
    changed: bool = False

    def take(self, at: datetime) -> None:
        if at > self.visit.last_activity_at:
            self.visit.last_activity_at = at
            self.changed = True
        if at < self.visit.started_at:
            self.visit.started_at = at
            self.changed = True


def _place_in_visits(
    fresh: list[_Parsed], renamed: dict[str, str]
) -> dict[uuid.UUID, uuid.UUID]:
    """The visit of every event that concerns a presentation, as event → visit.

    A named visit continues unless it has been quiet for longer than the gap,
    in which case a new visit follows it and ``renamed`` tells the sender the
    id to use from now on. Without a name, an event joins the member's visit
    of that presentation that was active within the gap, or starts one.
    """
    gap = timedelta(seconds=settings.ENTATIO["VISIT_GAP_SECONDS"])
    placed = [p for p in fresh if p.presentation_id]
    named = _named_spans(placed)
    unnamed = _recent_spans(placed)

    chosen: dict[uuid.UUID, uuid.UUID] = {}
    for p in placed:
        mode = Visit.Mode.LIVE if p.live else Visit.Mode.SELF_PACED
        if p.visit_hint:
            span = _follow_named(p, named, renamed, gap, mode)
        else:
            span = _follow_unnamed(p, unnamed, gap, mode)
        span.take(p.at)
        chosen[p.id] = span.visit.pk

    spans = [*named.values(), *(s for group in unnamed.values() for s in group)]
    Visit.objects.bulk_create([s.visit for s in spans if s.new], batch_size=500)
    _write_visit_spans([s.visit for s in spans if s.changed and not s.new])
    return chosen


def _write_visit_spans(visits: list[Visit]) -> None:
    as_time, as_uuid = _time_adapter(), _uuid_adapter()
    rows = [
        (as_time(v.started_at), as_time(v.last_activity_at), as_uuid(v.pk))
        for v in visits
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE engagement_visit SET started_at = %s, last_activity_at = %s"
            " WHERE id = %s",
            rows,
        )


def _named_spans(placed: list[_Parsed]) -> dict[str, _Span]:
    hints = {p.visit_hint: _as_uuid(p.visit_hint) for p in placed if p.visit_hint}
    spans: dict[str, _Span] = {}
    for chunk in _chunks(sorted(set(hints.values()))):
        for visit in Visit.objects.filter(pk__in=chunk):
            spans[str(visit.pk)] = _Span(visit)
    return {hint: spans[str(v)] for hint, v in hints.items() if str(v) in spans}


def _follow_named(
    p: _Parsed,
    spans: dict[str, _Span],
    renamed: dict[str, str],
    gap: timedelta,
    mode: str,
) -> _Span:
    hint = p.visit_hint or ""
    span = spans.get(hint)
    if span is not None and span.visit.member_id != p.member_id:
        # Somebody else's visit id: never join it, start one of their own.
        span = None
        hint = f"{hint}:{p.member_id}"
        span = spans.get(hint)
    if span is None:
        span = _new_span(p, mode, _as_uuid(hint))
    elif p.at > span.visit.last_activity_at + gap:
        span = _new_span(p, mode)
        renamed[p.visit_hint or ""] = str(span.visit.pk)
    spans[hint] = span
    return span


def _recent_spans(placed: list[_Parsed]) -> dict[tuple[int, int], list[_Span]]:
    keys = {(p.member_id, p.presentation_id or 0) for p in placed if not p.visit_hint}
    spans: dict[tuple[int, int], list[_Span]] = defaultdict(list)
    if not keys:
        return spans

    earliest = min(p.at for p in placed) - timedelta(days=1)
    members = sorted({m for m, _ in keys})
    for chunk in _chunks(members):
        visits = Visit.objects.filter(
            member_id__in=chunk,
            presentation_id__in={pr for _, pr in keys},
            last_activity_at__gte=earliest,
        )
        for visit in visits:
            key = (visit.member_id, visit.presentation_id)
            if key in keys:
                spans[key].append(_Span(visit))
    return spans


def _follow_unnamed(
    p: _Parsed,
    spans: dict[tuple[int, int], list[_Span]],
    gap: timedelta,
    mode: str,
) -> _Span:
    group = spans[(p.member_id, p.presentation_id or 0)]
    for span in reversed(group):
        visit = span.visit
        if visit.started_at - gap <= p.at <= visit.last_activity_at + gap:
            return span
    span = _new_span(p, mode)
    group.append(span)
    return span


def _new_span(p: _Parsed, mode: str, pk: uuid.UUID | None = None) -> _Span:
    # Only events that name a presentation are placed in visits.
    assert p.presentation_id is not None
    visit = Visit(
        id=pk or uuid.uuid4(),
        member_id=p.member_id,
        presentation_id=p.presentation_id,
        mode=mode,
        started_at=p.at,
        last_activity_at=p.at,
    )
    return _Span(visit, new=True)


def _as_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        # A visit named by a free-form string keeps a stable id of its own.
        return uuid.uuid5(uuid.NAMESPACE_URL, f"entatio-visit:{value}")


def _insert(
    portal: Portal, fresh: list[_Parsed], visit_ids: dict[uuid.UUID, uuid.UUID]
) -> None:
    """Insert with one statement per batch; the ORM's model objects cost more
    than the insert itself at these sizes."""
    ops = connection.ops
    as_uuid = _uuid_adapter()
    as_time = _time_adapter()
    now = as_time(timezone.now())
    rows = []
    for p in fresh:
        visit_id = visit_ids.get(p.id)
        rows.append(
            (
                as_uuid(p.id),
                portal.pk,
                p.member_id,
                p.verb,
                p.slide_id,
                p.presentation_id,
                as_uuid(visit_id) if visit_id else None,
                p.live,
                as_time(p.at),
                p.duration_ms,
                ops.adapt_json_value({**p.raw, "id": str(p.id)}, None),
                now,
            )
        )
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO engagement_event (id, portal_id, member_id, verb, slide_id,"
            " presentation_id, visit_id, live, at, duration_ms, statement,"
            " received_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (id) DO NOTHING",
            rows,
        )


def _uuid_adapter() -> Callable[[uuid.UUID], Any]:
    if connection.features.has_native_uuid_field:
        return lambda value: value
    return lambda value: value.hex


def _naive_utc_text(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return value.replace(tzinfo=None).isoformat(" ")


def _time_adapter() -> Callable[[datetime], Any]:
    """The database's form of an aware UTC time, without Django's checks."""
    if connection.vendor == "sqlite":
        # Django keeps times on SQLite as naive UTC text.
        return _naive_utc_text
    return lambda value: value


def _lock_members(member_ids: set[int]) -> None:
    """Serialize batches of the same member, whose records both would write.

    SQLite writes one transaction at a time already; PostgreSQL needs the
    row locks.
    """
    if connection.vendor == "sqlite":
        return
    for chunk in _chunks(sorted(member_ids)):
        list(Member.objects.select_for_update().filter(pk__in=chunk).values("pk"))


def _observations(
    fresh: list[_Parsed], visit_ids: dict[uuid.UUID, uuid.UUID]
) -> dict[tuple[int, int], list[Observation]]:
    found: dict[tuple[int, int], list[Observation]] = defaultdict(list)
    for p in fresh:
        if p.slide_id:
            event_id = str(p.id)
            visit = visit_ids.get(p.id)
            found[(p.member_id, p.slide_id)].append(
                Observation(
                    event_id,
                    str(visit) if visit else event_id,
                    p.at,
                    p.verb,
                    p.duration_ms,
                    p.live,
                )
            )
    return found


def update_records(
    pairs: set[tuple[int, int]],
    unstored: Mapping[tuple[int, int], list[Observation]] | None = None,
) -> int:
    """Recompute the records of these (member, slide) pairs from their events.

    ``unstored`` adds observations of events about to be stored.
    """
    by_member: dict[int, set[int]] = defaultdict(set)
    for member_id, slide_id in pairs:
        by_member[member_id].add(slide_id)

    written = 0
    for members in _chunks(sorted(by_member)):
        slides = set().union(*(by_member[m] for m in members))
        wanted = {(m, s) for m in members for s in by_member[m]}
        values = _derive_for(members, slides, wanted, unstored or {})
        written += _write_records(values)
    return written


def _derive_for(
    members: Sequence[int],
    slides: set[int],
    wanted: set[tuple[int, int]],
    unstored: Mapping[tuple[int, int], list[Observation]],
) -> dict[tuple[int, int], RecordValues]:
    thresholds = dict(
        Member.objects.filter(pk__in=members).values_list(
            "pk", "portal__organization__seen_after_seconds"
        )
    )
    observations: dict[tuple[int, int], list[Observation]] = defaultdict(list)
    rows = Event.objects.filter(
        member_id__in=members, slide_id__in=sorted(slides)
    ).values_list(
        "member_id", "slide_id", "id", "visit_id", "at", "verb", "duration_ms", "live"
    )
    for member_id, slide_id, event_id, visit_id, at, verb, ms, live in rows.iterator(
        chunk_size=5000
    ):
        key = (member_id, slide_id)
        if key in wanted:
            observations[key].append(
                Observation(
                    str(event_id), str(visit_id or event_id), at, verb, ms, live
                )
            )
    return {
        key: derive_record(
            [*observations[key], *unstored.get(key, ())],
            int(thresholds[key[0]] * 1000),
        )
        for key in wanted
    }


def _write_records(values: dict[tuple[int, int], RecordValues]) -> int:
    """Upsert the records in one statement per batch; archived stays as is."""
    as_time = _time_adapter()
    now = as_time(timezone.now())
    rows = [
        (
            member_id,
            slide_id,
            v.visits,
            as_time(v.first_seen_at) if v.first_seen_at else None,
            as_time(v.last_seen_at) if v.last_seen_at else None,
            v.dwell_ms,
            v.live_visits,
            v.self_paced_visits,
            False,
            now,
        )
        for (member_id, slide_id), v in values.items()
    ]
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO engagement_activityrecord (member_id, slide_id, visits,"
            " first_seen_at, last_seen_at, dwell_ms, live_visits, self_paced_visits,"
            " archived, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (member_id, slide_id) DO UPDATE SET"
            " visits = excluded.visits, first_seen_at = excluded.first_seen_at,"
            " last_seen_at = excluded.last_seen_at, dwell_ms = excluded.dwell_ms,"
            " live_visits = excluded.live_visits,"
            " self_paced_visits = excluded.self_paced_visits",
            rows,
        )
    return len(rows)


RECORD_FIELDS = list(RecordValues._fields)


def rebuild_records(portal: Portal | None = None) -> dict[str, int]:
    """Recompute every record from the events; reports how many there were.

    Records that began before an organization purged old events are left as
    they are: their first events no longer exist to recompute them from.
    """
    events = Event.objects.exclude(member=None).exclude(slide=None)
    records = ActivityRecord.objects.all()
    if portal is not None:
        events = events.filter(portal=portal)
        records = records.filter(member__portal=portal)

    pairs = set(events.values_list("member_id", "slide_id").distinct())
    kept = set(
        records.filter(
            member__portal__organization__events_purged_before__isnull=False,
            first_seen_at__lt=F("member__portal__organization__events_purged_before"),
        ).values_list("member_id", "slide_id")
    )
    stale = [
        r
        for r in records.filter(visits__gt=0).only("member_id", "slide_id")
        if (r.member_id, r.slide_id) not in pairs | kept
    ]
    for record in stale:
        for name, value in RecordValues()._asdict().items():
            setattr(record, name, value)

    with transaction.atomic():
        ActivityRecord.objects.bulk_update(stale, RECORD_FIELDS, batch_size=500)
        update_records(pairs - kept)
    return {"pairs": len(pairs - kept), "emptied": len(stale), "kept": len(kept)}


def _chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


LOAD_BATCH = 20_000


def load_events(
    portal: Portal, items: Iterable[Mapping[str, Any]], batch: int = LOAD_BATCH
) -> LoadResult:
    """Load any number of events in large batches; line numbers run on."""
    total = LoadResult()
    pending: list[Mapping[str, Any]] = []
    offset = 0

    def flush() -> None:
        nonlocal offset
        part = record_events(portal, pending)
        total.stored += part.stored
        total.duplicates += part.duplicates
        total.errors.extend((offset + n, reason) for n, reason in part.errors)
        total.visits.update(part.visits)
        offset += len(pending)
        pending.clear()

    for item in items:
        pending.append(item)
        if len(pending) >= batch:
            flush()
    if pending:
        flush()
    return total

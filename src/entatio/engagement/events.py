"""Taking in events: validate, store once, place in visits, update records.

Everything here works on whole batches: members, access, visits and stored
events are looked up with a few set-based queries per batch, and rows are
written with one bulk statement per table (``COPY`` on PostgreSQL). The
records of the touched (member, slide) pairs are recomputed from all their
events by the one derivation function that ``rebuild_records`` uses too.
"""

import gc
import json
import logging
import os
import re
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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
from entatio.library.models import Presentation, PresentationSlide, Slide
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
AUTHOR_ROLES = frozenset({Member.Role.OWNER, Member.Role.AUTHOR})
# Enough to keep each IN (...) list well under every database's limit.
CHUNK = 900
# Pairs looked up per query, passed as one JSON or array parameter.
PAIR_CHUNK = 100_000


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


@dataclass(slots=True)
class _Parsed:
    number: int
    # The UUID as 32 hex digits, the form keys and SQLite rows use, and as text.
    key: str
    id_text: str
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
    visit_id: uuid.UUID | None = None


def record_events(
    portal: Portal,
    items: Iterable[Mapping[str, Any]],
    member: Member | None = None,
) -> LoadResult:
    """Store a batch of events; a bad item is reported, the others kept.

    ``member`` is the sender when events come from a signed-in viewer: its
    events can only be that member's, and the caller has checked that the
    member may see every slide they name. Without a sender, an event about a
    slide is only taken when its member has access to that slide.
    """
    result = LoadResult()
    parsed = _parse_all(items, result)
    parsed = _resolve(portal, parsed, member, result)
    if member is None:
        parsed = _drop_without_access(parsed, result)

    with transaction.atomic():
        # Known ids are dropped under the members' locks, so two copies of a
        # batch arriving at once cannot both be taken as new.
        _lock_members({p.member_id for p in parsed})
        fresh = _drop_known(parsed, result)
        _place_in_visits(fresh, result.visits)
        # Records are derived before the insert, from the stored events plus
        # this batch, so the batch is not read back from the database.
        update_records(
            {(p.member_id, p.slide_id) for p in fresh if p.slide_id},
            unstored=_observations(fresh),
        )
        _insert(portal, fresh)

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
    latest = timezone.now() + MAX_CLOCK_AHEAD
    parsed = []
    for number, item in enumerate(items, start=1):
        try:
            parsed.append(parse_event(number, item, latest))
        except EventError as error:
            result.errors.append((number, str(error)))
    return parsed


def parse_event(
    number: int, item: Mapping[str, Any], latest: datetime | None = None
) -> _Parsed:
    """Check one event's own fields; who and what it names is checked later.

    ``latest`` is the latest acceptable time, now plus the tolerated skew.
    """
    if not isinstance(item, Mapping):
        raise EventError("an event must be a JSON object")
    if isinstance(item.get("verb"), Mapping):
        item = _plain_form(item)

    key, id_text = _event_id(item.get("id"))
    verb = str(item.get("verb", ""))
    if verb not in KNOWN_VERBS:
        raise EventError(
            f"'verb' must be one of {', '.join(sorted(KNOWN_VERBS))}, not {verb!r}"
        )

    visit = item.get("visit")
    return _Parsed(
        number=number,
        key=key,
        id_text=id_text,
        email=str(item.get("member") or "").strip().lower(),
        slide_id=_whole_number(item.get("slide"), "slide"),
        presentation_id=_whole_number(item.get("presentation"), "presentation"),
        verb=verb,
        at=_parse_time(item.get("at"), latest or timezone.now() + MAX_CLOCK_AHEAD),
        duration_ms=_parse_duration(item.get("duration_ms")),
        visit_hint=str(visit) if visit else None,
        live=bool(item.get("live_session")),
        raw=item,
    )


UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _event_id(value: Any) -> tuple[str, str]:
    """The event's UUID as 32 hex digits and as canonical text."""
    # Senders nearly always send the canonical form; it needs no UUID object.
    if type(value) is str and UUID_TEXT.fullmatch(value):
        return value.replace("-", ""), value
    try:
        event_id = uuid.UUID(str(value))
    except ValueError as error:
        raise EventError("'id' must be a UUID made by the sender") from error
    return event_id.hex, str(event_id)


def _plain_form(statement: Mapping[str, Any]) -> dict[str, Any]:
    """An xAPI statement turned into the plain form; the original is kept."""
    try:
        plain = event_from_statement(dict(statement))
    except (ValueError, TypeError, AttributeError) as error:
        raise EventError(f"not a usable xAPI statement: {error}") from error
    plain["xapi"] = dict(statement)
    return plain


# The largest id a database column holds (a signed 64-bit integer).
MAX_ID = 2**63 - 1


def _whole_number(value: Any, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = value if type(value) is int else int(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise EventError(f"'{name}' must be an id (a whole number)") from error
    if not 0 < number <= MAX_ID:
        raise EventError(f"'{name}' must be an id (a whole number)")
    return number


def _parse_time(value: Any, latest: datetime) -> datetime:
    try:
        at = datetime.fromisoformat(value if type(value) is str else str(value))
    except ValueError as error:
        raise EventError(
            "'at' must be an ISO 8601 time, e.g. 2026-01-31T09:30:00Z"
        ) from error
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    elif at.tzinfo is not UTC:
        at = at.astimezone(UTC)
    # A day of clock skew is tolerated; a later time is an error or a forgery.
    if at > latest:
        raise EventError("'at' lies in the future; check the sender's clock")
    return at


def _parse_duration(value: Any) -> int:
    if type(value) is int and 0 <= value <= MAX_DURATION_MS:
        return value
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
    slides = _ids_in_portal(Slide, portal, {p.slide_id for p in parsed if p.slide_id})
    first_places = _first_presentation_of(
        {p.slide_id for p in parsed if p.slide_id and not p.presentation_id}
    )
    decks = _ids_in_portal(
        Presentation, portal, {p.presentation_id for p in parsed if p.presentation_id}
    )
    named_places = _places_among(
        {
            (p.presentation_id, p.slide_id)
            for p in parsed
            if p.presentation_id and p.slide_id
        }
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
        problem = _deck_problem(p, portal, decks, named_places)
        if problem:
            result.errors.append((p.number, problem))
            continue
        p.member_id = member_id
        if p.slide_id and not p.presentation_id:
            p.presentation_id = first_places.get(p.slide_id)
        resolved.append(p)
    return resolved


def _deck_problem(
    p: _Parsed,
    portal: Portal,
    decks: set[int],
    places: set[tuple[int, int]],
) -> str:
    """Why the presentation an event names cannot be taken, or ""."""
    if not p.presentation_id:
        return ""
    if p.presentation_id not in decks:
        return f"no presentation {p.presentation_id} in portal {portal.name}"
    if p.slide_id and (p.presentation_id, p.slide_id) not in places:
        return (
            f"slide {p.slide_id} is not in presentation {p.presentation_id}; name"
            " the presentation that shows it, or leave 'presentation' out"
        )
    return ""


def _places_among(pairs: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Which (presentation, slide) pairs are a slide placed in its presentation."""
    if not pairs:
        return set()
    table, params = _pairs_table(sorted(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT k.a, k.b FROM {table} JOIN library_presentationslide ps"
            " ON ps.presentation_id = k.a AND ps.slide_id = k.b",
            params,
        )
        return {(int(a), int(b)) for a, b in cursor.fetchall()}


def _members_by_email(portal: Portal, emails: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(emails)):
            marks = ", ".join(["%s"] * len(chunk))
            cursor.execute(
                "SELECT email, id FROM people_member"
                f" WHERE portal_id = %s AND email IN ({marks})",
                [portal.pk, *chunk],
            )
            found.update((email.lower(), pk) for email, pk in cursor.fetchall())

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


def _ids_in_portal(
    model: type[Slide] | type[Presentation], portal: Portal, ids: set[int]
) -> set[int]:
    """Which of the slide or presentation ids belong to the portal."""
    found: set[int] = set()
    for chunk in _chunks(sorted(ids)):
        rows = model.objects.filter(portal=portal, pk__in=chunk).values_list("pk")
        found.update(pk for (pk,) in rows)
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


def _drop_without_access(parsed: list[_Parsed], result: LoadResult) -> list[_Parsed]:
    """Refuse events about a slide their member may not see, as the viewer does.

    A member sees a slide shown (not hidden) in a presentation with a live
    share to one of their groups: the same paths that give them records.
    The shares are read rather than the records, which follow a new share
    only once a background task has run. Owners and authors see every slide
    of their portal, shared or not.
    """
    about_slides = [p for p in parsed if p.slide_id]
    # A download or a post on the whole deck names the presentation alone.
    about_decks = [p for p in parsed if not p.slide_id and p.presentation_id]
    groups_of_member = _groups_of_members(
        {p.member_id for p in (*about_slides, *about_decks)}
    )
    groups_of_slide = _groups_seeing_slides({p.slide_id or 0 for p in about_slides})
    groups_of_deck = _groups_sharing({p.presentation_id or 0 for p in about_decks})
    refused = [
        p
        for p in about_slides
        if groups_of_member.get(p.member_id, _NONE).isdisjoint(
            groups_of_slide.get(p.slide_id or 0, _NONE)
        )
    ] + [
        p
        for p in about_decks
        if groups_of_member.get(p.member_id, _NONE).isdisjoint(
            groups_of_deck.get(p.presentation_id or 0, _NONE)
        )
    ]
    authors = _authors_among({p.member_id for p in refused})
    refused = [p for p in refused if p.member_id not in authors]
    if not refused:
        return parsed

    result.errors.extend((p.number, _no_access(p)) for p in refused)
    numbers = {p.number for p in refused}
    return [p for p in parsed if p.number not in numbers]


_NONE: frozenset[int] = frozenset()


def _no_access(p: _Parsed) -> str:
    if not p.slide_id:
        return (
            f"member {p.email} has no access to presentation {p.presentation_id};"
            " share it with one of their groups first"
        )
    return (
        f"member {p.email} has no access to slide {p.slide_id}; share a"
        " presentation that shows it with one of their groups first"
    )


def _groups_of_members(member_ids: set[int]) -> dict[int, set[int]]:
    found: dict[int, set[int]] = defaultdict(set)
    ids, params = _ids_table(sorted(member_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT gm.member_id, gm.sharinggroup_id FROM {ids}"
            " JOIN people_sharinggroup_members gm ON gm.member_id = k.a",
            params,
        )
        for member_id, group_id in cursor.fetchall():
            found[member_id].add(group_id)
    return found


def _groups_seeing_slides(slide_ids: set[int]) -> dict[int, set[int]]:
    """The groups with a live share of a presentation that shows each slide."""
    found: dict[int, set[int]] = defaultdict(set)
    ids, params = _ids_table(sorted(slide_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ps.slide_id, s.group_id FROM {ids}"
            " JOIN library_presentationslide ps ON ps.slide_id = k.a"
            " JOIN engagement_share s ON s.presentation_id = ps.presentation_id"
            " WHERE ps.hidden = %s AND s.revoked_at IS NULL",
            [*params, False],
        )
        for slide_id, group_id in cursor.fetchall():
            found[slide_id].add(group_id)
    return found


def _groups_sharing(presentation_ids: set[int]) -> dict[int, set[int]]:
    """The groups with a live share of each presentation."""
    found: dict[int, set[int]] = defaultdict(set)
    if not presentation_ids:
        return found
    ids, params = _ids_table(sorted(presentation_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.presentation_id, s.group_id FROM {ids}"
            " JOIN engagement_share s ON s.presentation_id = k.a"
            " WHERE s.revoked_at IS NULL",
            params,
        )
        for presentation_id, group_id in cursor.fetchall():
            found[presentation_id].add(group_id)
    return found


def _authors_among(member_ids: set[int]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(member_ids)):
        found.update(
            Member.objects.filter(pk__in=chunk, role__in=AUTHOR_ROLES).values_list(
                "pk", flat=True
            )
        )
    return found


def _pairs_table(pairs: Sequence[tuple[int, int]]) -> tuple[str, list[Any]]:
    """Pairs of whole numbers as a table ``k (a, b)`` to join, in one parameter
    (two arrays on PostgreSQL), so a batch needs one query, not one a pair."""
    if connection.vendor == "postgresql":
        return (
            "unnest(%s::bigint[], %s::bigint[]) AS k (a, b)",
            [[a for a, _ in pairs], [b for _, b in pairs]],
        )
    return (
        "(SELECT json_extract(value, '$[0]') AS a, json_extract(value, '$[1]') AS b"
        " FROM json_each(%s)) AS k",
        [json.dumps(pairs)],
    )


def _ids_table(ids: Sequence[int]) -> tuple[str, list[Any]]:
    """Whole numbers as a table ``k (a)`` to join, in one parameter."""
    if connection.vendor == "postgresql":
        return "unnest(%s::bigint[]) AS k (a)", [list(ids)]
    return "(SELECT value AS a FROM json_each(%s)) AS k", [json.dumps(list(ids))]


def _drop_known(parsed: list[_Parsed], result: LoadResult) -> list[_Parsed]:
    known: set[str] = set()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT id FROM engagement_event WHERE id = ANY(%s::uuid[])",
                [[p.key for p in parsed]],
            )
            known.update(found.hex for (found,) in cursor.fetchall())
        else:
            for chunk in _chunks([p.key for p in parsed], size=5000):
                marks = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT id FROM engagement_event WHERE id IN ({marks})", chunk
                )
                known.update(found for (found,) in cursor.fetchall())

    fresh: dict[str, _Parsed] = {}
    for p in parsed:
        if p.key in known or p.key in fresh:
            result.duplicates += 1
        else:
            fresh[p.key] = p
    return sorted(fresh.values(), key=lambda p: p.at)


@dataclass(slots=True)
class _Span:
    """A visit as placing events needs it; written back once per batch."""

    id: uuid.UUID
    member_id: int
    presentation_id: int
    mode: str
    started_at: datetime
    last_activity_at: datetime
    new: bool = False
    changed: bool = False

    def take(self, at: datetime) -> None:
        if at > self.last_activity_at:
            self.last_activity_at = at
            self.changed = True
        if at < self.started_at:
            self.started_at = at
            self.changed = True


VISIT_COLUMNS = "id, member_id, presentation_id, mode, started_at, last_activity_at"
_VISIT_FIELDS = [name.strip() for name in VISIT_COLUMNS.split(",")]


def _place_in_visits(fresh: list[_Parsed], renamed: dict[str, str]) -> None:
    """Set the visit of every event that concerns a presentation.

    A named visit continues unless it has been quiet for longer than the gap,
    in which case a new visit follows it and ``renamed`` tells the sender the
    id to use from now on. Without a name, an event joins the member's visit
    of that presentation that was active within the gap, or starts one.
    """
    gap = timedelta(seconds=settings.ENTATIO["VISIT_GAP_SECONDS"])
    placed = [p for p in fresh if p.presentation_id]
    named = _named_spans(placed)
    unnamed = _recent_spans(placed)

    for p in placed:
        mode = Visit.Mode.LIVE if p.live else Visit.Mode.SELF_PACED
        if p.visit_hint:
            span = _follow_named(p, named, renamed, gap, mode)
        else:
            span = _follow_unnamed(p, unnamed, gap, mode)
        span.take(p.at)
        p.visit_id = span.id

    spans = {id(s): s for s in named.values()}
    spans.update((id(s), s) for group in unnamed.values() for s in group)
    _insert_visits([s for s in spans.values() if s.new])
    _write_visit_spans([s for s in spans.values() if s.changed and not s.new])


def _insert_visits(spans: list[_Span]) -> None:
    as_time, as_uuid = _time_adapter(), _uuid_adapter()
    rows = [
        (
            as_uuid(s.id),
            s.member_id,
            s.presentation_id,
            s.mode,
            as_time(s.started_at),
            as_time(s.last_activity_at),
        )
        for s in spans
    ]
    _bulk_insert("engagement_visit", VISIT_COLUMNS, rows)


def _write_visit_spans(spans: list[_Span]) -> None:
    as_time, as_uuid = _time_adapter(), _uuid_adapter()
    rows = [
        (as_uuid(s.id), as_time(s.started_at), as_time(s.last_activity_at))
        for s in spans
    ]
    if not rows:
        return
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            cursor.executemany(
                "UPDATE engagement_visit SET started_at = %s, last_activity_at = %s"
                " WHERE id = %s",
                [(started, last, pk) for pk, started, last in rows],
            )
            return
        columns = "id, started_at, last_activity_at"
        staged = _stage(cursor, "engagement_visit", columns, "spans")
        _copy(cursor, staged, columns, rows)
        cursor.execute(
            f"UPDATE engagement_visit v SET started_at = s.started_at,"
            f" last_activity_at = s.last_activity_at FROM {staged} s WHERE v.id = s.id"
        )


def _named_spans(placed: list[_Parsed]) -> dict[str, _Span]:
    hints = {p.visit_hint: _as_uuid(p.visit_hint) for p in placed if p.visit_hint}
    spans: dict[uuid.UUID, _Span] = {}
    for chunk in _chunks(sorted(set(hints.values()))):
        rows = Visit.objects.filter(pk__in=chunk).values_list(*_VISIT_FIELDS)
        spans.update((row[0], _Span(*row)) for row in rows)
    return {hint: spans[v] for hint, v in hints.items() if v in spans}


def _follow_named(
    p: _Parsed,
    spans: dict[str, _Span],
    renamed: dict[str, str],
    gap: timedelta,
    mode: str,
) -> _Span:
    hint = p.visit_hint or ""
    span = spans.get(hint)
    if span is not None and span.member_id != p.member_id:
        # Somebody else's visit id: never join it, start one of their own.
        span = None
        hint = f"{hint}:{p.member_id}"
        span = spans.get(hint)
    if span is None:
        span = _new_span(p, mode, _as_uuid(hint))
    elif p.at > span.last_activity_at + gap:
        span = _new_span(p, mode)
        renamed[p.visit_hint or ""] = str(span.id)
    spans[hint] = span
    return span


def _recent_spans(placed: list[_Parsed]) -> dict[tuple[int, int], list[_Span]]:
    """The visits that unnamed events of this batch may continue, per
    (member, presentation), found with one query for the whole batch."""
    keys = {(p.member_id, p.presentation_id or 0) for p in placed if not p.visit_hint}
    spans: dict[tuple[int, int], list[_Span]] = defaultdict(list)
    if not keys:
        return spans

    earliest = min(p.at for p in placed) - timedelta(days=1)
    read_uuid, read_time = _uuid_reader(), _time_reader()
    with connection.cursor() as cursor:
        for chunk in _chunks(sorted(keys), size=PAIR_CHUNK):
            table, params = _pairs_table(chunk)
            cursor.execute(
                f"SELECT v.id, v.member_id, v.presentation_id, v.mode, v.started_at,"
                f" v.last_activity_at FROM {table} JOIN engagement_visit v"
                " ON v.member_id = k.a AND v.presentation_id = k.b"
                " WHERE v.last_activity_at >= %s ORDER BY v.last_activity_at",
                [*params, _time_adapter()(earliest)],
            )
            for pk, member_id, presentation_id, mode, started, last in cursor:
                span = _Span(
                    read_uuid(pk),
                    member_id,
                    presentation_id,
                    mode,
                    read_time(started),
                    read_time(last),
                )
                spans[(member_id, presentation_id)].append(span)
    return spans


def _follow_unnamed(
    p: _Parsed,
    spans: dict[tuple[int, int], list[_Span]],
    gap: timedelta,
    mode: str,
) -> _Span:
    group = spans[(p.member_id, p.presentation_id or 0)]
    for span in reversed(group):
        if span.started_at - gap <= p.at <= span.last_activity_at + gap:
            return span
    span = _new_span(p, mode)
    group.append(span)
    return span


def _new_span(p: _Parsed, mode: str, pk: uuid.UUID | None = None) -> _Span:
    # Only events that name a presentation are placed in visits.
    assert p.presentation_id is not None
    return _Span(
        pk or _time_ordered_uuid(),
        p.member_id,
        p.presentation_id,
        mode,
        p.at,
        p.at,
        new=True,
    )


def _time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID: the milliseconds since 1970, then random bits.

    Visits made together get neighbouring ids, so the events that name them
    are added to one corner of the visit index rather than all over it.
    """
    milliseconds = time.time_ns() // 1_000_000
    random_bits = int.from_bytes(os.urandom(10))
    value = (milliseconds & (1 << 48) - 1) << 80
    value |= 0x7 << 76 | (random_bits >> 68) << 64  # version, 12 random bits
    value |= 0b10 << 62 | random_bits & (1 << 62) - 1  # variant, 62 random bits
    return uuid.UUID(int=value)


def _as_uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        # A visit named by a free-form string keeps a stable id of its own.
        return uuid.uuid5(uuid.NAMESPACE_URL, f"entatio-visit:{value}")


EVENT_COLUMNS = (
    "id, portal_id, member_id, verb, slide_id, presentation_id, visit_id, live, at,"
    " duration_ms, statement, received_at"
)


def _insert(portal: Portal, fresh: list[_Parsed]) -> None:
    """Insert with one statement per batch; the ORM's model objects cost more
    than the insert itself at these sizes."""
    as_uuid = _uuid_adapter()
    as_time = _time_adapter()
    now = as_time(timezone.now())
    rows = [
        (
            p.key,
            portal.pk,
            p.member_id,
            p.verb,
            p.slide_id,
            p.presentation_id,
            as_uuid(p.visit_id) if p.visit_id else None,
            p.live,
            as_time(p.at),
            p.duration_ms,
            json.dumps(_statement(p)),
            now,
        )
        for p in fresh
    ]
    _bulk_insert("engagement_event", EVENT_COLUMNS, rows, conflict="(id) DO NOTHING")


def _statement(p: _Parsed) -> Mapping[str, Any]:
    """The event as sent, with its id in canonical form."""
    if p.raw.get("id") == p.id_text:
        return p.raw
    return {**p.raw, "id": p.id_text}


def _bulk_insert(
    table: str, columns: str, rows: list[tuple], conflict: str = ""
) -> None:
    """Insert rows; on PostgreSQL through COPY into a staging table, which
    costs a fraction of one INSERT a row."""
    if not rows:
        return
    on_conflict = f" ON CONFLICT {conflict}" if conflict else ""
    # Staged rows are emptied at commit: copy and insert in one transaction.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks}){on_conflict}", rows
            )
            return
        staged = _stage(cursor, table, columns, "new")
        _copy(cursor, staged, columns, rows)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staged}"
            f"{on_conflict}"
        )


def _stage(cursor: Any, table: str, columns: str, purpose: str) -> str:
    """An empty temporary table with these columns of a table, for COPY."""
    staged = f"entatio_{purpose}_{table}"
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {staged} ON COMMIT DELETE ROWS"
        f" AS SELECT {columns} FROM {table} WITH NO DATA"
    )
    # Rows of an earlier batch in the same transaction are still there.
    cursor.execute(f"TRUNCATE {staged}")
    return staged


def _copy(cursor: Any, table: str, columns: str, rows: Iterable[tuple]) -> None:
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _uuid_adapter() -> Callable[[uuid.UUID], Any]:
    if connection.features.has_native_uuid_field:
        return lambda value: value
    return lambda value: value.hex


def _uuid_reader() -> Callable[[Any], uuid.UUID]:
    if connection.features.has_native_uuid_field:
        return lambda value: value
    return uuid.UUID


def _naive_utc_text(value: datetime) -> str:
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # The text of a UTC time ends in "+00:00"; Django's form is without it.
    return value.isoformat(" ")[:-6]


def _time_adapter() -> Callable[[datetime], Any]:
    """The database's form of an aware UTC time, without Django's checks."""
    if connection.vendor == "sqlite":
        # Django keeps times on SQLite as naive UTC text.
        return _naive_utc_text
    return lambda value: value


def _aware_utc(value: datetime | str) -> datetime:
    # Django's SQLite converters give naive UTC times for datetime columns.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)


def _time_reader() -> Callable[[Any], datetime]:
    """An aware UTC time from what a raw query gives for a time column."""
    if connection.vendor == "sqlite":
        return _aware_utc
    return lambda value: value


def _lock_members(member_ids: set[int]) -> None:
    """Serialize batches of the same member, whose records both would write.

    SQLite writes one transaction at a time already; PostgreSQL needs the
    row locks, taken in one order so that two batches cannot deadlock.
    """
    if connection.vendor == "sqlite" or not member_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM people_member WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
            [sorted(member_ids)],
        )


def _observations(fresh: list[_Parsed]) -> dict[tuple[int, int], list[Observation]]:
    """This batch's events as the derivation sees them; ids as hex, as they
    are read back from the database by ``_stored_observations``."""
    found: dict[tuple[int, int], list[Observation]] = defaultdict(list)
    for p in fresh:
        if p.slide_id:
            found[(p.member_id, p.slide_id)].append(
                Observation(
                    p.key,
                    p.visit_id.hex if p.visit_id else p.key,
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
    thresholds = _seen_after_ms({member_id for member_id, _ in pairs})
    written = 0
    for chunk in _chunks(sorted(pairs), size=PAIR_CHUNK):
        stored = _stored_observations(chunk)
        values = {
            key: derive_record(
                [*stored.get(key, ()), *(unstored or {}).get(key, ())],
                thresholds[key[0]],
            )
            for key in chunk
        }
        written += _write_records(values)
    return written


def _seen_after_ms(member_ids: set[int]) -> dict[int, int]:
    """Each member's organization's threshold for a seen slide, in ms."""
    ids, params = _ids_table(sorted(member_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.id, o.seen_after_seconds FROM {ids}"
            " JOIN people_member m ON m.id = k.a"
            " JOIN people_portal p ON p.id = m.portal_id"
            " JOIN people_organization o ON o.id = p.organization_id",
            params,
        )
        return {pk: int(seconds * 1000) for pk, seconds in cursor.fetchall()}


def _stored_observations(
    pairs: Sequence[tuple[int, int]],
) -> dict[tuple[int, int], list[Observation]]:
    """The stored events of exactly these pairs, with one query."""
    read_time = _time_reader()
    as_hex = (
        (lambda value: value.hex)
        if connection.features.has_native_uuid_field
        else (lambda value: value)
    )
    found: dict[tuple[int, int], list[Observation]] = defaultdict(list)
    table, params = _pairs_table(pairs)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.member_id, e.slide_id, e.id, e.visit_id, e.at, e.verb,"
            f" e.duration_ms, e.live FROM {table} JOIN engagement_event e"
            " ON e.member_id = k.a AND e.slide_id = k.b",
            params,
        )
        for member_id, slide_id, event_id, visit_id, at, verb, ms, live in cursor:
            event_hex = as_hex(event_id)
            found[(member_id, slide_id)].append(
                Observation(
                    event_hex,
                    as_hex(visit_id) if visit_id else event_hex,
                    read_time(at),
                    verb,
                    ms,
                    bool(live),
                )
            )
    return found


RECORD_COLUMNS = (
    "member_id, slide_id, visits, first_seen_at, last_seen_at, dwell_ms,"
    " live_visits, self_paced_visits, archived, created_at"
)
# A new record is live; an existing one keeps its archived flag.
RECORD_UPSERT = (
    "(member_id, slide_id) DO UPDATE SET"
    " visits = excluded.visits, first_seen_at = excluded.first_seen_at,"
    " last_seen_at = excluded.last_seen_at, dwell_ms = excluded.dwell_ms,"
    " live_visits = excluded.live_visits,"
    " self_paced_visits = excluded.self_paced_visits"
)


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
    _bulk_insert(
        "engagement_activityrecord", RECORD_COLUMNS, rows, conflict=RECORD_UPSERT
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


LOAD_BATCH = 100_000


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

    with _no_collection_pauses():
        for item in items:
            pending.append(item)
            if len(pending) >= batch:
                flush()
        if pending:
            flush()
    return total


@contextmanager
def _no_collection_pauses() -> Iterator[None]:
    """Hold off Python's cycle collector while a load runs.

    A batch makes hundreds of thousands of small objects, none in cycles, and
    each of the collector's passes over them all would cost more than the
    work itself; they are freed as usual by reference counting.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

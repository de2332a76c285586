"""Events and records out: xAPI statements, date-partitioned Parquet, CSV."""

import csv
import json
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from django.db.models import QuerySet
from django.utils import timezone

from entatio.engagement.derive import ON_SCREEN_VERBS
from entatio.engagement.models import ActivityRecord, Event, Visit
from entatio.engagement.xapi import statement_of
from entatio.library.editing import shown_slides
from entatio.people.models import Portal

CHUNK = 50_000

EVENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("portal_id", pa.int64()),
        ("member_id", pa.int64()),
        ("account_id", pa.int64()),
        ("user_type", pa.string()),
        ("verb", pa.string()),
        ("slide_id", pa.int64()),
        ("presentation_id", pa.int64()),
        ("visit_id", pa.string()),
        ("live", pa.bool_()),
        ("at", pa.timestamp("us", tz="UTC")),
        ("duration_ms", pa.int64()),
        ("date", pa.string()),
    ]
)
RECORD_SCHEMA = pa.schema(
    [
        ("member_id", pa.int64()),
        ("portal_id", pa.int64()),
        ("account_id", pa.int64()),
        ("user_type", pa.string()),
        ("slide_id", pa.int64()),
        ("visits", pa.int64()),
        ("first_seen_at", pa.timestamp("us", tz="UTC")),
        ("last_seen_at", pa.timestamp("us", tz="UTC")),
        ("dwell_ms", pa.int64()),
        ("live_visits", pa.int64()),
        ("self_paced_visits", pa.int64()),
        ("archived", pa.bool_()),
        ("date", pa.string()),
    ]
)


def _events(portal: Portal | None) -> QuerySet[Event]:
    events = Event.objects.order_by("at", "id")
    return events.filter(portal=portal) if portal else events


def export_xapi(out: Path, portal: Portal | None = None) -> int:
    """Every event as one xAPI statement a line (JSON Lines)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    events = _events(portal).select_related("member", "slide", "presentation")
    with out.open("w", encoding="utf-8") as f:
        for event in events.iterator(chunk_size=2000):
            f.write(json.dumps(statement_of(event), ensure_ascii=False))
            f.write("\n")
            written += 1
    return written


def export_parquet(out: Path, portal: Portal | None = None) -> dict[str, int]:
    """Events partitioned by their day, records by the day of the snapshot.

    The layout is Hive-style (``events/date=2026-01-31/…``), which DuckDB,
    Spark and the warehouses read as a partitioned table.
    """
    snapshot = timezone.now()
    stamp = snapshot.strftime("%Y%m%dT%H%M%S")
    events = _write_partitioned(
        _event_batches(portal), out / "events", EVENT_SCHEMA, stamp
    )
    records = _write_partitioned(
        _record_batches(portal, snapshot), out / "records", RECORD_SCHEMA, stamp
    )
    return {"events": events, "records": records}


def _write_partitioned(
    batches: Iterator[list[dict[str, Any]]], root: Path, schema: pa.Schema, stamp: str
) -> int:
    written = 0
    for number, rows in enumerate(batches):
        table = pa.Table.from_pylist(rows, schema=schema)
        pq.write_to_dataset(
            table,
            root_path=str(root),
            partition_cols=["date"],
            basename_template=f"part-{stamp}-{number}-{{i}}.parquet",
            existing_data_behavior="overwrite_or_ignore",
        )
        written += table.num_rows
    if written == 0:
        root.mkdir(parents=True, exist_ok=True)
    return written


def _event_batches(portal: Portal | None) -> Iterator[list[dict[str, Any]]]:
    rows = _events(portal).values_list(
        "id",
        "portal_id",
        "member_id",
        "member__account_id",
        "member__user_type",
        "verb",
        "slide_id",
        "presentation_id",
        "visit_id",
        "live",
        "at",
        "duration_ms",
    )
    batch: list[dict[str, Any]] = []
    for row in rows.iterator(chunk_size=5000):
        values = dict(zip(EVENT_SCHEMA.names[:-1], row, strict=True))
        values["id"] = str(values["id"])
        values["visit_id"] = str(values["visit_id"]) if values["visit_id"] else None
        values["date"] = values["at"].astimezone(UTC).date().isoformat()
        batch.append(values)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _record_batches(
    portal: Portal | None, snapshot: datetime
) -> Iterator[list[dict[str, Any]]]:
    records = ActivityRecord.objects.order_by("pk")
    if portal:
        records = records.filter(member__portal=portal)
    rows = records.values_list(
        "member_id",
        "member__portal_id",
        "member__account_id",
        "member__user_type",
        "slide_id",
        "visits",
        "first_seen_at",
        "last_seen_at",
        "dwell_ms",
        "live_visits",
        "self_paced_visits",
        "archived",
    )
    day = snapshot.date().isoformat()
    batch: list[dict[str, Any]] = []
    for row in rows.iterator(chunk_size=5000):
        values = dict(zip(RECORD_SCHEMA.names[:-1], row, strict=True))
        values["date"] = day
        batch.append(values)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


VISIT_COLUMNS = [
    "member",
    "account",
    "user_type",
    "presentation",
    "slide",
    "slide_title",
    "position",
    "visit",
    "mode",
    "started",
    "duration_seconds",
    "seen",
    "completion",
]


def export_visits_csv(out: Path, portal: Portal | None = None) -> int:
    """One row per visit and slide shown: time on screen and whether it counted.

    ``completion`` is the share of the presentation's shown slides seen in
    that visit, the same on every row of the visit.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    visits = Visit.objects.select_related(
        "member__account", "member__portal__organization", "presentation"
    ).order_by("started_at", "pk")
    if portal:
        visits = visits.filter(member__portal=portal)

    written = 0
    slides_of: dict[int, list] = {}
    with out.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(VISIT_COLUMNS)
        for visit in visits.iterator(chunk_size=1000):
            if visit.presentation_id not in slides_of:
                slides_of[visit.presentation_id] = shown_slides(visit.presentation)
            for row in _visit_rows(visit, slides_of[visit.presentation_id]):
                writer.writerow(row)
                written += 1
    return written


def _visit_rows(visit: Visit, slides: list) -> list[list[Any]]:
    on_screen: dict[int, int] = defaultdict(int)
    for slide_id, ms in Event.objects.filter(
        visit=visit, verb__in=ON_SCREEN_VERBS
    ).values_list("slide_id", "duration_ms"):
        on_screen[slide_id] += ms

    member = visit.member
    threshold_ms = member.portal.organization.seen_after_seconds * 1000
    seen = {s for s, ms in on_screen.items() if ms >= threshold_ms}
    completion = (
        round(len(seen & {s.pk for s in slides}) / len(slides), 4) if slides else 0
    )
    return [
        [
            member.email,
            member.account.name if member.account else "",
            member.user_type,
            visit.presentation.title,
            slide.pk,
            slide.title,
            position,
            str(visit.pk),
            visit.mode,
            visit.started_at.isoformat(),
            round(on_screen.get(slide.pk, 0) / 1000, 3),
            slide.pk in seen,
            completion,
        ]
        for position, slide in enumerate(slides, start=1)
    ]

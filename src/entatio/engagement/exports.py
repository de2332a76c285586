"""Events and records out: xAPI statements, date-partitioned Parquet, CSV."""

import csv
import json
import os
import shutil
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import pyarrow as pa
import pyarrow.parquet as pq
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from entatio.engagement.derive import ON_SCREEN_VERBS
from entatio.engagement.models import ActivityRecord, Event, Visit
from entatio.engagement.xapi import statement_of
from entatio.library.editing import shown_slides
from entatio.library.models import Presentation, Slide
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
    written = 0
    events = _events(portal).select_related("member", "slide", "presentation")
    with _replacing(out) as f:
        for event in events.iterator(chunk_size=2000):
            f.write(json.dumps(statement_of(event), ensure_ascii=False))
            f.write("\n")
            written += 1
    return written


class ExportRefused(Exception):
    """The export would overwrite something that is not a previous export."""


# What a Parquet export's folder holds; nothing else is ours to replace.
PARQUET_PARTS = ("events", "records")


def export_parquet(out: Path, portal: Portal | None = None) -> dict[str, int]:
    """Events partitioned by their day, records by the day of the snapshot.

    The layout is Hive-style (``events/date=2026-01-31/…``), which DuckDB,
    Spark and the warehouses read as a partitioned table. A previous export
    in ``out`` is replaced, never added to: the new one is written in a
    folder beside it and swapped in only when complete.
    """
    _check_parquet_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        counts = _write_parquet(staging, portal)
        _swap_in(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return counts


def _check_parquet_folder(out: Path) -> None:
    if not out.exists():
        return
    if not out.is_dir():
        raise ExportRefused(f"{out} is a file; give a folder for Parquet.")
    others = sorted(
        entry.name
        for entry in out.iterdir()
        if not (entry.name in PARQUET_PARTS and entry.is_dir())
    )
    if others:
        raise ExportRefused(
            f"{out} holds files that are no Parquet export of Entatio "
            f"({', '.join(others[:3])}); choose an empty or new folder for --out."
        )


def _write_parquet(folder: Path, portal: Portal | None) -> dict[str, int]:
    snapshot = timezone.now()
    stamp = snapshot.strftime("%Y%m%dT%H%M%S")
    events = _write_partitioned(
        _event_batches(portal), folder / "events", EVENT_SCHEMA, stamp
    )
    records = _write_partitioned(
        _record_batches(portal, snapshot), folder / "records", RECORD_SCHEMA, stamp
    )
    return {"events": events, "records": records}


def _swap_in(staging: Path, out: Path) -> None:
    """Put the staged parts in ``out``; each part is absent for one rename only."""
    for part in PARQUET_PARTS:
        previous = out / part
        if previous.exists():
            previous.rename(staging / f"previous-{part}")
        (staging / part).rename(previous)


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

# Visits read and written per query: small enough that the first bytes leave
# at once, large enough that a big portal takes few queries.
VISITS_PER_BATCH = 500


def export_visits_csv(out: Path, portal: Portal | None = None) -> int:
    """One row per visit and slide on screen in it: time and whether it counted.

    ``completion`` is the share of the presentation's shown slides seen in
    that visit, the same on every row of the visit.
    """
    written = 0
    with _replacing(out, newline="") as f:
        writer = csv.writer(f)
        writer.writerow(VISIT_COLUMNS)
        for rows in visit_row_batches(portal):
            writer.writerows(rows)
            written += len(rows)
    return written


def visit_row_batches(portal: Portal | None) -> Iterator[list[list[Any]]]:
    """The visits CSV's rows, a batch of visits at a time, oldest visit first."""
    slides = SlidesOfPresentations()
    after: tuple[datetime, Any] | None = None
    while True:
        rows, after = next_visit_rows(portal, after, slides)
        if after is None:
            return
        yield rows


def next_visit_rows(
    portal: Portal | None,
    after: tuple[datetime, Any] | None,
    slides: "SlidesOfPresentations",
) -> tuple[list[list[Any]], tuple[datetime, Any] | None]:
    """One batch of rows and where the next starts; ``None`` when all are read.

    Keyset pagination on (start, id): each batch is its own short query, so
    a slow reader holds no cursor open and a sync or async caller can go on.
    """
    visits = _visits(portal)
    if after is not None:
        started, pk = after
        visits = visits.filter(
            Q(started_at__gt=started) | Q(started_at=started, pk__gt=pk)
        )
    batch = list(visits[:VISITS_PER_BATCH])
    if not batch:
        return [], None

    on_screen = _on_screen_ms([visit.pk for visit in batch])
    rows = [row for visit in batch for row in _visit_rows(visit, on_screen, slides)]
    return rows, (batch[-1].started_at, batch[-1].pk)


def _visits(portal: Portal | None) -> QuerySet[Visit]:
    visits = Visit.objects.select_related(
        "member__account", "member__portal__organization", "presentation"
    ).order_by("started_at", "pk")
    return visits.filter(member__portal=portal) if portal else visits


def _on_screen_ms(visit_ids: list[Any]) -> dict[Any, dict[int, int]]:
    """Per visit, the milliseconds each slide it showed was on screen."""
    totals = (
        Event.objects.filter(
            visit_id__in=visit_ids, verb__in=ON_SCREEN_VERBS, slide__isnull=False
        )
        .values_list("visit_id", "slide_id")
        .annotate(ms=Sum("duration_ms"))
        .order_by()
    )
    on_screen: dict[Any, dict[int, int]] = defaultdict(dict)
    for visit_id, slide_id, ms in totals:
        on_screen[visit_id][slide_id] = ms or 0
    return on_screen


class SlidesOfPresentations:
    """Each presentation's shown slides, read once per export."""

    def __init__(self) -> None:
        self.shown: dict[int, list[Slide]] = {}
        self.titles: dict[int, str] = {}

    def shown_of(self, presentation: Presentation) -> list[Slide]:
        if presentation.pk not in self.shown:
            self.shown[presentation.pk] = shown_slides(presentation)
            self.titles.update((s.pk, s.title) for s in self.shown[presentation.pk])
        return self.shown[presentation.pk]

    def title_of(self, slide_id: int) -> str:
        # A slide seen then hidden is no longer among the shown ones.
        if slide_id not in self.titles:
            slide = Slide.objects.filter(pk=slide_id).only("title").first()
            self.titles[slide_id] = slide.title if slide else ""
        return self.titles[slide_id]


def _visit_rows(
    visit: Visit,
    on_screen_of: dict[Any, dict[int, int]],
    slides: SlidesOfPresentations,
) -> list[list[Any]]:
    on_screen = on_screen_of.get(visit.pk, {})
    if not on_screen:
        return []

    member = visit.member
    threshold_ms = member.portal.organization.seen_after_seconds * 1000
    seen = {slide for slide, ms in on_screen.items() if ms >= threshold_ms}
    shown = slides.shown_of(visit.presentation)
    position_of = {slide.pk: position for position, slide in enumerate(shown, 1)}
    completion = round(len(seen & position_of.keys()) / len(shown), 4) if shown else 0

    # Rows in the presentation's order; slides hidden since come last.
    ordered = sorted(on_screen, key=lambda s: (position_of.get(s, len(shown) + 1), s))
    return [
        [
            member.email,
            member.account.name if member.account else "",
            member.user_type,
            visit.presentation.title,
            slide_id,
            slides.title_of(slide_id),
            position_of.get(slide_id, ""),
            str(visit.pk),
            visit.mode,
            visit.started_at.isoformat(),
            round(on_screen[slide_id] / 1000, 3),
            slide_id in seen,
            completion,
        ]
        for slide_id in ordered
    ]


@contextmanager
def _replacing(out: Path, newline: str | None = None) -> Iterator[TextIO]:
    """A text file written beside ``out`` that replaces it only when complete.

    A run that fails half way leaves the previous file as it was.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    # Made with "x" rather than mkstemp, so the file gets the usual
    # permissions of the user's umask, not mkstemp's owner-only ones.
    partial = out.parent / f".{out.name}.{uuid.uuid4().hex}.partial"
    try:
        with partial.open("x", encoding="utf-8", newline=newline) as f:
            yield f
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)

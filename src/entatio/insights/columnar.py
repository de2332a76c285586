"""The columnar copy insights read: Parquet files written from the tables.

Aggregating the transactional tables does not scale (a GROUP BY over ten
million events takes seconds to tens of seconds in SQLite or PostgreSQL and
well under one in DuckDB over Parquet), so insights read a copy. The copy of
an organization is a folder of Parquet files under ``ENTATIO_HOME``; a new
copy is written beside the old one and a pointer file is swapped, so readers
in other processes never see a half-written copy.
"""

import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from django.conf import settings
from django.utils import timezone

from entatio.crm.models import Opportunity
from entatio.engagement.derive import ON_SCREEN_VERBS
from entatio.engagement.models import ActivityRecord, Event
from entatio.insights.models import Topic
from entatio.insights.topics import effective_slide_topics
from entatio.library.models import Slide
from entatio.people.models import Account, Member, Organization, Portal

logger = logging.getLogger(__name__)

CURRENT = "CURRENT"
EVENT_CHUNK = 200_000
KEEP_COPIES = 2
TIMESTAMP = pa.timestamp("us", tz="UTC")

SCHEMAS = {
    "portals": pa.schema(
        [("portal_id", pa.int64()), ("name", pa.string()), ("kind", pa.string())]
    ),
    "members": pa.schema(
        [
            ("member_id", pa.int64()),
            ("portal_id", pa.int64()),
            ("account_id", pa.int64()),
            ("user_type", pa.string()),
            ("title", pa.string()),
            ("region", pa.string()),
            ("attributes", pa.string()),
        ]
    ),
    "accounts": pa.schema(
        [
            ("account_id", pa.int64()),
            ("name", pa.string()),
            ("segment", pa.string()),
            ("industry", pa.string()),
            ("account_type", pa.string()),
            ("employees", pa.int64()),
            ("region", pa.string()),
        ]
    ),
    "slides": pa.schema(
        [
            ("slide_id", pa.int64()),
            ("portal_id", pa.int64()),
            ("copied_from_id", pa.int64()),
            ("title", pa.string()),
            ("created_at", TIMESTAMP),
        ]
    ),
    "topics": pa.schema([("topic_id", pa.int64()), ("label", pa.string())]),
    "slide_topics": pa.schema([("slide_id", pa.int64()), ("topic_id", pa.int64())]),
    "records": pa.schema(
        [
            ("member_id", pa.int64()),
            ("slide_id", pa.int64()),
            ("visits", pa.int64()),
            ("first_seen_at", TIMESTAMP),
            ("last_seen_at", TIMESTAMP),
            ("dwell_ms", pa.int64()),
            ("live_visits", pa.int64()),
            ("archived", pa.bool_()),
            ("created_at", TIMESTAMP),
        ]
    ),
    "events": pa.schema(
        [
            ("member_id", pa.int64()),
            ("slide_id", pa.int64()),
            ("visit_id", pa.string()),
            ("at", TIMESTAMP),
            ("duration_ms", pa.int64()),
            ("live", pa.bool_()),
        ]
    ),
    "sales": pa.schema(
        [
            ("account_id", pa.int64()),
            ("close_date", pa.date32()),
            ("amount", pa.float64()),
            ("is_won", pa.bool_()),
            ("is_closed", pa.bool_()),
        ]
    ),
}


@dataclass(frozen=True)
class ColumnarCopy:
    """One written copy: its folder and what it was written from."""

    folder: Path
    organization_id: int
    written_at: datetime
    seen_after_ms: int

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB with one view per table of the copy."""
        connection = duckdb.connect()
        # Days and months are those of UTC, as everywhere in Entatio.
        connection.execute("SET TimeZone = 'UTC'")
        for table in SCHEMAS:
            if table == "events":
                source = str(self.folder / "events" / "*.parquet")
            else:
                source = str(self.path(table))
            connection.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{source}')"
            )
        return connection


def copies_root(organization_id: int) -> Path:
    return Path(settings.HOME) / "insights" / f"organization-{organization_id}"


def current_copy(organization_id: int) -> ColumnarCopy | None:
    root = copies_root(organization_id)
    try:
        name = (root / CURRENT).read_text(encoding="utf-8").strip()
        meta = json.loads((root / name / "meta.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return ColumnarCopy(
        folder=root / name,
        organization_id=organization_id,
        written_at=datetime.fromisoformat(meta["written_at"]),
        seen_after_ms=int(meta["seen_after_ms"]),
    )


def copy_for(
    organization: Organization, max_age: timedelta | None = None
) -> ColumnarCopy:
    """The current copy; written now when there is none, refreshed when old.

    A copy older than ``max_age`` is still returned, and a refresh is queued
    for the worker, so a page never waits for a large copy.
    """
    copy = current_copy(organization.pk)
    if copy is None:
        return write_copy(organization)
    if max_age is not None and timezone.now() - copy.written_at > max_age:
        from entatio.insights.tasks import refresh_copy_task

        refresh_copy_task.enqueue(organization.pk)
    return copy


def write_copy(organization: Organization) -> ColumnarCopy:
    """Write every table of the organization to a new copy and make it current."""
    root = copies_root(organization.pk)
    written_at = timezone.now()
    # Microseconds, so that names sort in the order the copies were written.
    name = f"copy-{written_at:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"
    folder = root / name
    (folder / "events").mkdir(parents=True)

    seen_after_ms = int(organization.seen_after_seconds * 1000)
    for table, rows in _tables(organization).items():
        _write_table(folder / f"{table}.parquet", SCHEMAS[table], rows)
    events = _write_events(folder / "events", organization)
    meta = {"written_at": written_at.isoformat(), "seen_after_ms": seen_after_ms}
    (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    _make_current(root, name)
    logger.info("Wrote the columnar copy of %s: %d events", organization.slug, events)
    return ColumnarCopy(folder, organization.pk, written_at, seen_after_ms)


def _make_current(root: Path, name: str) -> None:
    pointer = root / f"{CURRENT}.{name}"
    pointer.write_text(name, encoding="utf-8")
    os.replace(pointer, root / CURRENT)

    # Readers that opened an older copy a moment ago keep it: the previous
    # one stays until the next refresh.
    copies = sorted(p for p in root.glob("copy-*") if p.is_dir())
    for old in copies[:-KEEP_COPIES]:
        # Another writer may have made a later copy current meanwhile; the one
        # made current here is never the one removed.
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def _write_table(path: Path, schema: pa.Schema, rows: Sequence[Sequence[Any]]) -> None:
    columns: list[Sequence[Any]] = (
        list(zip(*rows, strict=True)) if rows else [[] for _ in schema]
    )
    table = pa.table(
        {
            f.name: pa.array(list(c), type=f.type)
            for f, c in zip(schema, columns, strict=True)
        },
        schema=schema,
    )
    pq.write_table(table, path)


def _tables(organization: Organization) -> dict[str, Sequence[Sequence[Any]]]:
    members = Member.objects.filter(
        portal__organization=organization, erased_at__isnull=True
    )
    slides = Slide.objects.filter(portal__organization=organization)
    return {
        "portals": list(
            Portal.objects.filter(organization=organization).values_list(
                "pk", "name", "kind"
            )
        ),
        "members": [
            (*row[:-1], json.dumps(row[-1] or {}))
            for row in members.values_list(
                "pk",
                "portal_id",
                "account_id",
                "user_type",
                "title",
                "region",
                "attributes",
            )
        ],
        "accounts": list(
            Account.objects.filter(organization=organization).values_list(
                "pk",
                "name",
                "segment",
                "industry",
                "account_type",
                "employees",
                "region",
            )
        ),
        "slides": list(
            slides.values_list(
                "pk", "portal_id", "copied_from_id", "title", "created_at"
            )
        ),
        "topics": list(
            Topic.objects.filter(organization=organization).values_list("pk", "label")
        ),
        "slide_topics": effective_slide_topics(organization),
        "records": list(
            ActivityRecord.objects.filter(member__in=members).values_list(
                "member_id",
                "slide_id",
                "visits",
                "first_seen_at",
                "last_seen_at",
                "dwell_ms",
                "live_visits",
                "archived",
                "created_at",
            )
        ),
        "sales": [
            (account_id, close_date, float(amount or 0), is_won, is_closed)
            for account_id, close_date, amount, is_won, is_closed in (
                Opportunity.objects.filter(organization=organization).values_list(
                    "account_id", "close_date", "amount", "is_won", "is_closed"
                )
            )
        ],
    }


def _write_events(folder: Path, organization: Organization) -> int:
    """Events that count as time on screen, in files of a chunk each."""
    written = 0
    for number, chunk in enumerate(_event_chunks(organization)):
        _write_table(folder / f"part-{number:05d}.parquet", SCHEMAS["events"], chunk)
        written += len(chunk)
    if written == 0:
        _write_table(folder / "part-00000.parquet", SCHEMAS["events"], [])
    return written


def _event_chunks(organization: Organization) -> Iterator[list[tuple]]:
    rows = (
        Event.objects.filter(
            portal__organization=organization,
            verb__in=sorted(ON_SCREEN_VERBS),
            member__isnull=False,
            slide__isnull=False,
        )
        .order_by()
        .values_list(
            "member_id", "slide_id", "visit_id", "id", "at", "duration_ms", "live"
        )
    )
    chunk: list[tuple] = []
    for member_id, slide_id, visit_id, event_id, at, ms, live in rows.iterator(
        chunk_size=10_000
    ):
        # An event outside any visit is a visit of its own, as in the records.
        chunk.append(
            (
                member_id,
                slide_id,
                str(visit_id or event_id),
                at.astimezone(UTC),
                ms,
                live,
            )
        )
        if len(chunk) >= EVENT_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk

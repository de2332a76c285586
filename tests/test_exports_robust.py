"""Exports written again replace the last one; the visits CSV streams its rows."""

import csv
import io
import uuid
from datetime import UTC, datetime, timedelta

import pyarrow.dataset as ds
import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import reverse

from entatio.cli.main import main
from entatio.engagement.access import share_presentation
from entatio.engagement.events import record_events
from entatio.engagement.exports import export_parquet, export_visits_csv, export_xapi
from entatio.engagement.models import Event
from tests.test_records import deck as make_presentation
from tests.test_records import view
from tests.test_web_fixtures import *  # noqa: F403

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def engaged(portal, group, member):
    """Two visits: slides 1 and 2 in the first, slide 1 twice in the second."""
    presentation = make_presentation(portal, n=5)
    share_presentation(presentation, group)
    s0, s1, *_ = presentation.slides.order_by("places__position")
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    record_events(
        portal,
        [
            view(member, s0, T0, 3500, first),
            view(member, s1, T0 + timedelta(seconds=10), 1200, first),
            view(member, s0, T0 + timedelta(days=1), 2000, second),
            view(member, s0, T0 + timedelta(days=1, seconds=5), 2000, second),
        ],
    )
    return presentation


def parquet_counts(folder):
    events = ds.dataset(folder / "events", format="parquet", partitioning="hive")
    records = ds.dataset(folder / "records", format="parquet", partitioning="hive")
    return events.count_rows(), records.count_rows()


def test_parquet_export_twice_replaces_the_first(engaged, tmp_path):
    out = tmp_path / "lake"
    first = export_parquet(out)
    second = export_parquet(out)

    assert first == second == {"events": 4, "records": 5}
    assert parquet_counts(out) == (4, 5)
    assert sorted(p.name for p in out.iterdir()) == ["events", "records"]
    # Nothing staged is left beside the target.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake"]


def test_a_failed_parquet_export_keeps_the_previous_one(engaged, tmp_path, monkeypatch):
    out = tmp_path / "lake"
    export_parquet(out)

    def dying(*_):
        raise RuntimeError("the export died half way")

    monkeypatch.setattr("entatio.engagement.exports._record_batches", dying)

    with pytest.raises(RuntimeError):
        export_parquet(out)

    assert parquet_counts(out) == (4, 5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lake"]


def test_parquet_export_refuses_a_folder_of_other_files(engaged, tmp_path, capsys):
    out = tmp_path / "documents"
    out.mkdir()
    (out / "thesis.docx").write_text("mine")

    status = main(["export", "parquet", "--out", str(out)])

    assert status == 2
    assert "thesis.docx" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["thesis.docx"]


def test_xapi_and_csv_written_twice_hold_one_copy(engaged, tmp_path):
    statements, visits = tmp_path / "s.jsonl", tmp_path / "v.csv"
    for _ in range(2):
        assert export_xapi(statements) == 4
        assert export_visits_csv(visits) == 3

    assert len(statements.read_text().splitlines()) == 4
    assert len(list(csv.DictReader(visits.open()))) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.jsonl", "v.csv"]


def visit_slide_pairs() -> int:
    return (
        Event.objects.filter(visit__isnull=False, slide__isnull=False)
        .values("visit_id", "slide_id")
        .distinct()
        .count()
    )


def test_visits_csv_has_a_row_per_visit_and_slide_on_screen(engaged, tmp_path):
    out = tmp_path / "visits.csv"

    assert export_visits_csv(out) == visit_slide_pairs() == 3

    rows = list(csv.DictReader(out.open()))
    first, second = rows[:2], rows[2:]
    assert [r["position"] for r in first] == ["1", "2"]
    assert [r["seen"] for r in first] == ["True", "False"]
    assert [r["duration_seconds"] for r in first] == ["3.5", "1.2"]
    # One slide of five seen: completion keeps its meaning.
    assert {r["completion"] for r in first} == {"0.2"}
    [again] = second
    assert (again["position"], again["duration_seconds"], again["seen"]) == (
        "1",
        "4.0",
        "True",
    )
    assert again["account"] == "Globex"


def test_visits_csv_pages_through_many_visits(engaged, tmp_path, monkeypatch):
    monkeypatch.setattr("entatio.engagement.exports.VISITS_PER_BATCH", 1)
    out = tmp_path / "visits.csv"

    assert export_visits_csv(out) == 3


def test_visits_download_streams_the_same_rows(engaged, client_of, group):
    response = client_of("author").get(reverse("export_file", args=["visits"]))

    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response).decode())))
    assert len(rows) == visit_slide_pairs() == 3
    assert {r["member"] for r in rows} == {"ada@globex.test"}


def test_visits_download_under_asgi_streams_asynchronously(engaged, author):
    client = AsyncClient()
    client.force_login(author.user)

    async def download() -> tuple[bool, bytes]:
        response = await client.get(reverse("export_file", args=["visits"]))
        body = b"".join([part async for part in response.streaming_content])
        return response.is_async, body

    is_async, body = async_to_sync(download)()

    assert is_async
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert len(rows) == visit_slide_pairs() == 3

import csv
import json
import uuid
from datetime import UTC, datetime, timedelta

import pyarrow.dataset as ds
import pytest

from entatio.engagement.access import share_presentation
from entatio.engagement.activity import record_activity
from entatio.engagement.events import rebuild_records, record_events
from entatio.engagement.exports import (
    export_parquet,
    export_visits_csv,
    export_xapi,
)
from entatio.engagement.models import ActivityRecord, Event
from entatio.engagement.privacy import erase_member, member_data, purge_expired_events
from entatio.engagement.xapi import (
    duration_ms,
    event_from_statement,
    iso_duration,
    statement_of,
)
from tests import xapi_rules
from tests.shared import shared_dir
from tests.test_records import deck, view

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TEMPLATES = shared_dir() / "datasets/xapi_adl_conformance_templates/v1_0_3/statements"


@pytest.fixture
def engaged(portal, group, member):
    presentation = deck(portal)
    share_presentation(presentation, group)
    s0, s1, _ = presentation.slides.order_by("places__position")
    record_events(
        portal,
        [
            view(member, s0, T0, 3500),
            view(member, s1, T0 + timedelta(seconds=10), 1200),
            view(member, s0, T0 + timedelta(days=1), 4000),
        ],
    )
    return presentation


def test_rules_accept_adl_templates_and_refuse_broken_ones():
    if not TEMPLATES.exists():
        pytest.skip("the shared data sets are not on this machine")
    for name in ("default", "result", "context", "unicode"):
        statement = json.loads((TEMPLATES / f"{name}.json").read_text())
        assert xapi_rules.problems(statement) == [], name
    for name in ("no_actor", "no_verb", "no_object"):
        statement = json.loads((TEMPLATES / f"{name}.json").read_text())
        assert xapi_rules.problems(statement), name


def test_xapi_statements_are_valid_and_complete(engaged, member, tmp_path):
    out = tmp_path / "statements.jsonl"
    assert export_xapi(out) == 3

    statements = [json.loads(line) for line in out.read_text().splitlines()]
    for statement in statements:
        assert xapi_rules.problems(statement) == []
    first = statements[0]
    assert first["actor"]["mbox"] == f"mailto:{member.email}"
    assert first["verb"]["id"] == "http://id.tincanapi.com/verb/viewed"
    assert first["result"]["duration"] == "PT3.5S"
    parent = first["context"]["contextActivities"]["parent"][0]
    assert parent["id"].endswith(f"/presentations/{engaged.pk}")
    assert uuid.UUID(first["context"]["registration"])


def test_exported_statements_load_back_as_the_same_events(engaged, portal, tmp_path):
    out = tmp_path / "statements.jsonl"
    export_xapi(out)
    statements = [json.loads(line) for line in out.read_text().splitlines()]
    before = sorted(
        ActivityRecord.objects.values_list("slide_id", "visits", "dwell_ms")
    )

    Event.objects.all().delete()
    result = record_events(portal, statements)

    assert (result.stored, result.errors) == (3, [])
    rebuild_records(portal)
    after = sorted(ActivityRecord.objects.values_list("slide_id", "visits", "dwell_ms"))
    assert after == before


def test_a_statement_about_the_whole_presentation_keeps_it(engaged, member):
    download = record_activity(member, "downloaded", engaged)

    plain = event_from_statement(statement_of(download))

    assert (plain["verb"], plain["slide"], plain["presentation"]) == (
        "downloaded",
        None,
        engaged.pk,
    )
    assert plain["member"] == member.email


def test_durations_round_trip():
    assert iso_duration(3500) == "PT3.5S"
    assert iso_duration(61000) == "PT61S"
    assert duration_ms("PT1M1.5S") == 61500
    assert duration_ms("P1DT1H") == 90_000_000
    with pytest.raises(ValueError):
        duration_ms("3 seconds")


def test_parquet_is_partitioned_by_day(engaged, tmp_path):
    counts = export_parquet(tmp_path)

    assert counts == {"events": 3, "records": 3}
    days = sorted(p.name for p in (tmp_path / "events").iterdir())
    assert days == ["date=2026-03-02", "date=2026-03-03"]
    events = ds.dataset(tmp_path / "events", partitioning="hive").to_table()
    assert sorted(events.column("duration_ms").to_pylist()) == [1200, 3500, 4000]
    records = ds.dataset(tmp_path / "records", partitioning="hive").to_table()
    assert sorted(records.column("visits").to_pylist()) == [0, 0, 2]


def test_visits_csv(engaged, member, tmp_path):
    out = tmp_path / "visits.csv"
    assert export_visits_csv(out) == 3

    rows = list(csv.DictReader(out.open()))
    first_visit = [r for r in rows if r["started"].startswith("2026-03-02")]
    assert [r["seen"] for r in first_visit] == ["True", "False"]
    assert {r["completion"] for r in first_visit} == {str(round(1 / 3, 4))}
    assert first_visit[0]["account"] == "Globex"
    assert first_visit[1]["duration_seconds"] == "1.2"


def test_member_data_and_erasure(engaged, member, portal):
    data = member_data(member)
    assert data["member"]["email"] == member.email
    assert len(data["statements"]) == 3
    assert sorted(r["visits"] for r in data["records"]) == [0, 0, 2]

    erase_member(member)

    member.refresh_from_db()
    assert member.email.endswith("@erased.invalid") and member.first_name == ""
    assert member.user is None and member.account.name == "Globex"
    assert Event.objects.filter(member=member).count() == 3
    dumped = json.dumps(list(Event.objects.values_list("statement", flat=True)))
    assert "ada@globex.test" not in dumped
    assert not ActivityRecord.objects.filter(member=member, archived=False).exists()
    assert ActivityRecord.objects.get(member=member, visits=2).archived


def test_retention_purges_old_events_and_rebuild_keeps_their_records(
    engaged, member, org
):
    org.event_retention_days = 30
    org.save()
    old = ActivityRecord.objects.get(member=member, visits=2)

    assert purge_expired_events(org) == 3
    rebuild_records()

    old.refresh_from_db()
    assert old.visits == 2


def test_video_progress_reaches_the_statement(portal, group, member, tmp_path):
    presentation = deck(portal)
    share_presentation(presentation, group)
    slide = presentation.slides.first()
    watched = {**view(member, slide, T0, 4200), "verb": "watched", "furthest_ms": 6100}
    record_events(portal, [watched])

    export_xapi(tmp_path / "x.jsonl")

    [statement] = [
        json.loads(x) for x in (tmp_path / "x.jsonl").read_text().splitlines()
    ]
    assert xapi_rules.problems(statement) == []
    assert statement["result"]["duration"] == "PT4.2S"
    assert statement["result"]["extensions"] == {
        "https://w3id.org/xapi/video/extensions/time": 6.1
    }

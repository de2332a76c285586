"""Granting access and loading events at a real customer's size.

Prints, per database, the time to grant one presentation of 100 slides to
10,000 members (1,000,000 records) against a raw ``executemany`` of the same
rows, and the time to load 1,000,000 events through the batch path against a
raw insert of the same rows. Ratios are ours / raw: lower is better.

    .venv/bin/python bench/records.py [--members 10000] [--slides 100]
        [--events 1000000] [--only grant|events]

A smaller ``--events`` is for trying changes quickly; the goals are measured
at the defaults.
"""

import argparse
import json
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--slides", type=int, default=100)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--only", choices=["grant", "events"])
    args = parser.parse_args()
    if args.database is None:
        rest = sys.argv[1:]
        return _setup.run_per_database(__file__, rest)

    _setup.start(args.database)
    world = build_world(args.members, args.slides)
    if args.only == "events":
        # Events are refused without access, so the grant is made untimed.
        grant(world)
    else:
        bench_grant(args.database, world)
    if args.only != "grant":
        bench_events(args.database, world, args.events)
    return 0


def build_world(n_members: int, n_slides: int) -> dict:
    from entatio.library.models import Presentation, PresentationSlide, Slide
    from entatio.people.models import Member, Organization, Portal, SharingGroup

    org = Organization.objects.create(name="Bench", slug="bench")
    portal = Portal.objects.create(organization=org, name="Bench", slug="bench")
    Member.objects.bulk_create(
        Member(portal=portal, email=f"m{i}@bench.test") for i in range(n_members)
    )
    members = list(Member.objects.filter(portal=portal).values_list("pk", "email"))
    group = SharingGroup.objects.create(portal=portal, name="Everyone")
    group.members.add(*[pk for pk, _ in members])

    presentation = Presentation.objects.create(portal=portal, title="Bench")
    Slide.objects.bulk_create(
        Slide(portal=portal, title=f"S{i}", index_in_source=i) for i in range(n_slides)
    )
    slides = list(Slide.objects.filter(portal=portal).values_list("pk", flat=True))
    PresentationSlide.objects.bulk_create(
        PresentationSlide(presentation=presentation, slide_id=s, position=i)
        for i, s in enumerate(slides)
    )
    return {
        "portal": portal,
        "group": group,
        "presentation": presentation,
        "members": members,
        "slides": slides,
    }


def bench_grant(database: str, world: dict) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from entatio.engagement.models import ActivityRecord

    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [
        (m, s, 0, 0, 0, 0, False, now)
        for m, _ in world["members"]
        for s in world["slides"]
    ]
    insert = (
        "INSERT INTO engagement_activityrecord (member_id, slide_id, visits, "
        "dwell_ms, live_visits, self_paced_visits, archived, created_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    )
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(insert, rows)
    raw = time.perf_counter() - start
    ActivityRecord.objects.all().delete()

    start = time.perf_counter()
    created = grant(world)
    ours = time.perf_counter() - start

    assert created == len(rows), (created, len(rows))
    report(database, f"grant {len(rows):,} records", ours, raw, goal=2.0)


def grant(world: dict) -> int:
    """Share the deck with everyone; the records it makes."""
    from entatio.engagement.access import sync_records
    from entatio.engagement.models import Share

    Share.objects.create(presentation=world["presentation"], group=world["group"])
    created, _ = sync_records([world["presentation"].pk])
    return created


def bench_events(database: str, world: dict, n_events: int) -> None:
    from django.db import connection, transaction

    from entatio.engagement.events import load_events
    from entatio.engagement.models import Event

    events = simulated_events(world, n_events)
    rows = raw_event_rows(world, events)
    insert = (
        "INSERT INTO engagement_event (id, portal_id, member_id, verb, slide_id, "
        "presentation_id, visit_id, live, at, duration_ms, statement, received_at) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    )
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(insert, rows)
    raw = time.perf_counter() - start
    Event.objects.all().delete()
    del rows

    start = time.perf_counter()
    result = load_events(world["portal"], events)
    ours = time.perf_counter() - start

    assert result.stored == n_events and not result.errors, result.errors[:3]
    report(database, f"load {n_events:,} events", ours, raw, goal=3.0)


def simulated_events(world: dict, n_events: int) -> list[dict]:
    """Members paging through the deck in sittings a day apart."""
    members, slides = world["members"], world["slides"]
    start = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    events = []
    for i in range(n_events):
        _, email = members[i % len(members)]
        step = i // len(members)
        sitting, position = divmod(step, len(slides))
        at = start + timedelta(days=sitting, seconds=5 * position)
        events.append(
            {
                "id": str(uuid.UUID(int=i + 1)),
                "member": email,
                "slide": slides[position],
                "verb": "viewed",
                "at": at.isoformat(),
                "duration_ms": 1000 + (i * 7919) % 6000,
            }
        )
    return events


def raw_event_rows(world: dict, events: list[dict]) -> list[tuple]:
    """The same events as table rows, prepared before the clock starts."""
    from django.db import connection
    from django.utils import timezone

    ops = connection.ops
    as_uuid = (lambda u: u.hex) if connection.vendor == "sqlite" else (lambda u: u)
    by_email = {email: pk for pk, email in world["members"]}
    portal_id = world["portal"].pk
    presentation_id = world["presentation"].pk
    now = ops.adapt_datetimefield_value(timezone.now())
    return [
        (
            as_uuid(uuid.UUID(e["id"])),
            portal_id,
            by_email[e["member"]],
            e["verb"],
            e["slide"],
            presentation_id,
            None,
            False,
            ops.adapt_datetimefield_value(datetime.fromisoformat(e["at"])),
            e["duration_ms"],
            json.dumps(e),
            now,
        )
        for e in events
    ]


def report(database: str, work: str, ours: float, raw: float, goal: float) -> None:
    ratio = ours / raw
    verdict = "meets" if ratio <= goal else "misses"
    print(
        f"{database:10} {work:28} ours {ours:7.2f} s   raw {raw:7.2f} s   "
        f"ratio {ratio:5.2f} ({verdict} the goal of {goal:g})",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())

"""Insights at scale, and how often discovery finds what was planted.

``scale``: writes a columnar copy of 10,000,000 events straight to Parquet
(with members, accounts, topics, records and sales to match), then times the
engagement cube and the whole discovery scan against DuckDB computing the
same cube in one query over the same Parquet, in the same run. Ratios are
ours / DuckDB alone: lower is better.

``recall``: simulates worlds with planted effects and worlds without, and
prints how often each planted effect is found and how often a world without
effects yields any insight at all, each with its 95% interval.

    .venv/bin/python bench/insights.py scale [--events 10000000]
    .venv/bin/python bench/insights.py recall [--seeds 40] [--planted 15] [--workers 2]
"""

import argparse
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _setup

UNTIL = datetime(2026, 6, 1, tzinfo=UTC)
USER_TYPES = ["admin", "developer", "analyst", "executive"]
SEGMENTS = ["Enterprise", "Mid-market", "SMB"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["scale", "recall"])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--seeds", type=int, default=40, help="worlds of each kind")
    parser.add_argument("--planted", type=int, help="planted worlds, if fewer")
    parser.add_argument("--workers", type=int, default=2, help="processes for recall")
    args = parser.parse_args()

    if args.mode == "scale":
        _setup.start("sqlite")
        return bench_scale(args.events, args.members)
    planted = args.seeds if args.planted is None else args.planted
    return bench_recall(planted, args.seeds, args.workers)


def write_parquet(folder: Path, n_events: int, n_members: int) -> None:
    """A copy as ``write_copy`` lays it out, made with NumPy instead of the ORM."""
    rng = np.random.default_rng(1)
    n_accounts, n_slides, n_topics = n_members // 10, 200, 20
    folder.joinpath("events").mkdir(parents=True)

    def table(name: str, columns: dict) -> None:
        pq.write_table(pa.table(columns), folder / f"{name}.parquet")

    member_ids = np.arange(1, n_members + 1)
    table("portals", {"portal_id": [1], "name": ["Customers"], "kind": ["customer"]})
    table("members", {
        "member_id": member_ids,
        "portal_id": np.ones(n_members, dtype=np.int64),
        "account_id": rng.integers(1, n_accounts + 1, n_members),
        "user_type": rng.choice(USER_TYPES, n_members),
        "title": rng.choice(["Manager", "Lead", "Engineer"], n_members),
        "region": rng.choice(["EMEA", "AMER", "APAC"], n_members),
        "attributes": np.full(n_members, '{"plan": "standard"}'),
    })  # fmt: skip
    table("accounts", {
        "account_id": np.arange(1, n_accounts + 1),
        "name": [f"Account {i}" for i in range(1, n_accounts + 1)],
        "segment": rng.choice(SEGMENTS, n_accounts),
        "industry": rng.choice(["Tech", "Health", "Finance"], n_accounts),
        "account_type": rng.choice(["Direct", "Channel"], n_accounts),
        "employees": rng.integers(10, 40_000, n_accounts),
        "region": rng.choice(["EMEA", "AMER", "APAC"], n_accounts),
    })  # fmt: skip
    slide_ids = np.arange(1, n_slides + 1)
    table("slides", {
        "slide_id": slide_ids, "portal_id": np.ones(n_slides, dtype=np.int64),
        "copied_from_id": pa.nulls(n_slides, pa.int64()),
        "title": [f"Slide {i}" for i in slide_ids],
        "created_at": pa.array([UNTIL - timedelta(days=500)] * n_slides),
    })  # fmt: skip
    labels = [f"Topic {i}" for i in range(1, n_topics + 1)]
    table("topics", {"topic_id": np.arange(1, n_topics + 1), "label": labels})
    table("slide_topics", {"slide_id": slide_ids,
                           "topic_id": (slide_ids - 1) % n_topics + 1})  # fmt: skip
    # Every member has access to a deck of 40 slides: 2,000,000 records.
    deck = rng.integers(0, n_slides // 40, n_members)
    record_members = np.repeat(member_ids, 40)
    record_slides = (np.repeat(deck, 40) * 40 + np.tile(np.arange(40), n_members)) + 1
    table("records", {
        "member_id": record_members, "slide_id": record_slides,
        "visits": np.zeros(len(record_members), dtype=np.int64),
        "first_seen_at": pa.nulls(len(record_members), pa.timestamp("us", tz="UTC")),
        "last_seen_at": pa.nulls(len(record_members), pa.timestamp("us", tz="UTC")),
        "dwell_ms": np.zeros(len(record_members), dtype=np.int64),
        "live_visits": np.zeros(len(record_members), dtype=np.int64),
        "archived": np.zeros(len(record_members), dtype=bool),
        "created_at": pa.nulls(len(record_members), pa.timestamp("us", tz="UTC")),
    })  # fmt: skip
    table("sales", {
        "account_id": rng.integers(1, n_accounts + 1, n_accounts * 20),
        "close_date": pa.array(
            [(UNTIL - timedelta(days=int(d))).date()
             for d in rng.integers(1, 455, n_accounts * 20)]
        ),
        "amount": rng.lognormal(9, 1, n_accounts * 20),
        "is_won": rng.random(n_accounts * 20) < 0.7,
        "is_closed": np.ones(n_accounts * 20, dtype=bool),
    })  # fmt: skip

    chunk = 2_000_000
    start_us = int((UNTIL - timedelta(days=455)).timestamp() * 1e6)
    for number, first in enumerate(range(0, n_events, chunk)):
        n = min(chunk, n_events - first)
        members = rng.integers(1, n_members + 1, n)
        visits = members * 1000 + rng.integers(0, 60, n)
        slides = deck[members - 1] * 40 + rng.integers(1, 41, n)
        at = start_us + rng.integers(0, 455 * 86_400_000_000, n)
        pq.write_table(
            pa.table({
                "member_id": members, "slide_id": slides,
                "visit_id": pa.array(visits).cast(pa.string()),
                "at": pa.array(at, type=pa.timestamp("us", tz="UTC")),
                "duration_ms": rng.integers(1_000, 60_000, n),
                "live": rng.random(n) < 0.05,
            }),
            folder / "events" / f"part-{number:05d}.parquet",
        )  # fmt: skip
    meta = {"written_at": UNTIL.isoformat(), "seen_after_ms": 3000}
    (folder / "meta.json").write_text(json.dumps(meta))


REFERENCE_CUBE = """
WITH seen AS (
    SELECT member_id, slide_id, visit_id, sum(duration_ms) AS dwell_ms
    FROM read_parquet('{events}')
    GROUP BY ALL
    HAVING sum(duration_ms) >= 3000 AND min("at") >= $since AND min("at") < $until
), viewed AS (
    SELECT member_id, topic_id, count(DISTINCT visit_id) AS visits,
           sum(dwell_ms) AS dwell_ms
    FROM seen JOIN read_parquet('{slide_topics}') USING (slide_id) GROUP BY ALL
), access AS (
    SELECT DISTINCT member_id, topic_id
    FROM read_parquet('{records}') JOIN read_parquet('{slide_topics}') USING (slide_id)
), mt AS (
    SELECT member_id, topic_id, coalesce(visits, 0) AS visits,
           coalesce(dwell_ms, 0) AS dwell_ms
    FROM access FULL JOIN viewed USING (member_id, topic_id)
)
SELECT topic_id, m.user_type, a.segment, count(*),
       count(*) FILTER (WHERE visits >= 1), count(*) FILTER (WHERE visits >= 2),
       sum(visits), sum(dwell_ms) FILTER (WHERE visits >= 1)
FROM mt JOIN read_parquet('{members}') m USING (member_id)
     LEFT JOIN read_parquet('{accounts}') a USING (account_id)
GROUP BY GROUPING SETS ((topic_id, m.user_type, a.segment), (topic_id, m.user_type),
                        (topic_id, a.segment), (topic_id))
"""


def bench_scale(n_events: int, n_members: int) -> int:
    import tempfile

    import duckdb

    from entatio.insights.columnar import ColumnarCopy
    from entatio.insights.cube import Window, engagement_cube, prepare
    from entatio.insights.discovery import discover

    folder = Path(tempfile.mkdtemp(prefix="entatio-bench-insights-")) / "copy"
    started = time.perf_counter()
    write_parquet(folder, n_events, n_members)
    print(f"wrote {n_events:,} events in {time.perf_counter() - started:.1f} s")
    copy = ColumnarCopy(folder, 0, UNTIL, 3000)
    window = Window.last_days(UNTIL)

    started = time.perf_counter()
    reference = (
        duckdb.connect()
        .execute(
            REFERENCE_CUBE.format(
                events=folder / "events" / "*.parquet",
                **{
                    t: folder / f"{t}.parquet"
                    for t in ("slide_topics", "records", "members", "accounts")
                },
            ),
            {"since": window.since, "until": window.until},
        )
        .fetchall()
    )
    duckdb_seconds = time.perf_counter() - started

    started = time.perf_counter()
    prepared = prepare(copy, window=window)
    cube = engagement_cube(prepared, "user_type", "segment")
    cube_seconds = time.perf_counter() - started

    started = time.perf_counter()
    found = discover(prepared)
    discovery_seconds = time.perf_counter() - started

    ours = {(r.cell.topic_id, r.cell.person, r.cell.account): r.cell for r in cube.rows}
    same = all(
        ours[(t, u, s)].members == n and ours[(t, u, s)].reached == k
        for t, u, s, n, k, *_ in reference
        if u is not None and s is not None
    )
    print(f"cells agree with DuckDB alone: {same} ({len(reference)} cells)")
    print(f"DuckDB alone, one cube query: {duckdb_seconds:.2f} s")
    print(f"cube (prepare + cube):        {cube_seconds:.2f} s, "
          f"ratio {cube_seconds / duckdb_seconds:.2f}")  # fmt: skip
    print(f"discovery scan ({found.tested:,} candidates, {len(found.insights)} "
          f"insights): {discovery_seconds:.2f} s, "
          f"ratio {discovery_seconds / duckdb_seconds:.2f}")  # fmt: skip
    return 0 if same else 1


def bench_recall(seeds: int, null_seeds: int, workers: int) -> int:
    """Planted and effect-free worlds, simulated and scanned in worker processes."""
    from concurrent.futures import ProcessPoolExecutor

    worlds = [(seed, True) for seed in range(seeds)]
    worlds += [(seed, False) for seed in range(null_seeds)]
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, initializer=_start_worker) as pool:
        results = list(pool.map(_scan_world, worlds))
    print(f"{len(worlds)} worlds in {time.perf_counter() - started:.0f} s")

    planted = [r for r in results if r["effects"]]
    hits: dict[str, int] = {}
    for result in planted:
        for key, found in result["found"].items():
            hits[key] = hits.get(key, 0) + found
    for key, count in hits.items():
        print(f"recall {key}: {_share_with_interval(count, seeds)}")
    if hits:
        total = sum(hits.values()) / (len(hits) * seeds)
        print(f"recall over all planted effects: {total:.3f}")
    if planted:
        risk_found = sum(r["risk_found"] for r in planted)
        risk_planted = sum(r["risk_planted"] for r in planted)
        print(f"accounts at risk found: {risk_found}/{risk_planted}")

    null = [r for r in results if not r["effects"]]
    with_insight = [r for r in null if r["insights"]]
    if not null:
        return 0
    print(
        "worlds without effects yielding any insight: "
        f"{_share_with_interval(len(with_insight), null_seeds)}"
    )
    for result in with_insight:
        print(f"  seed {result['seed']}: {result['insights']}")
    return 0


def _share_with_interval(count: int, total: int) -> str:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(count, total, alpha=0.05, method="beta")
    return (
        f"{count}/{total} = {count / total:.3f} "
        f"(95% Clopper-Pearson interval {low:.3f} to {high:.3f})"
    )


def _start_worker() -> None:
    import logging
    import os
    import shutil
    from multiprocessing import util

    _setup.start("sqlite")
    logging.getLogger("entatio").setLevel(logging.WARNING)
    # Pool workers end without running atexit; a finalizer removes the home.
    home = os.environ["ENTATIO_HOME"]
    util.Finalize(None, shutil.rmtree, args=(home, True), exitpriority=0)


def _scan_world(world: tuple[int, bool]) -> dict:
    """One world: which planted effects discovery found, or what it invented."""
    from entatio.insights.columnar import write_copy
    from entatio.insights.cube import prepare
    from entatio.insights.discovery import discover
    from entatio.insights.risk import accounts_at_risk
    from entatio.insights.simulate import simulate_world
    from entatio.people.models import Organization

    seed, effects = world
    org = Organization.objects.create(name=f"W{seed}", slug=f"w{seed}-{effects}")
    simulated = simulate_world(org, seed=1000 + seed, effects=effects)
    prepared = prepare(write_copy(org))
    found = discover(prepared)
    result = {
        "seed": seed,
        "effects": effects,
        "insights": [
            f"{i.kind} {i.measure} p={i.p_value:.2g} q={i.q_value:.2g}"
            for i in found.insights
        ],
        "found": {},
    }
    for effect in simulated.planted:
        topic = simulated.topic_of_deck[effect.topic].pk
        key = f"{effect.kind}:{effect.measure}:{effect.topic}"
        result["found"][key] = any(
            i.kind == effect.kind and i.topic_id == topic
            and (effect.kind != "cell" or i.measure == effect.measure)
            and i.person == effect.person and i.account == effect.account
            and i.effect * effect.direction > 0
            for i in found.insights
        )  # fmt: skip
    if effects:
        at_risk = {a.name for a in accounts_at_risk(prepared) if a.at_risk}
        result["risk_found"] = len(at_risk & set(simulated.at_risk_accounts))
        result["risk_planted"] = len(simulated.at_risk_accounts)
    print(f"seed {seed} {'planted' if effects else 'null'} done", file=sys.stderr)
    return result


if __name__ == "__main__":
    sys.exit(main())

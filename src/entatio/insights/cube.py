"""The engagement cube: who engages which topic, how often, against overall.

Everything is computed by DuckDB over the columnar copy. ``prepare`` derives,
once per question, the members in scope with every person and account field
as a column, and one row per (member, topic) with the visits in which the
member saw a slide of the topic inside the window; the cube and the
discovery scan then group that small table.

Topic 0 stands for every slide, whatever its topic.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations
from typing import Any

import duckdb

from entatio.insights.columnar import ColumnarCopy

ALL_TOPICS = 0
NONE_VALUE = "(none)"
PERSON_FIELDS = ("user_type", "title", "region")
ACCOUNT_FIELDS = ("segment", "industry", "account_type", "size_band", "region")
# Upper bounds of the size bands by number of employees; the last is open.
SIZE_BANDS = ((100, "1-99"), (1_000, "100-999"), (10_000, "1,000-9,999"))
LARGEST_BAND = "10,000+"
ATTRIBUTE_KEY = re.compile(r"^[\w .-]{1,60}$")
DAYS_PER_MONTH = 30
INTERNAL = "internal"


class CubeError(ValueError):
    """A question the cube cannot answer, with what to ask instead."""


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime

    @property
    def days(self) -> float:
        return max((self.until - self.since).total_seconds() / 86_400, 1.0)

    @classmethod
    def last_days(cls, until: datetime, days: int = 365) -> "Window":
        return cls(until - timedelta(days=days), until)


@dataclass
class Cell:
    """The sums behind one cell; the measures follow from them."""

    topic_id: int
    person: str | None
    account: str | None
    members: int
    accounts: int
    reached: int
    returned: int
    visits: float
    visits_sq: float
    dwell: float
    dwell_sq: float
    days: float

    @property
    def reach(self) -> float:
        return self.reached / self.members if self.members else 0.0

    @property
    def return_share(self) -> float:
        return self.returned / self.members if self.members else 0.0

    @property
    def frequency(self) -> float:
        """Visits with the topic per member per 30 days."""
        return self.visits / self.members * self.per_month if self.members else 0.0

    @property
    def frequency_of_reached(self) -> float:
        """Visits per 30 days of the members who came at least once."""
        return self.visits / self.reached * self.per_month if self.reached else 0.0

    @property
    def per_month(self) -> float:
        return DAYS_PER_MONTH / self.days

    @property
    def frequency_sd(self) -> float:
        if self.members < 2:
            return 0.0
        mean = self.visits / self.members
        variance = (self.visits_sq - self.members * mean**2) / (self.members - 1)
        return max(variance, 0.0) ** 0.5 * self.per_month

    @property
    def dwell_seconds(self) -> float:
        """Mean seconds on the topic's slides per member who saw one."""
        return self.dwell / self.reached if self.reached else 0.0

    def minus(self, part: "Cell") -> "Cell":
        """Everyone in this cell who is not in ``part``: the rest."""
        return Cell(
            self.topic_id,
            None,
            None,
            self.members - part.members,
            self.accounts,
            self.reached - part.reached,
            self.returned - part.returned,
            self.visits - part.visits,
            self.visits_sq - part.visits_sq,
            self.dwell - part.dwell,
            self.dwell_sq - part.dwell_sq,
            self.days,
        )

    def measures(self) -> dict[str, float]:
        return {
            "reach": round(self.reach, 4),
            "frequency": round(self.frequency, 4),
            "return": round(self.return_share, 4),
            "dwell_seconds": round(self.dwell_seconds, 1),
        }


@dataclass
class Prepared:
    """A DuckDB connection holding the scope's members and (member, topic) rows."""

    connection: duckdb.DuckDBPyConnection
    copy: ColumnarCopy
    window: Window
    attribute_keys: list[str] = field(default_factory=list)
    # Derived tables already made on the connection, by name.
    tables: set[str] = field(default_factory=set)

    @property
    def person_fields(self) -> list[str]:
        return [*PERSON_FIELDS, *(f"attribute:{k}" for k in self.attribute_keys)]

    def topics(self) -> dict[int, str]:
        rows = self.connection.execute("SELECT topic_id, label FROM topics").fetchall()
        return {ALL_TOPICS: "All slides", **dict(rows)}

    def check_fields(self, person: str | None, account: str | None) -> None:
        if person and person not in self.person_fields:
            raise CubeError(
                f"No person field {person!r}; use one of "
                f"{', '.join(self.person_fields)}."
            )
        if account and account not in ACCOUNT_FIELDS:
            raise CubeError(
                f"No account field {account!r}; use one of {', '.join(ACCOUNT_FIELDS)}."
            )


def prepare(
    copy: ColumnarCopy,
    window: Window | None = None,
    portal_ids: Sequence[int] | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> Prepared:
    """Members in scope with their fields, and their visits per topic."""
    connection = connection or copy.connect()
    window = window or Window.last_days(copy.written_at)
    keys = _attribute_keys(connection, portal_ids)
    _scope_members(connection, keys, portal_ids)
    _seen(connection, copy.seen_after_ms)
    _member_topics(connection, window)
    # Every grouping of the cube reads this one table, joined once.
    connection.execute(
        "CREATE OR REPLACE TEMP TABLE cube_rows AS "
        "SELECT * FROM member_topic JOIN scope_members USING (member_id)"
    )
    return Prepared(connection, copy, window, keys)


def _attribute_keys(
    connection: duckdb.DuckDBPyConnection, portal_ids: Sequence[int] | None = None
) -> list[str]:
    """Attribute names of the members in scope; other portals' stay unnamed."""
    where = ""
    if portal_ids is not None:
        where = f" WHERE {_in_portals('portal_id', portal_ids)}"
    rows = connection.execute(
        "SELECT DISTINCT unnest(json_keys(attributes)) AS k FROM members"
        f"{where} ORDER BY k"
    ).fetchall()
    return [k for (k,) in rows if ATTRIBUTE_KEY.match(k)]


def _in_portals(column: str, portal_ids: Sequence[int]) -> str:
    """SQL that keeps the rows of these portals; none at all for an empty list."""
    listed = ", ".join(str(int(p)) for p in portal_ids) or "NULL"
    return f"{column} IN ({listed})"


def _text(expression: str) -> str:
    return f"coalesce(nullif(trim({expression}), ''), '{NONE_VALUE}')"


def size_band_sql(column: str) -> str:
    cases = " ".join(
        f"WHEN {column} < {limit} THEN '{band}'" for limit, band in SIZE_BANDS
    )
    return (
        f"CASE WHEN {column} IS NULL THEN '{NONE_VALUE}' {cases} "
        f"ELSE '{LARGEST_BAND}' END"
    )


def size_band(employees: int | None) -> str:
    if employees is None:
        return NONE_VALUE
    for limit, band in SIZE_BANDS:
        if employees < limit:
            return band
    return LARGEST_BAND


def column_of(kind: str, name: str) -> str:
    """The quoted column of a person ("p") or account ("a") field."""
    return f'"{kind}:{name}"'


def _scope_members(
    connection: duckdb.DuckDBPyConnection,
    keys: list[str],
    portal_ids: Sequence[int] | None,
) -> None:
    person = [f"{_text('m.' + f)} AS {column_of('p', f)}" for f in PERSON_FIELDS]
    person += [
        f"{_text(_json_value(k))} AS {column_of('p', 'attribute:' + k)}" for k in keys
    ]
    account = [
        f"{_text('a.' + f)} AS {column_of('a', f)}"
        for f in ACCOUNT_FIELDS
        if f != "size_band"
    ]
    account.append(f"{size_band_sql('a.employees')} AS {column_of('a', 'size_band')}")
    # The audience is every member outside the internal portals.
    scope = (
        "WHERE m.portal_id IN "
        f"(SELECT portal_id FROM portals WHERE kind <> '{INTERNAL}')"
    )
    if portal_ids is not None:
        scope += f" AND {_in_portals('m.portal_id', portal_ids)}"
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE scope_members AS
        SELECT m.member_id, m.portal_id, m.account_id, {", ".join(person + account)}
        FROM members m LEFT JOIN accounts a USING (account_id)
        {scope}
        """
    )


def _json_value(key: str) -> str:
    path = '$."' + key.replace("'", "''").replace('"', "") + '"'
    return f"json_extract_string(m.attributes, '{path}')"


def _seen(connection: duckdb.DuckDBPyConnection, seen_after_ms: int) -> None:
    """Each (member, slide, visit) with enough time on screen, at any time.

    Not narrowed to the scope or the window: the flow, the trends and the
    sales questions read other members and other periods from it.
    """
    connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE seen AS
        SELECT member_id, slide_id, visit_id, min("at") AS seen_at,
               sum(duration_ms) AS dwell_ms
        FROM events
        GROUP BY member_id, slide_id, visit_id
        HAVING sum(duration_ms) >= ?
        """,
        [seen_after_ms],
    )


def _member_topics(connection: duckdb.DuckDBPyConnection, window: Window) -> None:
    """Each member in scope with access to a topic, and their visits to it."""
    connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE member_topic AS
        WITH in_window AS (
            SELECT * FROM seen
            WHERE seen_at >= $since AND seen_at < $until
              AND member_id IN (SELECT member_id FROM scope_members)
        ), access AS (
            SELECT DISTINCT r.member_id, st.topic_id
            FROM records r JOIN slide_topics st USING (slide_id)
            WHERE r.member_id IN (SELECT member_id FROM scope_members)
            UNION
            SELECT DISTINCT member_id, {ALL_TOPICS} FROM records
            WHERE member_id IN (SELECT member_id FROM scope_members)
        ), viewed AS (
            SELECT s.member_id, st.topic_id, count(DISTINCT s.visit_id) AS visits,
                   sum(s.dwell_ms) AS dwell_ms, min(s.seen_at) AS first_seen
            FROM in_window s JOIN slide_topics st USING (slide_id)
            GROUP BY s.member_id, st.topic_id
            UNION ALL
            SELECT member_id, {ALL_TOPICS}, count(DISTINCT visit_id), sum(dwell_ms),
                   min(seen_at)
            FROM in_window GROUP BY member_id
        )
        SELECT member_id, topic_id, coalesce(v.visits, 0) AS visits,
               coalesce(v.dwell_ms, 0) AS dwell_ms, v.first_seen
        FROM access a FULL JOIN viewed v USING (member_id, topic_id)
        """,
        {"since": window.since, "until": window.until},
    )


def cells(
    prepared: Prepared,
    person: str | None,
    account: str | None,
    topic_id: int | None = None,
) -> list[Cell]:
    """Every cell of the cube for these fields, with every marginal."""
    prepared.check_fields(person, account)
    dimensions = [
        column_of(kind, name)
        for kind, name in (("p", person), ("a", account))
        if name is not None
    ]
    sets = [
        "(" + ", ".join(["topic_id", *chosen]) + ")"
        for size in range(len(dimensions) + 1)
        for chosen in combinations(dimensions, size)
    ]
    chosen_columns = [
        f"CASE WHEN GROUPING({column_of(kind, name)}) = 0 "
        f"THEN {column_of(kind, name)} END"
        if name
        else "NULL"
        for kind, name in (("p", person), ("a", account))
    ]
    where = "" if topic_id is None else f"WHERE topic_id IN ({int(topic_id)}, 0)"
    rows = prepared.connection.execute(
        f"""
        SELECT topic_id, {", ".join(chosen_columns)},
               count(*), count(DISTINCT account_id),
               count(*) FILTER (WHERE visits >= 1),
               count(*) FILTER (WHERE visits >= 2),
               sum(visits)::DOUBLE, sum(visits * visits)::DOUBLE,
               coalesce(sum(dwell_ms / 1000.0) FILTER (WHERE visits >= 1), 0),
               coalesce(sum((dwell_ms / 1000.0) ** 2) FILTER (WHERE visits >= 1), 0)
        FROM cube_rows
        {where}
        GROUP BY GROUPING SETS ({", ".join(sets)})
        """
    ).fetchall()
    return [_cell_of(row, prepared.window.days) for row in rows]


def _cell_of(row: tuple[Any, ...], days: float) -> Cell:
    """A cell from one row of the grouping query, in its column order."""
    (
        topic_id, person, account, members, accounts, reached, returned,
        visits, visits_sq, dwell, dwell_sq,
    ) = row  # fmt: skip
    return Cell(
        topic_id, person, account, members, accounts, reached, returned,
        visits, visits_sq, dwell, dwell_sq, days,
    )  # fmt: skip


@dataclass
class CubeRow:
    cell: Cell
    baseline: Cell

    def as_dict(self, topics: dict[int, str]) -> dict[str, Any]:
        measures = self.cell.measures()
        overall = self.baseline.measures()
        return {
            "topic": topics.get(self.cell.topic_id, str(self.cell.topic_id)),
            "topic_id": self.cell.topic_id,
            "person": self.cell.person,
            "account": self.cell.account,
            "members": self.cell.members,
            "accounts": self.cell.accounts,
            **measures,
            **{f"overall_{k}": v for k, v in overall.items()},
        }


@dataclass
class Cube:
    person_field: str | None
    account_field: str | None
    window: Window
    topics: dict[int, str]
    rows: list[CubeRow]

    def as_dict(self) -> dict[str, Any]:
        return {
            "person_field": self.person_field,
            "account_field": self.account_field,
            "since": self.window.since.isoformat(),
            "until": self.window.until.isoformat(),
            "rows": [row.as_dict(self.topics) for row in self.rows],
        }


CUBE_COLUMNS = [
    "topic", "person", "account", "members", "accounts", "reach", "overall_reach",
    "frequency", "overall_frequency", "return", "overall_return", "dwell_seconds",
    "overall_dwell_seconds",
]  # fmt: skip


def engagement_cube(
    prepared: Prepared,
    person: str | None,
    account: str | None,
    topic_id: int | None = None,
) -> Cube:
    """Each (person value, account value, topic) against the topic's overall."""
    found = cells(prepared, person, account, topic_id)
    overall = {c.topic_id: c for c in found if c.person is None and c.account is None}
    rows = [
        CubeRow(c, overall[c.topic_id])
        for c in found
        if (c.person is not None or not person)
        and (c.account is not None or not account)
        and (topic_id is None or c.topic_id == topic_id)
    ]
    rows.sort(
        key=lambda r: (r.cell.topic_id, r.cell.person or "", r.cell.account or "")
    )
    return Cube(person, account, prepared.window, prepared.topics(), rows)

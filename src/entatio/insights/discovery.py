"""Discovery: scan every cell of the cube, every trend and every sales question.

Each candidate is tested against everyone else with access to the same topic
(Miettinen and Nurminen's score test for reach and return; Mann-Whitney's U
on the visits of each member who came, for frequency, since visit counts are
far from normal and whether people come at all is the reach's question), the
weekly visits of each topic against the weeks before, and each sales
comparison.

Every test is against the smallest effect worth reporting (a difference of
10 points in a share, a ratio of 1.25 in visits, a tenth of a usual
quarter's sales), not against no effect at all: a finding must be shown to
be large, not only shown to be other than zero with a large estimate. In a
world without effects a plain test of "no effect" at q = 0.05 reports
something in about 5% of worlds by design (under the complete null the
Benjamini-Hochberg rate is the chance of any false finding); testing the
minimum effect keeps that chance well below, and costs little recall since a
finding had to clear the minimum anyway.

The p-values of all candidates that have enough people and accounts are
corrected together with a weighted Benjamini-Hochberg at q = 0.05, each
family (cells, trends, sales) holding the same total weight, so that a few
dozen sales questions are not drowned by thousands of cells. A cell of two
fields is reported only when it says more than each of its single-field
parents."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    test_proportions_2indep,
)

from entatio.insights.cube import (
    ACCOUNT_FIELDS,
    ALL_TOPICS,
    DAYS_PER_MONTH,
    Cell,
    Prepared,
    cells,
    column_of,
)
from entatio.insights.sales import compare_sales
from entatio.insights.trends import WINDOWS, trend, weekly_visits

Q = 0.05
MIN_MEMBERS = 20
MIN_ACCOUNTS = 5
MIN_SHARE_DIFFERENCE = 0.10
MIN_RATE_RATIO = 1.25
MIN_SALES_SHARE = 0.10
EVIDENCE_ROWS = 200
BOOTSTRAP_RESAMPLES = 2000
CONFIDENCE = 0.95


@dataclass
class Candidate:
    kind: str
    measure: str
    topic_id: int
    person: tuple[str, str] | None
    account: tuple[str, str] | None
    value: float
    baseline: float
    effect: float
    low: float
    high: float
    p_value: float
    counts: dict[str, int]
    large_enough: bool
    evidence: list[dict[str, Any]] = field(default_factory=list)
    q_value: float = 1.0
    sentence: str = ""

    @property
    def cell_key(self) -> tuple:
        return (self.kind, self.measure, self.topic_id)

    def as_dict(self, topics: dict[int, str]) -> dict[str, Any]:
        dimensions: dict[str, str] = {"topic": topics.get(self.topic_id, "")}
        for pair in (self.person, self.account):
            if pair:
                dimensions[_field_key(pair, self.account is pair)] = pair[1]
        return {
            "kind": self.kind,
            "dimensions": dimensions,
            "measure": self.measure,
            "value": _round(self.value),
            "baseline": _round(self.baseline),
            "effect": _round(self.effect),
            "interval": [_round(self.low), _round(self.high)],
            "p_value": self.p_value,
            "q_value": self.q_value,
            "counts": self.counts,
            "sentence": self.sentence,
            "evidence": self.evidence,
        }


def _field_key(pair: tuple[str, str], is_account: bool) -> str:
    return f"account_{pair[0]}" if is_account else pair[0]


def _round(value: float) -> float:
    return round(float(value), 4)


@dataclass
class Discovery:
    tested: int
    insights: list[Candidate]
    topics: dict[int, str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "tested": self.tested,
            "q": Q,
            "insights": [i.as_dict(self.topics) for i in self.insights],
        }


def discover(prepared: Prepared) -> Discovery:
    """Every candidate tested, corrected, filtered and put into words."""
    topics = prepared.topics()
    member_visits = MemberVisits(prepared)
    candidates = [
        *_cell_candidates(prepared, member_visits),
        *_trend_candidates(prepared),
        *_sales_candidates(prepared, topics),
    ]
    if not candidates:
        return Discovery(0, [], topics)

    for candidate, q_value in zip(candidates, q_values_of(candidates), strict=True):
        candidate.q_value = float(q_value)
    found = [c for c in candidates if c.q_value <= Q and c.large_enough]
    found = _without_echoes(found)

    for insight in found:
        if insight.kind == "cell" and insight.measure == "frequency":
            insight.low, insight.high = _bootstrap_interval(member_visits, insight)
        elif insight.kind == "cell":
            insight.low, insight.high = _share_interval(insight)
        insight.sentence = sentence_of(insight, topics)
        if not insight.evidence:
            insight.evidence = cell_evidence(prepared, insight)
    found.sort(key=lambda c: (c.q_value, -abs(c.effect)))
    return Discovery(len(candidates), found, topics)


def q_values_of(candidates: list[Candidate]) -> np.ndarray:
    """Weighted Benjamini-Hochberg: every family weighs the same in total."""
    families = np.array([c.kind for c in candidates])
    p_values = np.array([c.p_value for c in candidates])
    kinds, sizes = np.unique(families, return_counts=True)
    size_of = dict(zip(kinds, sizes, strict=True))
    weights = np.array([len(candidates) / (len(kinds) * size_of[f]) for f in families])
    _, q_values, _, _ = multipletests(np.minimum(p_values / weights, 1.0), Q, "fdr_bh")
    return q_values


class MemberVisits:
    """Each member's visits per 30 days to each topic, with their fields."""

    def __init__(self, prepared: Prepared) -> None:
        self.frame = prepared.connection.execute(
            "SELECT mt.topic_id, mt.visits, sm.* EXCLUDE (member_id) "
            "FROM member_topic mt JOIN scope_members sm USING (member_id)"
        ).df()
        self.per_month = DAYS_PER_MONTH / prepared.window.days
        self.columns: dict[tuple[int, str], np.ndarray] = {}
        self.coded: dict[tuple[int, str], tuple[np.ndarray, dict[str, int]]] = {}
        self.topics = {
            t: rows.reset_index(drop=True) for t, rows in self.frame.groupby("topic_id")
        }

    def split(self, c: Candidate) -> tuple[np.ndarray, np.ndarray]:
        rows = self.topics[c.topic_id]
        inside = np.ones(len(rows), dtype=bool)
        for kind, pair in (("p", c.person), ("a", c.account)):
            if pair:
                codes, names = self.codes(c.topic_id, f"{kind}:{pair[0]}")
                inside &= codes == names.get(pair[1], -1)
        visits = self.values(c.topic_id, "visits").astype(float) * self.per_month
        came = visits > 0
        return visits[inside & came], visits[~inside & came]

    def codes(self, topic_id: int, column: str) -> tuple[np.ndarray, dict[str, int]]:
        """The column as integer codes, which compare far faster than text."""
        key = (topic_id, column)
        if key not in self.coded:
            codes, names = pd.factorize(self.topics[topic_id][column])
            self.coded[key] = (codes, {name: n for n, name in enumerate(names)})
        return self.coded[key]

    def values(self, topic_id: int, column: str) -> np.ndarray:
        key = (topic_id, column)
        if key not in self.columns:
            self.columns[key] = self.topics[topic_id][column].to_numpy()
        return self.columns[key]


def _bootstrap_interval(
    member_visits: MemberVisits, c: Candidate
) -> tuple[float, float]:
    """Interval of the difference in mean visits, by resampling members."""
    inside, outside = member_visits.split(c)
    result = stats.bootstrap(
        (inside, outside),
        lambda a, b, axis: a.mean(axis=axis) - b.mean(axis=axis),
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=CONFIDENCE,
        method="percentile",
        rng=np.random.default_rng(0),
    )
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def _cell_candidates(
    prepared: Prepared, member_visits: MemberVisits
) -> Iterator[Candidate]:
    seen: dict[tuple, Cell] = {}
    for person in prepared.person_fields:
        for account in ACCOUNT_FIELDS:
            for cell in cells(prepared, person, account):
                key = (
                    cell.topic_id,
                    (person, cell.person) if cell.person is not None else None,
                    (account, cell.account) if cell.account is not None else None,
                )
                seen.setdefault(key, cell)

    overall = {k[0]: c for k, c in seen.items() if k[1] is None and k[2] is None}
    for (topic_id, person, account), cell in seen.items():
        if person is None and account is None:
            continue
        rest = overall[topic_id].minus(cell)
        if min(cell.members, rest.members) < MIN_MEMBERS:
            continue
        if cell.accounts < MIN_ACCOUNTS:
            continue
        for measure in ("reach", "return", "frequency"):
            found = _test_cell(measure, cell, rest, topic_id, person, account)
            if found is not None and measure == "frequency":
                found.p_value = _rank_test(*member_visits.split(found))
            if found is not None:
                yield found


def _test_cell(
    measure: str,
    cell: Cell,
    rest: Cell,
    topic_id: int,
    person: tuple[str, str] | None,
    account: tuple[str, str] | None,
) -> Candidate | None:
    counts = {
        "members": cell.members,
        "accounts": cell.accounts,
        "other_members": rest.members,
        "came": cell.reached,
        "others_came": rest.reached,
    }
    if measure == "frequency":
        tested = _compare_rates(cell, rest)
    else:
        hits = (cell.reached, rest.reached)
        if measure == "return":
            hits = (cell.returned, rest.returned)
        tested = _compare_shares(hits[0], cell.members, hits[1], rest.members)
    if tested is None:
        return None
    value, baseline, low, high, p_value, large = tested
    return Candidate(
        "cell", measure, topic_id, person, account, value, baseline,
        value - baseline, low, high, p_value, counts, large,
    )  # fmt: skip


def _compare_shares(
    k1: int, n1: int, k2: int, n2: int
) -> tuple[float, float, float, float, float, bool] | None:
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    if table.sum(axis=0).min() == 0:
        return None  # everyone or no one: nothing to compare
    difference = k1 / n1 - k2 / n2
    large = abs(difference) >= MIN_SHARE_DIFFERENCE
    p_value = _share_beyond_minimum(k1, n1, k2, n2) if large else 1.0
    return k1 / n1, k2 / n2, difference, difference, p_value, large


def _share_beyond_minimum(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p against a difference of shares no larger than the minimum.

    Miettinen and Nurminen's score test, one-sided towards the observed
    difference and doubled. It weighs the variance at the null, not at the
    observed shares: Wald-type tests such as Agresti and Caffo's are more
    powerful for a share near 1, but called 1 of 21 members against 135 of
    270 significant at p = 2e-6 in a world without effects (score: 0.001).
    """
    upward = k1 / n1 >= k2 / n2
    with np.errstate(divide="ignore", invalid="ignore"):
        result = test_proportions_2indep(
            k1,
            n1,
            k2,
            n2,
            value=MIN_SHARE_DIFFERENCE if upward else -MIN_SHARE_DIFFERENCE,
            compare="diff",
            alternative="larger" if upward else "smaller",
            method="score",
        )
    return _two_sided(result.pvalue)


def _two_sided(one_sided: float) -> float:
    return float(min(1.0, 2 * one_sided))


def _share_interval(c: Candidate) -> tuple[float, float]:
    n1, n2 = c.counts["members"], c.counts["other_members"]
    low, high = confint_proportions_2indep(
        round(c.value * n1), n1, round(c.baseline * n2), n2, compare="diff"
    )
    return float(low), float(high)


def _compare_rates(
    cell: Cell, rest: Cell
) -> tuple[float, float, float, float, float, bool] | None:
    """Mean visits per member per 30 days; the test and interval come later.

    The rank test needs each member's visits, so it runs only for cells
    whose difference is large enough to report; the others keep p = 1.
    """
    if min(cell.reached, rest.reached) < 2:
        return None
    m1, m2 = cell.frequency_of_reached, rest.frequency_of_reached
    ratio = m1 / m2 if m2 > 0 else np.inf
    large = ratio >= MIN_RATE_RATIO or ratio <= 1 / MIN_RATE_RATIO
    return m1, m2, m1 - m2, m1 - m2, 1.0, bool(large)


def _rank_test(inside: np.ndarray, outside: np.ndarray) -> float:
    """Two-sided p against visits no more than the minimum ratio apart.

    Mann-Whitney's U with the other members' visits scaled by the minimum
    ratio, one-sided towards the observed difference and doubled.
    """
    if inside.mean() >= outside.mean():
        result = stats.mannwhitneyu(
            inside, outside * MIN_RATE_RATIO, alternative="greater", method="asymptotic"
        )
    else:
        result = stats.mannwhitneyu(
            inside * MIN_RATE_RATIO, outside, alternative="less", method="asymptotic"
        )
    return _two_sided(result.pvalue)


def _trend_candidates(prepared: Prepared) -> Iterator[Candidate]:
    for topic_id, weekly in weekly_visits(prepared, by="topic").items():
        for weeks in WINDOWS:
            fitted = trend(weekly, weeks)
            if fitted is None:
                continue
            large = fitted.ratio >= MIN_RATE_RATIO or fitted.ratio <= 1 / MIN_RATE_RATIO
            before_weeks = min(weeks, len(weekly) - weeks)
            yield Candidate(
                kind="trend",
                measure=f"visits_{weeks}w",
                topic_id=topic_id,
                person=None,
                account=None,
                value=fitted.recent_per_week,
                baseline=fitted.before_per_week,
                effect=fitted.change,
                low=fitted.low - 1,
                high=fitted.high - 1,
                p_value=fitted.p_beyond(MIN_RATE_RATIO),
                counts={"weeks": weeks, "weeks_before": before_weeks},
                large_enough=bool(large),
                evidence=[
                    {"weeks_ago": len(weekly) - 1 - i, "visits": int(v)}
                    for i, v in enumerate(weekly[-weeks - before_weeks :])
                ][::-1],
            )


def _sales_candidates(
    prepared: Prepared, topics: dict[int, str]
) -> Iterator[Candidate]:
    user_types = [
        value
        for (value,) in prepared.connection.execute(
            f"SELECT DISTINCT {column_of('p', 'user_type')} FROM scope_members "
            "WHERE account_id IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    for topic_id in topics:
        if topic_id == ALL_TOPICS:
            continue
        for user_type in user_types:
            found = compare_sales(
                prepared, topic_id, user_type, minimum=MIN_SALES_SHARE
            )
            if found is None:
                continue
            yield Candidate(
                kind="sales",
                measure="won_amount_next_quarter",
                topic_id=topic_id,
                person=("user_type", user_type),
                account=None,
                value=found.engaged_change,
                baseline=found.other_change,
                effect=found.difference,
                low=found.low,
                high=found.high,
                p_value=found.p_value,
                counts={
                    "accounts": found.engaged_accounts,
                    "other_accounts": found.other_accounts,
                },
                large_enough=abs(found.difference) >= MIN_SALES_SHARE,
                evidence=_sales_evidence(found.rows),
            )


def _sales_evidence(rows: Any) -> list[dict[str, Any]]:
    return [
        {
            "account_id": int(r.account_id),
            "stratum": r.stratum,
            "quarters_ago": int(r.ago),
            "engaged": bool(r.engaged),
            "won": round(float(r.sales), 2),
            "won_next_quarter": round(float(r.next_sales), 2),
        }
        for r in rows.head(EVIDENCE_ROWS).itertuples()
    ]


def _without_echoes(found: list[Candidate]) -> list[Candidate]:
    """Drop two-field cells that add nothing to a single-field finding."""
    singles = {
        (c.cell_key, c.person or c.account): c
        for c in found
        if c.kind == "cell" and (c.person is None) != (c.account is None)
    }
    kept = []
    for c in found:
        if c.kind == "cell" and c.person and c.account:
            margin = MIN_SHARE_DIFFERENCE if c.measure != "frequency" else 0.0
            parents = [singles.get((c.cell_key, p)) for p in (c.person, c.account)]
            if any(
                p is not None
                and np.sign(p.effect) == np.sign(c.effect)
                and abs(c.effect) < abs(p.effect) * _echo_factor(c) + margin
                for p in parents
            ):
                continue
        kept.append(c)
    return kept


def _echo_factor(candidate: Candidate) -> float:
    return MIN_RATE_RATIO if candidate.measure == "frequency" else 1.0


def cell_evidence(prepared: Prepared, insight: Candidate) -> list[dict[str, Any]]:
    """The members of the cell: their account and their visits to the topic."""
    where = ["mt.topic_id = $topic"]
    params: dict[str, Any] = {"topic": insight.topic_id}
    for kind, pair in (("p", insight.person), ("a", insight.account)):
        if pair:
            where.append(f"{column_of(kind, pair[0])} = ${kind}")
            params[kind] = pair[1]
    rows = prepared.connection.execute(
        f"""
        SELECT mt.member_id, a.name, mt.visits, round(mt.dwell_ms / 1000.0, 1)
        FROM member_topic mt JOIN scope_members sm USING (member_id)
             LEFT JOIN accounts a ON a.account_id = sm.account_id
        WHERE {" AND ".join(where)}
        ORDER BY mt.visits DESC, mt.member_id LIMIT {EVIDENCE_ROWS}
        """,
        params,
    ).fetchall()
    return [
        {"member_id": m, "account": a, "visits": v, "dwell_seconds": float(d)}
        for m, a, v, d in rows
    ]


# Words for who a cell holds, by field.
PERSON_WORDS = {
    "user_type": "members of type {}",
    "title": "members titled {}",
    "region": "members in {}",
}
ACCOUNT_WORDS = {
    "segment": "at {} accounts",
    "industry": "at accounts in {}",
    "account_type": "at {} accounts",
    "size_band": "at accounts of {} employees",
    "region": "at accounts in {}",
}


def who_of(person: tuple[str, str] | None, account: tuple[str, str] | None) -> str:
    parts = []
    if person:
        name, value = person
        if name.startswith("attribute:"):
            parts.append(f"members with {name.split(':', 1)[1]} {value}")
        else:
            parts.append(PERSON_WORDS[name].format(value))
    else:
        parts.append("members")
    if account:
        parts.append(ACCOUNT_WORDS[account[0]].format(account[1]))
    return " ".join(parts)


def topic_words(topic_id: int, topics: dict[int, str]) -> str:
    if topic_id == ALL_TOPICS:
        return "any slide"
    return f"the topic “{topics.get(topic_id, topic_id)}”"


def _percent(share: float) -> str:
    return f"{share * 100:.0f}%"


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence_of(c: Candidate, topics: dict[int, str]) -> str:
    """The finding in plain words: what goes with what, never why."""
    topic = topic_words(c.topic_id, topics)
    who = who_of(c.person, c.account)
    if c.kind == "trend":
        direction = "up" if c.effect > 0 else "down"
        return (
            f"Visits to {topic} averaged {c.value:.1f} a week over the last "
            f"{c.counts['weeks']} weeks, {direction} {abs(c.effect) * 100:.0f}% on "
            f"the {c.counts['weeks_before']} weeks before (95% interval "
            f"{c.low * 100:+.0f}% to {c.high * 100:+.0f}%)."
        )
    if c.kind == "sales":
        more = "more" if c.effect > 0 else "less"
        return (
            f"Accounts whose {who} saw {topic} in a quarter closed "
            f"{_percent(abs(c.effect))} of a usual quarter's won sales {more} in "
            "the following quarter, on average, than comparable accounts of the "
            "same segment and size band that did not (95% interval "
            f"{c.low * 100:+.0f} to {c.high * 100:+.0f} points; "
            f"{c.counts['accounts']} accounts against {c.counts['other_accounts']})."
            " The two went together; this does not show why."
        )
    counted = (
        f"({c.counts['members']} members at {c.counts['accounts']} accounts; "
        f"other members: {c.counts['other_members']})"
    )
    if c.measure == "frequency":
        return (
            f"{_first_upper(who)} who came to {topic} came {c.value:.2f} times per "
            f"30 days on average, against {c.baseline:.2f} for the other members "
            f"who came (difference {c.effect:+.2f}, 95% interval {c.low:+.2f} to "
            f"{c.high:+.2f}; {c.counts['came']} members against "
            f"{c.counts['others_came']})."
        )
    action = (
        "saw at least one slide of"
        if c.measure == "reach"
        else ("came back in a second visit to")
    )
    return (
        f"{_percent(c.value)} of {who} with access {action} {topic}, against "
        f"{_percent(c.baseline)} of the other members with access (difference "
        f"{c.effect * 100:+.0f} points, 95% interval {c.low * 100:+.0f} to "
        f"{c.high * 100:+.0f}) {counted}."
    )

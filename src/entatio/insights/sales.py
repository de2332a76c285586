"""Engagement next to sales, and how sales moved after a topic was engaged.

For a topic and a type of person, each account and quarter is "engaged"
when a member of that type at the account saw a slide of the topic in that
quarter. The change in closed-won sales from that quarter to the next is
compared with comparable accounts (same segment and size band) that did not
engage in the same quarter: the following quarter's sales in a least-squares
model with segment-and-band
and quarter terms and the quarter's own sales as a covariate. Its interval
comes from errors clustered by account; its p-value from permuting whole
accounts' engagement histories among accounts of the same segment and size
band, because with a few dozen accounts and skewed deal sizes the clustered
errors alone call chance findings far too often. Sales are measured in
units of a usual quarter of the segment and size band (their mean quarterly
closed-won amount). This measures how the two go together; it cannot tell
why.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm

from entatio.insights.cube import Prepared, column_of

QUARTER = timedelta(days=91)
MAX_QUARTERS = 5
MIN_ACCOUNTS = 5
PERMUTATIONS = 4999
PERMUTATION_BATCH = 250
# Besag and Clifford's sequential stop: once this many shuffles match the
# observed slope the p-value is plainly large, and more shuffles add nothing.
ENOUGH_EXCEEDANCES = 25


@dataclass
class SalesComparison:
    topic_id: int
    user_type: str
    engaged_accounts: int
    other_accounts: int
    engaged_change: float
    other_change: float
    difference: float
    low: float
    high: float
    p_value: float
    quarterly_sales: float
    rows: pd.DataFrame

    def as_dict(self) -> dict[str, Any]:
        return {
            "topic_id": self.topic_id,
            "user_type": self.user_type,
            "engaged_accounts": self.engaged_accounts,
            "other_accounts": self.other_accounts,
            "engaged_change": round(self.engaged_change, 4),
            "other_change": round(self.other_change, 4),
            "difference": round(self.difference, 4),
            "interval": [round(self.low, 4), round(self.high, 4)],
            "p_value": self.p_value,
            "mean_quarterly_sales": round(self.quarterly_sales, 2),
        }


def quarters_of_history(prepared: Prepared) -> int:
    (first,) = prepared.connection.execute(
        "SELECT least((SELECT min(seen_at) FROM seen), "
        "(SELECT min(close_date)::TIMESTAMPTZ FROM sales))"
    ).fetchone() or (None,)
    if first is None:
        return 0
    return min(MAX_QUARTERS, int((prepared.window.until - first) / QUARTER))


def account_quarters(prepared: Prepared, topic_id: int, user_type: str) -> pd.DataFrame:
    """One row per account and quarter: engaged, sales then and the next quarter."""
    quarters = quarters_of_history(prepared)
    if quarters < 2:
        return pd.DataFrame()
    _quarter_tables(prepared)
    frame = prepared.connection.execute(
        """
        WITH accounts_in_scope AS (
            SELECT DISTINCT account_id, "a:segment" || ' / ' || "a:size_band" AS stratum
            FROM scope_members WHERE account_id IS NOT NULL
        ), quarters AS (SELECT range AS ago FROM range($quarters)),
        engaged AS (
            SELECT account_id, ago FROM engaged_quarters
            WHERE topic_id = $topic AND user_type = $user_type
        )
        SELECT a.account_id, a.stratum, q.ago, e.account_id IS NOT NULL AS engaged,
               coalesce(w.amount, 0) AS sales
        FROM accounts_in_scope a CROSS JOIN quarters q
             LEFT JOIN engaged e ON e.account_id = a.account_id AND e.ago = q.ago
             LEFT JOIN won_quarters w
                  ON w.account_id = a.account_id AND w.ago = q.ago
        ORDER BY a.account_id, q.ago DESC
        """,
        {"quarters": quarters, "topic": topic_id, "user_type": user_type},
    ).df()
    # Quarter "ago" 1 is followed by quarter 0, the most recent one.
    frame["next_sales"] = frame.groupby("account_id")["sales"].shift(-1)
    frame = frame.dropna(subset=["next_sales"])
    # Sales in units of a usual quarter of the account's segment and size
    # band, so that large accounts' deals do not drown the small ones'.
    usual = frame.groupby("stratum")["sales"].transform("mean")
    frame = frame[usual > 0].copy()
    frame["current"] = frame["sales"] / usual[usual > 0]
    frame["following"] = frame["next_sales"] / usual[usual > 0]
    frame["change"] = frame["following"] - frame["current"]
    return frame


def _quarter_tables(prepared: Prepared) -> None:
    """Engaged (account, type, topic, quarter) and won sales per quarter, once.

    Every sales question reads these two small tables instead of the events.
    """
    if "won_quarters" in prepared.tables:
        return
    params = {"until": prepared.window.until, "quarter": QUARTER.total_seconds()}
    prepared.connection.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE engaged_quarters AS
        SELECT DISTINCT sm.account_id, {column_of("p", "user_type")} AS user_type,
               st.topic_id, floor(epoch($until - s.seen_at) / $quarter)::INT AS ago
        FROM seen s JOIN slide_topics st USING (slide_id)
             JOIN scope_members sm USING (member_id)
        WHERE s.seen_at < $until AND sm.account_id IS NOT NULL
        """,
        params,
    )
    prepared.connection.execute(
        """
        CREATE OR REPLACE TEMP TABLE won_quarters AS
        SELECT account_id,
               floor(epoch($until - close_date::TIMESTAMPTZ) / $quarter)::INT
                   AS ago,
               sum(amount) AS amount
        FROM sales WHERE is_won AND close_date::TIMESTAMPTZ < $until
        GROUP BY ALL
        """,
        params,
    )
    prepared.tables.add("won_quarters")


def compare_sales(
    prepared: Prepared, topic_id: int, user_type: str, minimum: float = 0.0
) -> SalesComparison | None:
    """Engaged accounts' change in sales against comparable ones that did not.

    With a ``minimum``, the p-value tests a difference no larger than that
    (in units of a usual quarter) instead of no difference at all.
    """
    frame = account_quarters(prepared, topic_id, user_type)
    if frame.empty:
        return None
    # Only segment-and-band groups holding both kinds of account compare.
    mixed = frame.groupby(["stratum", "ago"])["engaged"].transform("nunique") == 2
    frame = frame[mixed]
    engaged_accounts = frame.loc[frame.engaged, "account_id"].nunique()
    other_accounts = frame.loc[~frame.engaged, "account_id"].nunique()
    if min(engaged_accounts, other_accounts) < MIN_ACCOUNTS:
        return None

    fit = _fit(frame)
    low, high = fit.conf_int().loc["engaged"]
    return SalesComparison(
        topic_id=topic_id,
        user_type=user_type,
        engaged_accounts=int(engaged_accounts),
        other_accounts=int(other_accounts),
        engaged_change=float(frame.loc[frame.engaged, "change"].mean()),
        other_change=float(frame.loc[~frame.engaged, "change"].mean()),
        difference=float(fit.params["engaged"]),
        low=float(low),
        high=float(high),
        p_value=permutation_p_value(frame, minimum=minimum),
        quarterly_sales=float(frame["sales"].mean()),
        rows=frame,
    )


def _controls(frame: pd.DataFrame) -> np.ndarray:
    terms = pd.get_dummies(
        frame[["stratum", "ago"]].astype(str), drop_first=True, dtype=float
    )
    design = pd.concat([frame[["current"]].astype(float), terms], axis=1)
    return sm.add_constant(design, has_constant="add").to_numpy()


def permutation_p_value(
    frame: pd.DataFrame, seed: int = 0, minimum: float = 0.0
) -> float:
    """Two-sided p of the engaged coefficient, accounts shuffled within groups.

    By Frisch-Waugh-Lovell the coefficient is the slope of the outcome's
    residual on the engagement's residual, both after the controls; each
    permutation only re-residualizes the shuffled engagement. With a
    ``minimum`` the null is a coefficient of that size in the observed
    direction: it is taken off the outcome, the test is one-sided towards
    the observed sign, and its p doubled.
    """
    basis, _ = np.linalg.qr(_controls(frame))
    engaged = frame["engaged"].to_numpy(dtype=float)
    outcome = frame["following"].to_numpy(dtype=float)
    outcome = outcome - basis @ (basis.T @ outcome)

    accounts, account_index = np.unique(frame["account_id"], return_inverse=True)
    quarters, quarter_index = np.unique(frame["ago"], return_inverse=True)
    row_of = np.full((len(accounts), len(quarters)), -1)
    row_of[account_index, quarter_index] = np.arange(len(frame))
    stratum_of = frame.groupby("account_id")["stratum"].first().loc[accounts]

    def slopes(rows: np.ndarray) -> np.ndarray:
        shuffled = engaged[rows].T
        shuffled = shuffled - basis @ (basis.T @ shuffled)
        return (shuffled * outcome[:, None]).sum(0) / (shuffled**2).sum(0)

    observed = slopes(np.arange(len(frame))[None, :])[0]
    sign = 0.0
    if minimum > 0:
        # The outcome less the minimum effect of the observed engagement.
        sign = 1.0 if observed >= 0 else -1.0
        shifted = engaged - basis @ (basis.T @ engaged)
        outcome = outcome - sign * minimum * shifted
        observed = slopes(np.arange(len(frame))[None, :])[0]

    def beyond(found: np.ndarray) -> int:
        if sign:
            return int((sign * found >= sign * observed - 1e-12).sum())
        return int((np.abs(found) >= abs(observed) - 1e-12).sum())

    rng = np.random.default_rng(seed)
    exceed = done = 0
    for start in range(0, PERMUTATIONS, PERMUTATION_BATCH):
        if exceed >= ENOUGH_EXCEEDANCES:
            return _sided(exceed / done, sign)
        batch = min(PERMUTATION_BATCH, PERMUTATIONS - start)
        mapping = np.tile(np.arange(len(accounts)), (batch, 1))
        for members in _groups(stratum_of.to_numpy()):
            mapping[:, members] = rng.permuted(np.tile(members, (batch, 1)), axis=1)
        rows = row_of[mapping[:, account_index], quarter_index]
        exceed += beyond(slopes(rows))
        done += batch
    return _sided((exceed + 1) / (PERMUTATIONS + 1), sign)


def _sided(p_value: float, sign: float) -> float:
    """A one-sided p (when a sign was taken) doubled into a two-sided one."""
    return min(1.0, 2 * p_value) if sign else p_value


def _groups(labels: np.ndarray) -> list[np.ndarray]:
    return [np.flatnonzero(labels == label) for label in np.unique(labels)]


def _fit(frame: pd.DataFrame) -> Any:
    """Following sales on engagement, current sales, group and quarter terms."""
    terms = pd.get_dummies(
        frame[["stratum", "ago"]].astype(str), drop_first=True, dtype=float
    )
    design = pd.concat([frame[["engaged", "current"]].astype(float), terms], axis=1)
    design = sm.add_constant(design, has_constant="add")
    model = sm.OLS(frame["following"].astype(float), design)
    return model.fit(
        method="qr",
        cov_type="cluster",
        cov_kwds={"groups": frame["account_id"].to_numpy()},
    )


def account_months(prepared: Prepared) -> pd.DataFrame:
    """Per account and month: visits, members who saw a slide, closed-won sales."""
    return prepared.connection.execute(
        """
        WITH visits AS (
            SELECT sm.account_id, date_trunc('month', s.seen_at)::DATE AS month,
                   count(DISTINCT s.visit_id) AS visits,
                   count(DISTINCT s.member_id) AS members_seen
            FROM seen s JOIN scope_members sm USING (member_id)
            WHERE s.seen_at >= $since AND s.seen_at < $until
              AND sm.account_id IS NOT NULL
            GROUP BY ALL
        ), won AS (
            SELECT account_id, date_trunc('month', close_date)::DATE AS month,
                   sum(amount) AS won_amount
            FROM sales
            WHERE is_won AND close_date >= $since::DATE AND close_date < $until::DATE
              AND account_id IN (SELECT account_id FROM scope_members)
            GROUP BY ALL
        )
        SELECT a.name AS account, month, coalesce(v.visits, 0) AS visits,
               coalesce(v.members_seen, 0) AS members_seen,
               coalesce(w.won_amount, 0) AS won_amount
        FROM visits v FULL JOIN won w USING (account_id, month)
             JOIN accounts a USING (account_id)
        ORDER BY account, month
        """,
        {"since": prepared.window.since, "until": prepared.window.until},
    ).df()


def monthly_totals(months: pd.DataFrame) -> list[dict[str, Any]]:
    if months.empty:
        return []
    totals = months.groupby("month")[["visits", "won_amount"]].sum().reset_index()
    return [
        {
            "month": row.month.isoformat()[:7],
            "visits": int(row.visits),
            "won_amount": round(float(row.won_amount), 2),
        }
        for row in totals.itertuples()
    ]


def finite(value: float) -> float | None:
    return None if not np.isfinite(value) else value

"""Accounts at risk: engagement falling against the account's own history.

Each account's weekly visits of the last weeks are compared with its weeks
before in a quasi-Poisson model; the accounts are corrected together with
Benjamini-Hochberg, and an account is at risk when its fall is significant
and at least as large as the minimum drop.
"""

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np
from statsmodels.stats.multitest import multipletests

from entatio.insights.cube import Prepared
from entatio.insights.trends import WEEK_SECONDS, history_weeks, trend

RECENT_WEEKS = 6
HISTORY_WEEKS = 26
MIN_VISITS_BEFORE = 20
MIN_DROP = 0.4
Q = 0.05


@dataclass
class AccountTrend:
    account_id: int
    name: str
    segment: str
    recent_per_week: float
    before_per_week: float
    change: float
    low: float
    high: float
    p_value: float
    q_value: float = 1.0
    at_risk: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "account": self.name,
            "segment": self.segment,
            "recent_per_week": round(self.recent_per_week, 2),
            "before_per_week": round(self.before_per_week, 2),
            "change": round(self.change, 4),
            "interval": [round(self.low, 4), round(self.high, 4)],
            "p_value": self.p_value,
            "q_value": self.q_value,
            "at_risk": self.at_risk,
        }


def account_weeks(prepared: Prepared, weeks: int) -> dict[int, np.ndarray]:
    rows = prepared.connection.execute(
        f"""
        SELECT sm.account_id,
               floor(epoch($until - s.seen_at) / {WEEK_SECONDS})::INT AS ago,
               count(DISTINCT s.visit_id)
        FROM seen s JOIN scope_members sm USING (member_id)
        WHERE s.seen_at < $until AND s.seen_at >= $since
          AND sm.account_id IS NOT NULL
        GROUP BY ALL
        """,
        {
            "until": prepared.window.until,
            "since": prepared.window.until - timedelta(weeks=weeks),
        },
    ).fetchall()
    series: dict[int, np.ndarray] = {}
    for account_id, ago, visits in rows:
        series.setdefault(account_id, np.zeros(weeks))[weeks - 1 - ago] = visits
    return series


def accounts_at_risk(prepared: Prepared) -> list[AccountTrend]:
    """Every account with enough history, falling ones first."""
    weeks = min(RECENT_WEEKS + HISTORY_WEEKS, history_weeks(prepared))
    if weeks < RECENT_WEEKS * 2:
        return []
    names = dict(
        (a, (n, s))
        for a, n, s in prepared.connection.execute(
            "SELECT account_id, name, segment FROM accounts"
        ).fetchall()
    )

    found = []
    for account_id, weekly in account_weeks(prepared, weeks).items():
        if weekly[:-RECENT_WEEKS].sum() < MIN_VISITS_BEFORE:
            continue
        fitted = trend(weekly, RECENT_WEEKS)
        if fitted is None:
            fitted = _stopped(weekly)
        name, segment = names.get(account_id, (str(account_id), ""))
        found.append(
            AccountTrend(
                account_id, name, segment, fitted.recent_per_week,
                fitted.before_per_week, fitted.change, fitted.low - 1,
                fitted.high - 1, fitted.p_value,
            )
        )  # fmt: skip
    _correct(found)
    return sorted(found, key=lambda a: (not a.at_risk, a.change))


def _stopped(weekly: np.ndarray) -> Any:
    """An account with no visit at all lately: one visit stands in for none."""
    patched = weekly.copy()
    patched[-1] = 1
    return trend(patched, RECENT_WEEKS)


def _correct(found: list[AccountTrend]) -> None:
    if not found:
        return
    # One-sided: only a fall puts an account at risk.
    p_values = [a.p_value / 2 if a.change < 0 else 1 - a.p_value / 2 for a in found]
    _, q_values, _, _ = multipletests(p_values, Q, "fdr_bh")
    for account, q_value in zip(found, q_values, strict=True):
        account.q_value = float(q_value)
        account.at_risk = q_value <= Q and account.change <= -MIN_DROP

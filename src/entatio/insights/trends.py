"""Weekly visits and their trends: recent weeks against the weeks before.

A trend over N weeks compares the visits of the last N weeks with those of
the N weeks before (fewer when the history is shorter) in a quasi-Poisson
model of the weekly counts: the scale is estimated from the data, so weeks
that vary more than a Poisson count would do not pass for a trend.
"""

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import statsmodels.api as sm
from scipy import stats

from entatio.insights.cube import Prepared

WINDOWS = (4, 12, 52)
MIN_WEEKS_BEFORE = 4
WEEK_SECONDS = 7 * 86_400


@dataclass
class Trend:
    weeks: int
    recent_per_week: float
    before_per_week: float
    ratio: float
    low: float
    high: float
    p_value: float
    # The fitted log ratio's standard error and residual degrees of freedom.
    log_ratio_se: float = 0.0
    df: float = 1.0

    @property
    def change(self) -> float:
        return self.ratio - 1

    def p_beyond(self, minimum_ratio: float) -> float:
        """Two-sided p against a ratio between 1/minimum and minimum.

        The t test of the log ratio against the nearer bound, one-sided
        towards the observed change and doubled.
        """
        if self.log_ratio_se <= 0:
            return self.p_value
        distance = abs(np.log(self.ratio)) - np.log(minimum_ratio)
        one_sided = stats.t.sf(distance / self.log_ratio_se, self.df)
        return float(min(1.0, 2 * one_sided))

    def as_dict(self) -> dict[str, float | int]:
        return {
            "weeks": self.weeks,
            "recent_per_week": round(self.recent_per_week, 2),
            "before_per_week": round(self.before_per_week, 2),
            "change": round(self.change, 4),
            "change_low": round(self.low - 1, 4),
            "change_high": round(self.high - 1, 4),
            "p_value": self.p_value,
        }


def history_weeks(prepared: Prepared) -> int:
    """Whole weeks between the first visit of anyone in scope and the end."""
    (first,) = prepared.connection.execute(
        "SELECT min(seen_at) FROM seen "
        "WHERE member_id IN (SELECT member_id FROM scope_members)"
    ).fetchone() or (None,)
    if first is None:
        return 0
    return int((prepared.window.until - first) / timedelta(weeks=1))


def weekly_visits(prepared: Prepared, by: str = "topic") -> dict[int, np.ndarray]:
    """Visits in each of the past weeks (index 0 the oldest) per topic or slide."""
    weeks = history_weeks(prepared)
    if weeks == 0:
        return {}
    key = "st.topic_id" if by == "topic" else "s.slide_id"
    join = "JOIN slide_topics st USING (slide_id)" if by == "topic" else ""
    rows = prepared.connection.execute(
        f"""
        SELECT {key}, floor(epoch($until - s.seen_at) / {WEEK_SECONDS})::INT AS ago,
               count(DISTINCT s.visit_id)
        FROM seen s {join}
        WHERE s.seen_at < $until
          AND s.member_id IN (SELECT member_id FROM scope_members)
        GROUP BY ALL
        """,
        {"until": prepared.window.until},
    ).fetchall()
    series: dict[int, np.ndarray] = {}
    for item, ago, visits in rows:
        if ago < weeks:
            series.setdefault(item, np.zeros(weeks))[weeks - 1 - ago] = visits
    return series


def trend(counts: np.ndarray, weeks: int) -> Trend | None:
    """Last ``weeks`` weeks against the weeks before, or None without data."""
    before_weeks = min(weeks, len(counts) - weeks)
    if before_weeks < MIN_WEEKS_BEFORE:
        return None
    recent, before = counts[-weeks:], counts[-weeks - before_weeks : -weeks]
    if recent.sum() == 0 or before.sum() == 0:
        return None

    y = np.concatenate([before, recent])
    x = sm.add_constant(np.r_[np.zeros(before_weeks), np.ones(weeks)])
    fit = sm.GLM(y, x, family=sm.families.Poisson()).fit(scale="X2", use_t=True)
    low, high = np.exp(fit.conf_int()[1])
    return Trend(
        weeks=weeks,
        recent_per_week=float(recent.mean()),
        before_per_week=float(before.mean()),
        ratio=float(np.exp(fit.params[1])),
        low=float(low),
        high=float(high),
        p_value=float(fit.pvalues[1]),
        log_ratio_se=float(fit.bse[1]),
        df=float(fit.df_resid),
    )

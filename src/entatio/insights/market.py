"""The market view: topics and slides ranked by engagement, with their trends."""

from dataclasses import dataclass
from typing import Any

from entatio.insights.cube import ALL_TOPICS, Prepared, cells
from entatio.insights.trends import WINDOWS, trend, weekly_visits

TOP_SLIDES = 25


@dataclass
class Ranked:
    id: int
    name: str
    members: int
    reached: int
    visits: int
    weekly: list[int]
    trends: dict[int, dict[str, Any] | None]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "members": self.members,
            "reached": self.reached,
            "reach": round(self.reached / self.members, 4) if self.members else 0.0,
            "visits": self.visits,
            "weekly_visits": self.weekly,
            **{
                f"change_{weeks}w": (found or {}).get("change")
                for weeks, found in self.trends.items()
            },
        }


def _trends(weekly: Any) -> dict[int, dict[str, Any] | None]:
    found = {}
    for weeks in WINDOWS:
        fitted = trend(weekly, weeks) if weekly is not None else None
        found[weeks] = fitted.as_dict() if fitted else None
    return found


def ranked_topics(prepared: Prepared) -> list[Ranked]:
    """Topics by visits in the window, most first."""
    names = prepared.topics()
    weekly = weekly_visits(prepared, by="topic")
    ranked = [
        Ranked(
            cell.topic_id,
            names.get(cell.topic_id, str(cell.topic_id)),
            cell.members,
            cell.reached,
            int(cell.visits),
            [int(v) for v in weekly.get(cell.topic_id, [])][-52:],
            _trends(weekly.get(cell.topic_id)),
        )
        for cell in cells(prepared, None, None)
        if cell.topic_id != ALL_TOPICS
    ]
    return sorted(ranked, key=lambda r: (-r.visits, r.name))


def ranked_slides(prepared: Prepared, limit: int = TOP_SLIDES) -> list[Ranked]:
    """The slides seen in the most visits in the window, with their trends."""
    rows = prepared.connection.execute(
        """
        WITH access AS (
            SELECT slide_id, count(*) AS members FROM records
            WHERE member_id IN (SELECT member_id FROM scope_members)
            GROUP BY slide_id
        )
        SELECT s.slide_id, coalesce(nullif(sl.title, ''), 'Slide ' || s.slide_id),
               coalesce(a.members, 0), count(DISTINCT s.member_id),
               count(DISTINCT s.visit_id)
        FROM seen s JOIN slides sl USING (slide_id)
             LEFT JOIN access a USING (slide_id)
        WHERE s.seen_at >= $since AND s.seen_at < $until
          AND s.member_id IN (SELECT member_id FROM scope_members)
        GROUP BY ALL ORDER BY 5 DESC, 1 LIMIT $limit
        """,
        {
            "since": prepared.window.since,
            "until": prepared.window.until,
            "limit": limit,
        },
    ).fetchall()
    weekly = weekly_visits(prepared, by="slide")
    return [
        Ranked(
            slide_id,
            title,
            members,
            reached,
            visits,
            [int(v) for v in weekly.get(slide_id, [])][-52:],
            _trends(weekly.get(slide_id)),
        )
        for slide_id, title, members, reached, visits in rows
    ]


def market_view(prepared: Prepared) -> dict[str, Any]:
    return {
        "since": prepared.window.since.isoformat(),
        "until": prepared.window.until.isoformat(),
        "topics": [r.as_dict() for r in ranked_topics(prepared)],
        "slides": [r.as_dict() for r in ranked_slides(prepared)],
    }

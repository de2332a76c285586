"""What the presenter reads: record states per slide, per member, in total."""

from dataclasses import dataclass, field
from datetime import datetime

from entatio.engagement.access import audience
from entatio.engagement.derive import record_state_counts
from entatio.engagement.models import ActivityRecord
from entatio.library.editing import shown_slides
from entatio.library.models import Presentation, Slide
from entatio.people.models import Member

STATES = ("not_yet_viewed", "viewed", "not_yet_viewed_again", "viewed_again")


def state_of(visits: int) -> str:
    """The one cell colour of the grid: the furthest state reached."""
    if visits == 0:
        return "not_yet_viewed"
    return "viewed" if visits == 1 else "viewed_again"


@dataclass
class Cell:
    visits: int
    dwell_ms: int
    last_seen_at: datetime | None

    @property
    def state(self) -> str:
        return state_of(self.visits)


@dataclass
class MemberRow:
    member: Member
    cells: list[Cell]

    @property
    def seen_slides(self) -> int:
        return sum(1 for c in self.cells if c.visits >= 1)


@dataclass
class SlideColumn:
    slide: Slide
    position: int
    counts: dict[str, int]


@dataclass
class EngagementReport:
    presentation: Presentation
    slides: list[SlideColumn]
    members: list[MemberRow]
    total: dict[str, int] = field(default_factory=dict)


def engagement_report(presentation: Presentation, sort: str = "") -> EngagementReport:
    """States of every live record of the presentation's audience and slides."""
    slides = shown_slides(presentation)
    members = list(audience(presentation))

    records = ActivityRecord.objects.filter(
        slide__in=slides, member__in=members, archived=False
    ).values_list("member_id", "slide_id", "visits", "dwell_ms", "last_seen_at")
    found = {(m, s): Cell(v, d, last) for m, s, v, d, last in records}

    # A member with access but no record yet (the background sync has not
    # run) is shown as not yet viewed rather than left out.
    rows = [
        MemberRow(
            member,
            [found.get((member.pk, s.pk), Cell(0, 0, None)) for s in slides],
        )
        for member in members
    ]
    rows.sort(key=_sort_key(sort))

    columns = [
        SlideColumn(
            slide, position, record_state_counts(row.cells[i].visits for row in rows)
        )
        for i, (position, slide) in enumerate(enumerate(slides, start=1))
    ]
    total = record_state_counts(cell.visits for row in rows for cell in row.cells)
    return EngagementReport(presentation, columns, rows, total)


def _sort_key(sort: str):
    def account(row: MemberRow) -> tuple:
        name = row.member.account.name if row.member.account else "~"
        return (name.lower(), row.member.email)

    def user_type(row: MemberRow) -> tuple:
        return (row.member.user_type.lower() or "~", row.member.email)

    def seen(row: MemberRow) -> tuple:
        return (-row.seen_slides, row.member.email)

    keys = {"account": account, "user_type": user_type, "seen": seen}
    return keys.get(sort, lambda row: (row.member.email,))


def report_as_dict(report: EngagementReport) -> dict:
    """The report as plain data, for ``--json`` and the API."""
    return {
        "presentation": {
            "id": report.presentation.pk,
            "title": report.presentation.title,
        },
        "total": report.total,
        "slides": [
            {
                "id": c.slide.pk,
                "position": c.position,
                "title": c.slide.title,
                **c.counts,
            }
            for c in report.slides
        ],
        "members": [
            {
                "email": row.member.email,
                "name": row.member.display_name,
                "account": row.member.account.name if row.member.account else "",
                "user_type": row.member.user_type,
                "slides": [
                    {
                        "slide": col.slide.pk,
                        "visits": cell.visits,
                        "dwell_ms": cell.dwell_ms,
                        "state": cell.state,
                    }
                    for col, cell in zip(report.slides, row.cells, strict=True)
                ],
            }
            for row in report.members
        ],
    }

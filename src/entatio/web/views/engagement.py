"""The presenter's engagement page: record states per slide and per member."""

import csv

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from entatio.engagement.access import presentation_to_edit
from entatio.engagement.reports import STATES, EngagementReport, engagement_report
from entatio.people.models import Member
from entatio.web.members import member_page, page_context

SORTS = {
    "": "Name",
    "account": "Account",
    "user_type": "User type",
    "seen": "Slides seen",
}
STATE_LABELS = {
    "not_yet_viewed": "Not yet viewed",
    "viewed": "Viewed",
    "not_yet_viewed_again": "Not yet viewed again",
    "viewed_again": "Viewed again",
}
# A cell shows the furthest state reached; "viewed" there means viewed once.
CELL_LABELS = {
    "not_yet_viewed": "Not yet viewed",
    "viewed": "Viewed once, not yet viewed again",
    "viewed_again": "Viewed again",
}


@require_GET
@member_page
def engagement(
    request: HttpRequest, member: Member, presentation_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    sort = request.GET.get("sort", "")
    sort = sort if sort in SORTS else ""

    report = engagement_report(presentation, sort)
    return render(
        request,
        "web/engagement.html",
        page_context(
            request,
            member,
            presentation=presentation,
            report=report,
            sort=sort,
            sorts=SORTS,
            states=[(key, STATE_LABELS[key]) for key in STATES],
            totals=[(key, STATE_LABELS[key], report.total[key]) for key in STATES],
            slide_counts=[
                (column, [(key, column.counts[key]) for key in STATES])
                for column in report.slides
            ],
            grid=[
                (row, [(cell, CELL_LABELS[cell.state]) for cell in row.cells])
                for row in report.members
            ],
            cell_states=list(CELL_LABELS.items()),
        ),
    )


@require_GET
@member_page
def engagement_csv(
    request: HttpRequest, member: Member, presentation_id: int
) -> HttpResponse:
    presentation = presentation_to_edit(member, presentation_id)
    sort = request.GET.get("sort", "")
    report = engagement_report(presentation, sort if sort in SORTS else "")

    name = slugify(presentation.title) or f"presentation-{presentation.pk}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}-engagement.csv"'
    write_grid(report, response)
    return response


def write_grid(report: EngagementReport, out: HttpResponse) -> None:
    """Members by slides; each cell the state the member reached on the slide."""
    writer = csv.writer(out)
    writer.writerow(
        [
            "email",
            "name",
            "account",
            "user_type",
            "slides_seen",
            *(
                safe_cell(f"{c.position}. {c.slide.title}".strip())
                for c in report.slides
            ),
        ]
    )
    for row in report.members:
        account = row.member.account.name if row.member.account else ""
        writer.writerow(
            [
                safe_cell(row.member.email),
                safe_cell(row.member.display_name),
                safe_cell(account),
                safe_cell(row.member.user_type),
                row.seen_slides,
                *(cell.state for cell in row.cells),
            ]
        )


def safe_cell(value: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value

"""Insights pages for authors: cube, sales, market, discovery, flow, goals, risk.

Every page is scoped to the portals of the organization the signed-in person
is an author of, and every table comes as CSV with ``?format=csv``.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import SafeString, mark_safe

from entatio.insights.charts import bar_chart, flow_diagram, line_chart
from entatio.insights.columnar import copy_for, write_copy
from entatio.insights.cube import (
    ACCOUNT_FIELDS,
    ALL_TOPICS,
    CUBE_COLUMNS,
    CubeError,
    Prepared,
    engagement_cube,
    prepare,
)
from entatio.insights.discovery import discover
from entatio.insights.flow import knowledge_flow
from entatio.insights.goals import GoalError, check_goal, goal_status
from entatio.insights.market import market_view
from entatio.insights.models import Goal, Topic
from entatio.insights.risk import accounts_at_risk
from entatio.insights.sales import account_months, monthly_totals
from entatio.insights.topics import TopicError, rename_topic, suggest_topics, tag_slide
from entatio.library.models import Slide
from entatio.people.access import member_in_portal
from entatio.people.models import Member

COPY_MAX_AGE = timedelta(hours=1)
PAGES = {
    "cube": "Engagement cube",
    "sales": "Engagement and sales",
    "market": "Market",
    "discovery": "Discovery",
    "flow": "Knowledge flow",
    "goals": "Goals",
    "at-risk": "Accounts at risk",
}


@dataclass
class Page:
    columns: list[str]
    rows: list[list[Any]]
    chart: SafeString = field(default_factory=lambda: mark_safe(""))
    extra: dict[str, Any] = field(default_factory=dict)


def author_in_portal(request: HttpRequest, portal_id: int) -> Member:
    """The author's member there: 404 outside the portal, 403 for readers."""
    member = member_in_portal(request.user, portal_id)
    if not member.can_author:
        raise PermissionDenied("Only authors may read insights.")
    return member


def scope_of(member: Member) -> list[int]:
    """Portals of the organization that the person is an author of."""
    if member.user_id is None:
        # Without a login there is nobody to match in the other portals.
        return [member.portal_id] if member.can_author else []
    return list(
        Member.objects.filter(
            user_id=member.user_id,
            portal__organization_id=member.portal.organization_id,
            role__in=[Member.Role.OWNER, Member.Role.AUTHOR],
        ).values_list("portal_id", flat=True)
    )


@login_required
def insights_page(request: HttpRequest, portal_id: int, name: str) -> HttpResponse:
    member = author_in_portal(request, portal_id)
    organization = member.portal.organization
    if name == "goals" and request.method == "POST":
        return _add_goal(request, member)
    if name == "market" and request.method == "POST":
        return _edit_topics(request, member)

    copy = copy_for(organization, max_age=COPY_MAX_AGE)
    prepared = prepare(copy, portal_ids=scope_of(member))
    page = BUILDERS[name](prepared, request, member)
    if request.GET.get("format") == "csv":
        return _csv(f"{name}.csv", page)
    return render(
        request,
        "insights/page.html",
        {
            "member": member,
            "portals": [],
            "portal_id": portal_id,
            "name": name,
            "title": PAGES[name],
            "pages": PAGES.items(),
            "page": page,
            "written_at": copy.written_at,
        },
    )


def _csv(filename: str, page: Page) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(page.columns)
    writer.writerows(page.rows)
    return response


def _cube(prepared: Prepared, request: HttpRequest, member: Member) -> Page:
    person = request.GET.get("person", "user_type") or None
    account = request.GET.get("account", "segment") or None
    try:
        cube = engagement_cube(prepared, person, account)
    except CubeError:
        cube = engagement_cube(prepared, "user_type", "segment")
    rows = cube.as_dict()["rows"]
    shown = [r for r in rows if r["topic_id"] != ALL_TOPICS][:30]
    chart = bar_chart(
        [f"{r['topic']} · {r['person'] or ''} {r['account'] or ''}" for r in shown],
        [r["reach"] for r in shown],
        percent=True,
    )
    return Page(
        CUBE_COLUMNS,
        [[r[c] for c in CUBE_COLUMNS] for r in rows],
        chart,
        {
            "person_fields": prepared.person_fields,
            "account_fields": ACCOUNT_FIELDS,
            "person": cube.person_field,
            "account": cube.account_field,
        },
    )


def _sales(prepared: Prepared, request: HttpRequest, member: Member) -> Page:
    months = account_months(prepared)
    totals = monthly_totals(months)
    chart = line_chart(
        {
            "visits": [t["visits"] for t in totals],
            "won": [t["won_amount"] for t in totals],
        }
    )
    columns = ["account", "month", "visits", "members_seen", "won_amount"]
    rows = [
        [r.account, r.month.isoformat()[:7], r.visits, r.members_seen, r.won_amount]
        for r in months.itertuples()
    ]
    return Page(columns, rows, chart)


def _market(prepared: Prepared, request: HttpRequest, member: Member) -> Page:
    view = market_view(prepared)
    columns = ["kind", "name", "members", "reach", "visits", "change_4w",
               "change_12w", "change_52w"]  # fmt: skip
    rows = [
        [kind, r["name"], r["members"], r["reach"], r["visits"], r["change_4w"],
         r["change_12w"], r["change_52w"]]
        for kind in ("topic", "slide")
        for r in view[f"{kind}s"]
    ]  # fmt: skip
    chart = line_chart({t["name"]: t["weekly_visits"] for t in view["topics"]})
    return Page(columns, rows, chart, {"topics": prepared.topics().items()})


def _discovery(prepared: Prepared, request: HttpRequest, member: Member) -> Page:
    found = discover(prepared).as_dict()
    columns = ["kind", "dimensions", "measure", "value", "baseline", "effect",
               "low", "high", "q_value", "counts", "sentence"]  # fmt: skip
    rows = [
        [i["kind"], _pairs(i["dimensions"]), i["measure"], i["value"],
         i["baseline"], i["effect"], *i["interval"], i["q_value"],
         _pairs(i["counts"]), i["sentence"]]
        for i in found["insights"]
    ]  # fmt: skip
    charts = [
        bar_chart(["value", "baseline"], [i["value"], i["baseline"]])
        for i in found["insights"]
    ]
    return Page(
        columns,
        rows,
        extra={"insights": list(zip(found["insights"], charts, strict=True)),
               "tested": found["tested"]},
    )  # fmt: skip


def _pairs(values: dict[str, Any]) -> str:
    return "; ".join(f"{k}={v}" for k, v in values.items())


def _flow(prepared: Prepared, request: HttpRequest, member: Member) -> Page:
    flow = knowledge_flow(prepared, portal_ids=scope_of(member))
    columns = ["topic", "tier", "slides", "members", "reached", "reach",
               "live_visits", "first_seen"]  # fmt: skip
    rows = [
        [t["topic"], n["tier"], n["slides"], n["members"], n["reached"],
         n["reach"], n["live_visits"], n["first_seen"]]
        for t in flow["topics"]
        for n in t["tiers"]
    ]  # fmt: skip
    diagrams = [
        (t["topic"], flow_diagram(t["tiers"], t["links"]), t["links"])
        for t in flow["topics"]
    ]
    return Page(columns, rows, extra={"diagrams": diagrams})


def _goals(prepared: Prepared, request: HttpRequest, member: Member) -> Page:
    goals = visible_goals(member).select_related("topic")
    statuses = [goal_status(g, prepared) for g in goals]
    columns = ["goal", "target", "due", "value", "reached", "counted", "on_track"]
    rows = [
        [s["name"], s["target"], s["due"], s["value"], s["reached"], s["counted"],
         s["on_track"]]
        for s in statuses
    ]  # fmt: skip
    charts = [
        (s, line_chart({s["name"]: [h["value"] for h in s["history"]],
                        "target": [s["target"]] * len(s["history"])}))
        for s in statuses
    ]  # fmt: skip
    topics = prepared.topics()
    return Page(columns, rows, extra={"goals": charts, "topics": topics.items()})


def visible_goals(member: Member) -> QuerySet[Goal]:
    """Goals set in the portals the person authors; owners also see unsigned ones.

    A goal names topics, accounts and targets of the portal it was set in, so
    an author of another portal of the organization does not see it.
    """
    goals = Goal.objects.filter(organization_id=member.portal.organization_id)
    made_in_scope = Q(created_by__portal_id__in=scope_of(member))
    if member.role == Member.Role.OWNER:
        return goals.filter(made_in_scope | Q(created_by__isnull=True))
    return goals.filter(made_in_scope)


def _add_goal(request: HttpRequest, member: Member) -> HttpResponse:
    """A goal from the page's form; a bad one is refused with 400."""
    data = request.POST
    try:
        goal = Goal(
            organization_id=member.portal.organization_id,
            name=data.get("name", "").strip()[:200] or "Goal",
            measure=data.get("measure", Goal.Measure.REACH),
            unit=data.get("unit", Goal.Unit.MEMBERS),
            topic_id=int(data["topic"]) if data.get("topic", "0") != "0" else None,
            person_field=data.get("person_field", ""),
            person_value=data.get("person_value", ""),
            account_field=data.get("account_field", ""),
            account_value=data.get("account_value", ""),
            target=float(data.get("target", "")),
            due=date.fromisoformat(data.get("due", "")),
            created_by=member,
        )
        copy = copy_for(member.portal.organization, max_age=COPY_MAX_AGE)
        check_goal(goal, prepare(copy))
    except (ValueError, KeyError, GoalError) as error:
        return HttpResponse(f"The goal cannot be added: {error}", status=400)
    goal.save()
    return redirect("insights_page", portal_id=member.portal_id, name="goals")


def _edit_topics(request: HttpRequest, member: Member) -> HttpResponse:
    """Rename a topic, tag a slide by hand, or ask for new suggestions."""
    organization = member.portal.organization
    data = request.POST
    # Topics and their labels are the whole organization's: owners change them.
    if data.get("action") in ("suggest", "rename") and member.role != Member.Role.OWNER:
        raise PermissionDenied("Only owners may rename or suggest topics.")
    try:
        if data.get("action") == "suggest":
            suggest_topics(organization, n_topics=int(data.get("topics") or 0) or None)
        else:
            topic = Topic.objects.get(
                organization=organization, pk=data.get("topic", "")
            )
            if data.get("action") == "rename":
                rename_topic(topic, data.get("label", ""))
            elif data.get("action") == "tag":
                slide = Slide.objects.get(
                    portal__organization=organization,
                    portal__in=scope_of(member),
                    pk=data.get("slide", ""),
                )
                tag_slide(slide, topic, by=member)
    except Topic.DoesNotExist:
        return HttpResponse(
            "There is no such topic; pick one from the list.", status=400
        )
    except Slide.DoesNotExist:
        return HttpResponse(
            "There is no such slide in the portals you author; give its number "
            "as the library shows it.",
            status=400,
        )
    except (ValueError, TopicError) as error:
        return HttpResponse(f"The topic cannot be changed: {error}", status=400)
    write_copy(organization)
    return redirect("insights_page", portal_id=member.portal_id, name="market")


def _at_risk(prepared: Prepared, request: HttpRequest, member: Member) -> Page:
    accounts = [a.as_dict() for a in accounts_at_risk(prepared)]
    columns = ["account", "segment", "recent_per_week", "before_per_week",
               "change", "q_value", "at_risk"]  # fmt: skip
    rows = [[a[c] for c in columns] for a in accounts]
    falling = [a for a in accounts if a["at_risk"]] or accounts[:10]
    chart = bar_chart(
        [a["account"] for a in falling], [a["recent_per_week"] for a in falling]
    )
    return Page(columns, rows, chart)


BUILDERS: dict[str, Callable[[Prepared, HttpRequest, Member], Page]] = {
    "cube": _cube,
    "sales": _sales,
    "market": _market,
    "discovery": _discovery,
    "flow": _flow,
    "goals": _goals,
    "at-risk": _at_risk,
}

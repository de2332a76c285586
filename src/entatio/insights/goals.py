"""Goals: a metric, a target and a date; tracked with a snapshot a day."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.db import transaction

from entatio.insights.cube import ACCOUNT_FIELDS, Prepared, column_of
from entatio.insights.models import Goal, GoalSnapshot
from entatio.people.models import Organization

HISTORY_WEEKS = 26


class GoalError(ValueError):
    """A goal that cannot be measured, with what to fix."""


@dataclass
class GoalValue:
    on: date
    value: float
    reached: int
    counted: int


def check_goal(goal: Goal, prepared: Prepared) -> None:
    if goal.person_field and goal.person_field not in prepared.person_fields:
        raise GoalError(f"No person field {goal.person_field!r}.")
    if goal.account_field and goal.account_field not in ACCOUNT_FIELDS:
        raise GoalError(f"No account field {goal.account_field!r}.")
    if not 0 < goal.target <= 1:
        raise GoalError("The target is a share: give a number above 0 and up to 1.")


def goal_value(goal: Goal, prepared: Prepared, on: date) -> GoalValue:
    """The goal's metric as it stood at the end of that day."""
    check_goal(goal, prepared)
    where = ["TRUE"]
    params: dict[str, Any] = {"topic": goal.topic_id or 0}
    for kind, field, wanted in (
        ("p", goal.person_field, goal.person_value),
        ("a", goal.account_field, goal.account_value),
    ):
        if field:
            where.append(f"{column_of(kind, field)} = ${kind}")
            params[kind] = wanted
    needed = 2 if goal.measure == Goal.Measure.RETURN else 1
    unit = "account_id" if goal.unit == Goal.Unit.ACCOUNTS else "member_id"
    params["until"] = datetime.combine(on + timedelta(days=1), time(), tzinfo=UTC)

    counted, reached = prepared.connection.execute(
        f"""
        WITH counted AS (
            SELECT DISTINCT sm.member_id, sm.account_id
            FROM records r JOIN scope_members sm USING (member_id)
            WHERE ($topic = 0 OR r.slide_id IN (
                SELECT slide_id FROM slide_topics WHERE topic_id = $topic))
              AND {" AND ".join(where)}
        ), came AS (
            SELECT s.member_id FROM seen s
            WHERE s.seen_at < $until AND ($topic = 0 OR s.slide_id IN (
                SELECT slide_id FROM slide_topics WHERE topic_id = $topic))
            GROUP BY s.member_id HAVING count(DISTINCT s.visit_id) >= {needed}
        )
        SELECT count(DISTINCT c.{unit}),
               count(DISTINCT c.{unit}) FILTER (
                   WHERE c.member_id IN (SELECT member_id FROM came))
        FROM counted c WHERE c.{unit} IS NOT NULL
        """,
        params,
    ).fetchone() or (0, 0)
    value = reached / counted if counted else 0.0
    return GoalValue(on, value, int(reached), int(counted))


def goal_history(
    goal: Goal, prepared: Prepared, weeks: int = HISTORY_WEEKS
) -> list[GoalValue]:
    """The metric at the end of each of the past weeks, oldest first."""
    today = prepared.window.until.date()
    return [
        goal_value(goal, prepared, today - timedelta(weeks=n))
        for n in range(weeks, -1, -1)
    ]


def track_goals(organization: Organization, prepared: Prepared | None = None) -> list:
    """Store today's value of every goal; one snapshot per goal and day."""
    from entatio.insights.columnar import copy_for
    from entatio.insights.cube import prepare

    prepared = prepared or prepare(copy_for(organization))
    today = prepared.window.until.date()
    snapshots = []
    with transaction.atomic():
        for goal in Goal.objects.filter(organization=organization):
            measured = goal_value(goal, prepared, today)
            snapshot, _ = GoalSnapshot.objects.update_or_create(
                goal=goal,
                taken_on=today,
                defaults={
                    "value": measured.value,
                    "reached": measured.reached,
                    "counted": measured.counted,
                },
            )
            snapshots.append(snapshot)
    return snapshots


def goal_status(goal: Goal, prepared: Prepared) -> dict[str, Any]:
    history = goal_history(goal, prepared)
    current = history[-1]
    return {
        "id": goal.pk,
        "name": goal.name,
        "measure": goal.measure,
        "unit": goal.unit,
        "topic": goal.topic.label if goal.topic else "All slides",
        "person": f"{goal.person_field}={goal.person_value}"
        if goal.person_field
        else None,
        "account": f"{goal.account_field}={goal.account_value}"
        if goal.account_field
        else None,
        "target": goal.target,
        "due": goal.due.isoformat(),
        "value": round(current.value, 4),
        "reached": current.reached,
        "counted": current.counted,
        "on_track": current.value >= goal.target,
        "history": [
            {"on": h.on.isoformat(), "value": round(h.value, 4)} for h in history
        ],
        "snapshots": [
            {"on": s.taken_on.isoformat(), "value": round(s.value, 4)}
            for s in goal.snapshots.all()
        ],
    }

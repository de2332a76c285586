"""The insights schedules: the copy every hour, goals every day, one chain each."""

from datetime import date, timedelta

import time_machine
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from entatio.cli.server import _resume_background_work
from entatio.insights.columnar import current_copy
from entatio.insights.models import Goal, GoalSnapshot, Schedule
from entatio.insights.tasks import (
    ensure_insights_scheduled,
    ensure_schedules,
    scheduled_insights_task,
)

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def _links(job: str) -> list[DBTaskResult]:
    return [
        link
        for link in DBTaskResult.objects.order_by("run_after")
        if link.task_path == "entatio.insights.tasks.scheduled_insights_task"
        and link.args_kwargs["args"][1] == job
    ]


def test_each_job_starts_one_chain_and_asking_again_adds_none(org, settings):
    settings.TASKS = DATABASE_QUEUE
    started = timezone.now()

    assert ensure_insights_scheduled(org) == 2
    assert ensure_insights_scheduled(org) == 2

    for job in ("copy", "goals"):
        [link] = _links(job)
        schedule = Schedule.objects.get(organization=org, job=job)
        assert link.args_kwargs["args"] == [org.pk, job, schedule.chain_token]
        assert started <= link.run_after <= timezone.now()
        assert schedule.next_run_at == link.run_after


def test_a_copy_run_writes_the_copy_and_queues_the_next_in_an_hour(org, settings):
    settings.TASKS = DATABASE_QUEUE
    ensure_insights_scheduled(org)
    chain = Schedule.objects.get(organization=org, job="copy").chain_token

    result = scheduled_insights_task.call(org.pk, "copy", chain)

    assert result == {"job": "copy", "retired": False}
    assert current_copy(org.pk) is not None
    _, following = _links("copy")
    delay = following.run_after - timezone.now()
    assert timedelta(minutes=59) < delay <= timedelta(hours=1)
    schedule = Schedule.objects.get(organization=org, job="copy")
    assert schedule.next_run_at == following.run_after
    assert schedule.last_run_at is not None


def test_a_goals_run_takes_the_day_s_snapshot_and_queues_tomorrow(org, settings):
    settings.TASKS = DATABASE_QUEUE
    goal = Goal.objects.create(
        organization=org, name="Reach", target=0.5, due=date(2027, 6, 30)
    )
    ensure_insights_scheduled(org)
    chain = Schedule.objects.get(organization=org, job="goals").chain_token

    scheduled_insights_task.call(org.pk, "goals", chain)

    assert GoalSnapshot.objects.filter(goal=goal).count() == 1
    _, following = _links("goals")
    delay = following.run_after - timezone.now()
    assert timedelta(hours=23) < delay <= timedelta(days=1)


def test_an_overdue_chain_is_replaced_and_the_old_one_retires(org, settings):
    settings.TASKS = DATABASE_QUEUE
    ensure_insights_scheduled(org)
    old_chain = Schedule.objects.get(organization=org, job="copy").chain_token

    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert ensure_insights_scheduled(org) == 2
        new_chain = Schedule.objects.get(organization=org, job="copy").chain_token
        retired = scheduled_insights_task.call(org.pk, "copy", old_chain)

    assert new_chain != old_chain
    assert retired == {"job": "copy", "retired": True}
    assert len(_links("copy")) == 2
    assert current_copy(org.pk) is None


def test_a_failed_run_keeps_the_chain_going(org, settings, monkeypatch):
    settings.TASKS = DATABASE_QUEUE
    ensure_insights_scheduled(org)
    chain = Schedule.objects.get(organization=org, job="copy").chain_token

    def broken(organization):
        raise OSError("disk full")

    monkeypatch.setattr("entatio.insights.tasks.write_copy", broken)
    result = scheduled_insights_task.call(org.pk, "copy", chain)

    assert result["retired"] is False
    assert len(_links("copy")) == 2


def test_server_start_schedules_every_organization(org, settings):
    settings.TASKS = DATABASE_QUEUE

    _resume_background_work()

    assert Schedule.objects.filter(organization=org).count() == 2
    assert ensure_schedules() == 2


def test_a_queue_that_cannot_defer_starts_no_chain(org):
    # The tests' immediate backend runs a task at once and cannot defer one.
    assert ensure_insights_scheduled(org) == 0
    assert not Schedule.objects.exists()

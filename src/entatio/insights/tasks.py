"""Insights work in the background: on demand, and on a schedule.

The columnar copy is refreshed every hour and the goals' snapshots are taken
every day, per organization. As the CRM's syncs do, each schedule is a chain
of tasks: each run, when done, enqueues the next one with ``run_after`` one
interval ahead, so any worker of the database queue runs it and no extra
process is needed. The chain's token is kept in ``Schedule``; a run whose
token is no longer the current one ends without running, so starting a new
chain (``ensure_insights_scheduled``) retires the old one instead of doubling
it. A chain broken by a worker that died mid-run is noticed from its overdue
``next_run_at`` when the server starts.
"""

import logging
import uuid
from datetime import timedelta

from django.utils import timezone
from django_tasks import default_task_backend, task

from entatio.insights.columnar import write_copy
from entatio.insights.models import Schedule
from entatio.people.models import Organization

logger = logging.getLogger(__name__)

INTERVALS = {
    Schedule.Job.COPY: timedelta(hours=1),
    Schedule.Job.GOALS: timedelta(days=1),
}
# A chain is taken for dead when its next run is this late.
OVERDUE = timedelta(minutes=10)


@task()
def refresh_copy_task(organization_id: int) -> str:
    """Write a fresh columnar copy of the organization for insights to read."""
    organization = Organization.objects.get(pk=organization_id)
    return str(write_copy(organization).folder)


@task()
def track_goals_task(organization_id: int) -> int:
    """Take today's snapshot of every goal of the organization."""
    organization = Organization.objects.get(pk=organization_id)
    return _track_goals(organization)


def _track_goals(organization: Organization) -> int:
    from entatio.insights.goals import track_goals

    return len(track_goals(organization))


def run_job(organization: Organization, job: str) -> None:
    """The work of one scheduled run."""
    if job == Schedule.Job.COPY:
        write_copy(organization)
    else:
        _track_goals(organization)


@task()
def scheduled_insights_task(organization_id: int, job: str, chain: str) -> dict:
    """One link of a schedule's chain: do the job, then enqueue the next link."""
    organization = Organization.objects.get(pk=organization_id)
    schedule = Schedule.objects.filter(organization=organization, job=job).first()
    if schedule is None or schedule.chain_token != chain:
        return {"job": job, "retired": True}

    try:
        run_job(organization, job)
        Schedule.objects.filter(pk=schedule.pk).update(last_run_at=timezone.now())
    except Exception:
        # The chain must outlive a failed run; the next one tries again.
        logger.exception(
            "Scheduled insights job %s of %s failed",
            job,
            organization.slug,
            extra={"organization": organization.pk},
        )
    finally:
        _enqueue_link(organization, job, chain, INTERVALS[Schedule.Job(job)])
    return {"job": job, "retired": False}


def ensure_insights_scheduled(organization: Organization) -> int:
    """Start each job's chain unless a live one is on time; the chains running."""
    if not default_task_backend.supports_defer:
        return 0

    running = 0
    for job in Schedule.Job:
        schedule, _ = Schedule.objects.get_or_create(organization=organization, job=job)
        running += 1
        if _on_time(schedule):
            continue

        chain = uuid.uuid4().hex
        schedule.chain_token = chain
        schedule.save(update_fields=["chain_token"])
        _enqueue_link(organization, job, chain, timedelta(0))
        logger.info(
            "Started the insights schedule %s of %s, every %s",
            job,
            organization.slug,
            INTERVALS[job],
            extra={"organization": organization.pk},
        )
    return running


def _on_time(schedule: Schedule) -> bool:
    return bool(
        schedule.chain_token
        and schedule.next_run_at
        and schedule.next_run_at > timezone.now() - OVERDUE
    )


def _enqueue_link(
    organization: Organization, job: str, chain: str, after: timedelta
) -> None:
    if not default_task_backend.supports_defer:
        return
    run_after = timezone.now() + after

    # Only the chain whose token is current moves on; a retired one stops here.
    updated = Schedule.objects.filter(
        organization=organization, job=job, chain_token=chain
    ).update(next_run_at=run_after)
    if updated:
        scheduled_insights_task.using(run_after=run_after).enqueue(
            organization.pk, str(job), chain
        )


def ensure_schedules() -> int:
    """Start the insights schedules of every organization; for server start."""
    return sum(
        ensure_insights_scheduled(organization)
        for organization in Organization.objects.order_by("pk")
    )

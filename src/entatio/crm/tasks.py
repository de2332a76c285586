"""Background syncs: on demand, and on a schedule the worker keeps itself.

The schedule is a chain of tasks: each scheduled run, when done, enqueues
the next one with ``run_after`` set one interval ahead, so any worker of the
database queue runs it and no extra process is needed. The chain's token is
kept in ``SyncState``; a task whose token is no longer the current one ends
without running, so starting a new chain (``ensure_sync_scheduled``) retires
the old one instead of doubling it. A chain broken by a worker that died
mid-run is noticed by ``ensure_sync_scheduled`` (called when the server
starts, and by each on-demand sync) from its overdue ``next_run_at``.
"""

import logging
import uuid
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import default_task_backend, task

from entatio.crm.config import salesforce_config
from entatio.crm.models import SyncState
from entatio.crm.sync import sync_with_salesforce
from entatio.people.models import Organization

logger = logging.getLogger(__name__)

# A chain is taken for dead when its next run is this late.
OVERDUE = timedelta(minutes=10)


@task()
def sync_now_task(organization_id: int) -> dict:
    """One sync, asked for from the sync page or the command line."""
    organization = Organization.objects.get(pk=organization_id)
    run = sync_with_salesforce(organization, trigger="demand")
    return {"run": run.pk if run else None}


@task()
def scheduled_sync_task(organization_id: int, chain: str) -> dict:
    """One link of the schedule's chain: sync, then enqueue the next link."""
    organization = Organization.objects.get(pk=organization_id)
    state = SyncState.objects.filter(organization=organization).first()
    if state is None or state.chain_token != chain:
        return {"run": None, "retired": True}

    run = None
    try:
        run = sync_with_salesforce(organization, trigger="schedule")
    except Exception:
        # The chain must outlive a failed run; the run records why it failed.
        logger.exception(
            "Scheduled Salesforce sync of %s failed",
            organization.slug,
            extra={"organization": organization.pk},
        )
    finally:
        _enqueue_link(organization, chain)
    return {"run": run.pk if run else None, "retired": False}


def ensure_sync_scheduled(organization: Organization) -> bool:
    """Start the schedule unless a live chain is on time; True if it runs."""
    config = salesforce_config(organization)
    if config is None or not default_task_backend.supports_defer:
        return False

    state, _ = SyncState.objects.get_or_create(organization=organization)
    now = timezone.now()
    if state.chain_token and state.next_run_at and state.next_run_at > now - OVERDUE:
        return True

    chain = uuid.uuid4().hex
    state.chain_token = chain
    state.save(update_fields=["chain_token"])
    _enqueue_link(organization, chain, after=timedelta(0))
    logger.info(
        "Started the Salesforce schedule of %s, every %d s",
        organization.slug,
        config.interval_seconds,
        extra={"organization": organization.pk},
    )
    return True


def request_sync(organization: Organization) -> None:
    """Sync in the background as soon as a worker is free."""
    ensure_sync_scheduled(organization)
    transaction.on_commit(lambda: sync_now_task.enqueue(organization.pk))


def _enqueue_link(
    organization: Organization, chain: str, after: timedelta | None = None
) -> None:
    config = salesforce_config(organization)
    if config is None or not default_task_backend.supports_defer:
        return
    if after is None:
        after = timedelta(seconds=config.interval_seconds)
    run_after = timezone.now() + after

    updated = SyncState.objects.filter(
        organization=organization, chain_token=chain
    ).update(next_run_at=run_after)
    if updated:
        scheduled_sync_task.using(run_after=run_after).enqueue(organization.pk, chain)


def ensure_schedules() -> int:
    """Start the schedule of every connected organization; for server start."""
    return sum(
        ensure_sync_scheduled(organization)
        for organization in Organization.objects.order_by("pk")
    )

"""One sync of an organization with Salesforce: pull, stage, push, recorded.

Only one sync of an organization runs at a time: a run holds a lease in the
database (so it holds across processes and machines), renews it between
batches, and a lease left by a worker that died runs out by itself; the
next run marks that worker's run as interrupted.
"""

import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from entatio.crm.auth import AuthenticationFailed
from entatio.crm.config import ConfigurationError, SalesforceConfig, salesforce_config
from entatio.crm.models import OutboxEntry, SyncRun, SyncState
from entatio.crm.outbox import send_outbox
from entatio.crm.pull import pull_changes
from entatio.crm.push import stage_changes
from entatio.crm.salesforce import (
    SalesforceConnector,
    SalesforceLimitReached,
    SalesforceRejected,
    SalesforceUnavailable,
)
from entatio.people.models import Organization

logger = logging.getLogger(__name__)

ConnectorFactory = Callable[[SalesforceConfig], SalesforceConnector]


class NotConnected(LookupError):
    """The organization has no Salesforce connection configured."""


def sync_with_salesforce(
    organization: Organization,
    trigger: str = "demand",
    connector_for: ConnectorFactory = SalesforceConnector,
) -> SyncRun | None:
    """Pull, stage and push once; None when another run holds the lease."""
    config = salesforce_config(organization)
    if config is None:
        raise NotConnected(
            f"{organization.name} has no Salesforce connection; add it to "
            "ENTATIO_SALESFORCE in the settings (or the ENTATIO_SALESFORCE_* "
            "environment variables)."
        )
    lease = acquire_lease(organization, config.lease_seconds)
    if lease is None:
        logger.info(
            "A Salesforce sync of %s is already running",
            organization.slug,
            extra={"organization": organization.pk},
        )
        return None

    interrupted = SyncRun.objects.filter(
        organization=organization, outcome=SyncRun.Outcome.RUNNING
    ).update(
        outcome=SyncRun.Outcome.INTERRUPTED,
        message="The worker stopped before this run ended.",
    )
    run = SyncRun.objects.create(
        organization=organization,
        trigger=trigger,
        started_at=timezone.now(),
        counts={"interrupted_runs": interrupted} if interrupted else {},
    )
    try:
        _run(organization, run, connector_for(config), lease, config)
    except Exception as error:
        _finish(run, SyncRun.Outcome.FAILED, f"{type(error).__name__}: {error}")
        release_lease(organization, lease)
        raise
    except BaseException:
        # Stopped from outside (Ctrl-C, shutdown): what was acknowledged
        # stays acknowledged and the rest waits for the next run.
        _finish(run, SyncRun.Outcome.INTERRUPTED, "Stopped before the end.")
        release_lease(organization, lease)
        raise
    release_lease(organization, lease)
    return run


def _run(
    organization: Organization,
    run: SyncRun,
    connector: SalesforceConnector,
    lease: str,
    config: SalesforceConfig,
) -> None:
    counts: dict[str, Any] = dict(run.counts)
    try:
        counts["pulled"] = pull_changes(organization, connector)
        counts["staged"] = stage_changes(organization)

        def keep_going() -> bool:
            return renew_lease(organization, lease, config.lease_seconds)

        pushed = send_outbox(organization, connector, keep_going)
        counts["pushed"] = pushed.as_dict()
    except SalesforceLimitReached as error:
        return _finish(run, SyncRun.Outcome.LIMITED, str(error), counts)
    except (
        SalesforceUnavailable,
        SalesforceRejected,
        AuthenticationFailed,
        ConfigurationError,
    ) as error:
        logger.warning(
            "Salesforce sync of %s failed: %s",
            organization.slug,
            error,
            extra={"organization": organization.pk, "run": run.pk},
        )
        return _finish(run, SyncRun.Outcome.FAILED, str(error), counts)

    counts["calls"] = connector.calls
    outcome = SyncRun.Outcome.PARTIAL if pushed.failed else SyncRun.Outcome.DONE
    _finish(run, outcome, "", counts)


def _finish(
    run: SyncRun, outcome: str, message: str, counts: dict[str, Any] | None = None
) -> None:
    run.outcome = outcome
    run.message = message[:2000]
    run.finished_at = timezone.now()
    if counts is not None:
        run.counts = counts
    run.save(update_fields=["outcome", "message", "finished_at", "counts"])


def acquire_lease(organization: Organization, seconds: int) -> str | None:
    """A token if no live lease is held; one conditional UPDATE decides."""
    SyncState.objects.get_or_create(organization=organization)
    now = timezone.now()
    token = uuid.uuid4().hex
    taken = (
        SyncState.objects.filter(organization=organization)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(lease_token=token, lease_until=now + timedelta(seconds=seconds))
    )
    return token if taken else None


def renew_lease(organization: Organization, token: str, seconds: int) -> bool:
    """Extend our lease; False if it ran out and another run took it."""
    until = timezone.now() + timedelta(seconds=seconds)
    return bool(
        SyncState.objects.filter(organization=organization, lease_token=token).update(
            lease_until=until
        )
    )


def release_lease(organization: Organization, token: str) -> None:
    SyncState.objects.filter(organization=organization, lease_token=token).update(
        lease_token="", lease_until=None
    )


@dataclass
class SyncOverview:
    """What the sync page shows: the connection, last runs, backlog, failures."""

    connected: bool
    flow: str
    login_url: str
    next_run_at: datetime | None
    runs: list[SyncRun]
    backlog: Sequence[Mapping[str, Any]]
    waiting: int
    failed: list[OutboxEntry]


def sync_overview(organization: Organization, last_runs: int = 20) -> SyncOverview:
    config = salesforce_config(organization)
    state = SyncState.objects.filter(organization=organization).first()
    entries = OutboxEntry.objects.filter(organization=organization)
    backlog = list(
        entries.exclude(state=OutboxEntry.State.SENT)
        .values("sobject", "state")
        .annotate(rows=Count("pk"))
        .order_by("sobject", "state")
    )
    return SyncOverview(
        connected=config is not None,
        flow=config.flow if config else "",
        login_url=config.login_url if config else "",
        next_run_at=state.next_run_at if state else None,
        runs=list(
            SyncRun.objects.filter(organization=organization).order_by("-started_at")[
                :last_runs
            ]
        ),
        backlog=backlog,
        waiting=sum(row["rows"] for row in backlog if row["state"] == "pending"),
        failed=list(
            entries.filter(state=OutboxEntry.State.FAILED).order_by(
                "rank", "sobject", "external_id"
            )
        ),
    )

"""Sending the outbox to Salesforce in batches, and acknowledging the results.

Rows go out object by object in rank order (courses before the sections
that look them up), up to ``batch_size`` at a time: one row by the sObject
upsert, up to ``bulk_threshold`` rows by sObject Collections of 200, more
by a Bulk API 2.0 job. A row is marked only once Salesforce's answer for it
is known, and only for the version that was sent: a worker stopped between
sending and acknowledging leaves its rows waiting, and sending them again
upserts the same external ids, so nothing is lost and nothing doubles.

A row Salesforce refused is marked failed with the reason and tried again
after a backoff, alone: the rows that succeeded with it are not resent.
"""

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from entatio.crm.models import OutboxEntry
from entatio.crm.push import EXTERNAL_ID
from entatio.crm.salesforce import RowResult, SalesforceConnector
from entatio.people.models import Organization

logger = logging.getLogger(__name__)

# After this many refusals a row waits for a change or for someone to retry it.
MAX_ROW_ATTEMPTS = 8
ROW_BACKOFF = timedelta(minutes=5)


@dataclass
class PushCounts:
    sent: int = 0
    created: int = 0
    failed: int = 0
    unanswered: int = 0
    superseded: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "created": self.created,
            "failed": self.failed,
            "unanswered": self.unanswered,
            "superseded": self.superseded,
            "calls": self.calls,
        }


def due_entries(organization: Organization, now: datetime) -> QuerySet[OutboxEntry]:
    """Rows waiting to go, and failed rows whose backoff has passed."""
    return OutboxEntry.objects.filter(organization=organization).filter(
        Q(state=OutboxEntry.State.PENDING)
        | Q(
            state=OutboxEntry.State.FAILED,
            next_attempt_at__lte=now,
            attempts__lt=MAX_ROW_ATTEMPTS,
        )
    )


def send_outbox(
    organization: Organization,
    connector: SalesforceConnector,
    keep_going: Callable[[], bool] = lambda: True,
) -> PushCounts:
    """Send every due row once; ``keep_going`` is asked between batches."""
    counts = PushCounts()
    started = timezone.now()
    due = due_entries(organization, started)
    sobjects = list(
        due.order_by("rank", "sobject").values_list("sobject", flat=True).distinct()
    )

    for sobject in sobjects:
        cursor = 0
        while keep_going():
            batch = list(
                due.filter(sobject=sobject, pk__gt=cursor).order_by("pk")[
                    : connector.config.batch_size
                ]
            )
            if not batch:
                break
            cursor = batch[-1].pk
            results = send_batch(connector, sobject, batch, counts)
            acknowledge(batch, results, counts)
    return counts


def send_batch(
    connector: SalesforceConnector,
    sobject: str,
    batch: Sequence[OutboxEntry],
    counts: PushCounts,
) -> list[RowResult]:
    """Send one object's rows by the way that suits their number."""
    config = connector.config
    rows = [entry.payload for entry in batch]

    if len(rows) == 1:
        entry = batch[0]
        _count_call(counts, "sobject")
        return [connector.upsert_one(sobject, EXTERNAL_ID, entry.external_id, rows[0])]
    if len(rows) > config.bulk_threshold:
        _count_call(counts, "bulk")
        return connector.bulk_upsert(sobject, EXTERNAL_ID, rows)

    results: list[RowResult] = []
    for start in range(0, len(rows), config.collection_size):
        _count_call(counts, "collection")
        results += connector.upsert_collection(
            sobject, EXTERNAL_ID, rows[start : start + config.collection_size]
        )
    return results


def acknowledge(
    batch: Sequence[OutboxEntry], results: list[RowResult], counts: PushCounts
) -> None:
    """Mark each row by its result, for the version that was sent."""
    result_of = {result.external_id: result for result in results}
    now = timezone.now()

    with transaction.atomic():
        for entry in batch:
            result = result_of.get(entry.external_id)
            if result is None:
                counts.unanswered += 1
                continue
            sent = OutboxEntry.objects.filter(pk=entry.pk, version=entry.version)
            if result.ok:
                marked = sent.update(
                    state=OutboxEntry.State.SENT,
                    sent_at=now,
                    attempts=0,
                    last_error="",
                    next_attempt_at=None,
                    salesforce_id=result.salesforce_id[:18],
                )
                counts.sent += marked
                counts.created += marked * int(result.created)
            else:
                marked = sent.update(
                    state=OutboxEntry.State.FAILED,
                    attempts=F("attempts") + 1,
                    last_error=result.error[:2000] or "refused without a reason",
                    next_attempt_at=now + ROW_BACKOFF * 2 ** min(entry.attempts, 6),
                )
                counts.failed += marked
            # A row changed while it was on its way stays waiting, to go again.
            counts.superseded += 1 - marked

    if counts.failed:
        logger.warning(
            "Salesforce refused %d rows so far; they are on the sync page",
            counts.failed,
        )


def retry_failed(organization: Organization) -> int:
    """Make every failed row due now, e.g. after fixing the org's setup."""
    return OutboxEntry.objects.filter(
        organization=organization, state=OutboxEntry.State.FAILED
    ).update(state=OutboxEntry.State.PENDING, attempts=0, next_attempt_at=None)


def _count_call(counts: PushCounts, way: str) -> None:
    counts.calls[way] = counts.calls.get(way, 0) + 1

"""Background work of ingest: making slides, and watching for stalled imports.

The watch is a chain of tasks, as the CRM's and insights' schedules are: each
run, when done, enqueues the next one with ``run_after`` one interval ahead,
so the worker that makes the slides also notices an import a dead run left
half made while the server keeps running. Ingest keeps no table of its own
for the chain's token: the queue is the record. Each link carries its chain's
token, and a link ends without running when a live link (waiting or running)
of a chain with a greater token exists, so two chains started at once (two
servers starting together) fold into one, never zero; a server that starts
while a link waits starts none.
"""

import logging
import uuid
from datetime import timedelta

from django.utils import timezone
from django_tasks import (
    DEFAULT_TASK_BACKEND_ALIAS,
    default_task_backend,
    task,
    task_backends,
)
from django_tasks.base import TaskResultStatus
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

from entatio.ingest.imports import (
    ImportRefused,
    claim,
    ingest_claimed_source,
    resume_stalled_imports,
)
from entatio.library.models import Source

logger = logging.getLogger(__name__)

WATCH_INTERVAL = timedelta(minutes=2)
# A check takes a few queries: a link running this long lost its worker.
RUNNING_TOO_LONG = timedelta(minutes=1)


@task()
def ingest_source_task(source_id: int) -> dict:
    """Make the slides of one source, unless someone else already is."""
    source = Source.objects.filter(pk=source_id).first()
    if source is None or not claim(source):
        # Deleted, or made (or being made) by another run, such as the
        # command line's: nothing to do, and nothing to wait for.
        return {"source_id": source_id, "skipped": True}

    try:
        presentation = ingest_claimed_source(source, None)
    except ImportRefused:
        # The source is marked failed with the reason the uploader sees;
        # the worker goes on with the next task.
        return {"source_id": source_id, "status": source.status}
    return {
        "source_id": source_id,
        "status": source.status,
        "presentation_id": presentation.pk,
    }


@task()
def watch_stalled_imports_task(chain: str) -> dict:
    """One link of the watch: queue stalled imports again, then the next link."""
    if any(other > chain for other in _live_chains()):
        return {"resumed": 0, "retired": True}

    resumed = 0
    try:
        resumed = resume_stalled_imports()
        if resumed:
            logger.warning("Queued again %d imports no worker was making", resumed)
    except Exception:
        # The watch must outlive a failed check; the next link tries again.
        logger.exception("The watch for stalled imports failed")
    finally:
        _enqueue_watch(chain, WATCH_INTERVAL)
    return {"resumed": resumed, "retired": False}


def ensure_stall_watch() -> bool:
    """Start the watch unless a live chain has it; True if a chain runs."""
    if not _chains_kept_in_queue():
        return False
    if _live_chains():
        return True

    _enqueue_watch(uuid.uuid4().hex, timedelta(0))
    logger.info("Started the watch for stalled imports, every %s", WATCH_INTERVAL)
    return True


def _chains_kept_in_queue() -> bool:
    # Only the database queue runs deferred links and can be read back.
    return default_task_backend.supports_defer and isinstance(
        task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend
    )


def _live_chains() -> set[str]:
    """The chain tokens of the links waiting in the queue or running now.

    A waiting link, however late, runs when a worker is free; a running one
    whose worker died stays marked running forever, so only recent ones count.
    """
    if not _chains_kept_in_queue():
        return set()
    links = DBTaskResult.objects.filter(
        task_path=watch_stalled_imports_task.module_path
    )
    waiting = links.filter(status=TaskResultStatus.READY)
    running = links.filter(
        status=TaskResultStatus.RUNNING,
        started_at__gt=timezone.now() - RUNNING_TOO_LONG,
    )
    return {
        link.args_kwargs["args"][0]
        for link in (waiting | running).only("args_kwargs")
        if link.args_kwargs["args"]
    }


def _enqueue_watch(chain: str, after: timedelta) -> None:
    if not _chains_kept_in_queue():
        return
    run_after = timezone.now() + after
    watch_stalled_imports_task.using(run_after=run_after).enqueue(chain)

"""Imports a dead worker left are queued again while the server runs on."""

import uuid
from datetime import timedelta

import time_machine
from django.core.files.base import ContentFile
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from entatio.cli.server import _resume_background_work
from entatio.ingest.tasks import (
    WATCH_INTERVAL,
    ensure_stall_watch,
    watch_stalled_imports_task,
)
from entatio.library.models import Source
from tests.test_web_fixtures import png_bytes

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
WATCH = "entatio.ingest.tasks.watch_stalled_imports_task"
INGEST = "entatio.ingest.tasks.ingest_source_task"


def source_left_processing(portal, minutes_ago: int) -> Source:
    """An upload a worker took, made progress on, then died with."""
    with time_machine.travel(timezone.now() - timedelta(minutes=minutes_ago)):
        source = Source(
            portal=portal,
            original_name="diagram.png",
            kind="png",
            content_hash=uuid.uuid4().hex,
            status=Source.Status.PROCESSING,
            progress_done=0,
            progress_total=1,
        )
        source.file.save("diagram.png", ContentFile(png_bytes("teal")), save=False)
        source.save()
    return source


def links(task_path: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=task_path).order_by("run_after"))


def test_a_watch_makes_the_slides_of_an_import_a_dead_worker_left(portal):
    stalled = source_left_processing(portal, minutes_ago=30)
    lively = source_left_processing(portal, minutes_ago=1)

    result = watch_stalled_imports_task.call(uuid.uuid4().hex)

    assert result == {"resumed": 1, "retired": False}
    stalled.refresh_from_db()
    assert stalled.status == Source.Status.READY
    assert (stalled.progress_done, stalled.progress_total) == (1, 1)
    assert stalled.presentations.get().slides.count() == 1
    # Still within the stall window: its worker may be converting.
    lively.refresh_from_db()
    assert lively.status == Source.Status.PROCESSING
    assert not lively.presentations.exists()


def test_the_watch_starts_once_and_each_link_queues_the_next(portal, settings):
    settings.TASKS = DATABASE_QUEUE
    stalled = source_left_processing(portal, minutes_ago=30)

    assert ensure_stall_watch()
    assert ensure_stall_watch()
    [first] = links(WATCH)
    assert first.run_after <= timezone.now()

    chain = first.args_kwargs["args"][0]
    assert watch_stalled_imports_task.call(chain) == {"resumed": 1, "retired": False}

    [queued] = links(INGEST)
    assert queued.args_kwargs["args"] == [stalled.pk]
    _, following = links(WATCH)
    assert following.args_kwargs["args"] == [chain]
    delay = following.run_after - timezone.now()
    assert WATCH_INTERVAL - timedelta(seconds=5) < delay <= WATCH_INTERVAL


def test_a_source_waiting_in_the_queue_is_not_queued_again(portal, settings):
    settings.TASKS = DATABASE_QUEUE
    stalled = source_left_processing(portal, minutes_ago=30)
    chain = uuid.uuid4().hex

    watch_stalled_imports_task.call(chain)
    again = watch_stalled_imports_task.call(chain)

    assert again == {"resumed": 0, "retired": False}
    assert [link.args_kwargs["args"] for link in links(INGEST)] == [[stalled.pk]]


def test_of_two_chains_one_retires_and_one_goes_on(portal, settings):
    settings.TASKS = DATABASE_QUEUE
    low, high = "0" * 32, "f" * 32
    for chain in (low, high):
        watch_stalled_imports_task.using(run_after=timezone.now()).enqueue(chain)

    assert watch_stalled_imports_task.call(low) == {"resumed": 0, "retired": True}
    assert watch_stalled_imports_task.call(high) == {"resumed": 0, "retired": False}
    assert ensure_stall_watch()

    waiting = DBTaskResult.objects.filter(task_path=WATCH, status="READY")
    chains = [link.args_kwargs["args"][0] for link in waiting]
    # The two links enqueued above, and the high chain's next one only.
    assert sorted(chains) == [low, high, high]


def test_a_link_whose_worker_died_does_not_hold_the_watch(portal, settings):
    settings.TASKS = DATABASE_QUEUE
    with time_machine.travel(timezone.now() - timedelta(minutes=5)):
        ensure_stall_watch()
    DBTaskResult.objects.filter(task_path=WATCH).update(
        status="RUNNING", started_at=timezone.now() - timedelta(minutes=5)
    )

    assert ensure_stall_watch()

    waiting = DBTaskResult.objects.filter(task_path=WATCH, status="READY")
    assert waiting.count() == 1


def test_server_start_starts_the_watch(portal, settings):
    settings.TASKS = DATABASE_QUEUE

    _resume_background_work()
    _resume_background_work()

    assert len(links(WATCH)) == 1

"""The outbox under stress: a worker killed mid-batch, changes during a send,
one sync at a time, and the schedule's chain of tasks."""

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from entatio.crm import outbox
from entatio.crm.models import OutboxEntry, SyncRun, SyncState
from entatio.crm.push import stage_changes
from entatio.crm.sync import acquire_lease, sync_with_salesforce
from entatio.crm.tasks import ensure_sync_scheduled, scheduled_sync_task
from entatio.engagement.models import ActivityRecord
from tests.personas import *  # noqa: F403
from tests.shared import REPO
from tests.test_crm_fixtures import *  # noqa: F403
from tests.test_crm_fixtures import connect

RECORD = "Entatio_Activity_Record__c"
RECORDS_PATH = f"composite/sobjects/{RECORD}"

# A worker in a process of its own, on the test's database and stand-in.
WORKER = """
import json, sys
import django
from django.conf import settings
settings.DATABASES["default"]["NAME"] = sys.argv[1]
settings.ENTATIO_SALESFORCE = json.loads(sys.argv[2])
django.setup()
from entatio.crm.sync import sync_with_salesforce
from entatio.people.models import Organization
sync_with_salesforce(Organization.objects.get(slug=sys.argv[3]))
"""


class WorkerStopped(BaseException):
    """Stands for the process dying: no ``except Exception`` catches it."""


def assert_complete_without_doubles(standin, course) -> None:
    assert not OutboxEntry.objects.exclude(state="sent").exists()
    assert standin.count(RECORD) == OutboxEntry.objects.filter(sobject=RECORD).count()
    assert standin.count(RECORD) == 6
    assert set(standin.creations.values()) == {1}


def test_a_worker_stopped_between_send_and_acknowledge_loses_and_doubles_nothing(
    org, connected, course, monkeypatch
):
    real_acknowledge = outbox.acknowledge

    def stop_at_records(batch, results, counts):
        if batch[0].sobject == RECORD:
            raise WorkerStopped
        real_acknowledge(batch, results, counts)

    monkeypatch.setattr(outbox, "acknowledge", stop_at_records)
    with pytest.raises(WorkerStopped):
        sync_with_salesforce(org)

    # Salesforce has the records; Entatio does not know it yet.
    assert connected.count(RECORD) == 6
    assert OutboxEntry.objects.filter(sobject=RECORD, state="pending").count() == 6
    assert SyncRun.objects.get().outcome == "interrupted"

    monkeypatch.setattr(outbox, "acknowledge", real_acknowledge)
    run = sync_with_salesforce(org)

    assert run.outcome == "done"
    assert run.counts["pushed"]["sent"] == 6
    assert run.counts["pushed"]["created"] == 0
    assert_complete_without_doubles(connected, course)
    assert {connected.writes[(RECORD, key)] for key in _record_keys()} == {2}


def test_a_worker_process_killed_mid_batch_is_finished_by_the_next_run(
    org, standin, settings, course
):
    connect(settings, org, standin)
    standin.hold_after(RECORDS_PATH)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            WORKER,
            str(connection.settings_dict["NAME"]),
            json.dumps(settings.ENTATIO_SALESFORCE),
            org.slug,
        ],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        assert standin.held.wait(timeout=60), worker.communicate(timeout=5)[0]
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        standin.release.set()
        if worker.poll() is None:
            worker.kill()

    assert worker.returncode == -signal.SIGKILL
    assert standin.count(RECORD) == 6
    assert OutboxEntry.objects.filter(sobject=RECORD, state="pending").count() == 6
    assert OutboxEntry.objects.filter(state="sent").count() == 4

    # The dead worker's lease holds until it runs out.
    assert sync_with_salesforce(org) is None
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        run = sync_with_salesforce(org)

    assert run.outcome == "done"
    assert run.counts["interrupted_runs"] == 1
    assert run.counts["pushed"]["sent"] == 6
    assert run.counts["pushed"]["created"] == 0
    assert SyncRun.objects.filter(outcome="interrupted").count() == 1
    assert_complete_without_doubles(standin, course)


def test_a_change_made_during_a_send_is_sent_again(org, connected, course, monkeypatch):
    real_acknowledge = outbox.acknowledge
    changed = ActivityRecord.objects.filter(
        member=course.other, slide=course.places[0].slide
    )

    def change_then_acknowledge(batch, results, counts):
        if batch[0].sobject == RECORD:
            changed.update(visits=1, self_paced_visits=1)
            stage_changes(org)
        real_acknowledge(batch, results, counts)

    monkeypatch.setattr(outbox, "acknowledge", change_then_acknowledge)
    first = sync_with_salesforce(org)

    key = f"record-{course.other.pk}-{course.places[0].pk}"
    entry = OutboxEntry.objects.get(external_id=key)
    assert (entry.state, entry.version) == ("pending", 2)
    assert (first.counts["pushed"]["sent"], first.counts["pushed"]["superseded"]) == (
        9,
        1,
    )
    assert connected.external(RECORD, key)["Visits__c"] == 0

    monkeypatch.setattr(outbox, "acknowledge", real_acknowledge)
    second = sync_with_salesforce(org)

    assert second.counts["pushed"]["sent"] == 1
    assert connected.external(RECORD, key)["Visits__c"] == 1
    assert OutboxEntry.objects.get(external_id=key).state == "sent"


def test_only_one_sync_of_an_organization_runs_at_a_time(org, connected, course):
    held = acquire_lease(org, seconds=600)
    assert held is not None

    assert sync_with_salesforce(org) is None
    assert connected.count(RECORD) == 0
    assert acquire_lease(org, seconds=600) is None


def test_the_schedule_is_a_chain_of_deferred_tasks(org, connected, course, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    started = timezone.now()

    assert ensure_sync_scheduled(org) is True
    first_link = DBTaskResult.objects.get()
    state = SyncState.objects.get(organization=org)
    assert first_link.task_path == "entatio.crm.tasks.scheduled_sync_task"
    assert first_link.args_kwargs["args"] == [org.pk, state.chain_token]
    assert started <= first_link.run_after <= timezone.now()

    # On time: asking again starts no second chain.
    assert ensure_sync_scheduled(org) is True
    assert DBTaskResult.objects.count() == 1

    result = scheduled_sync_task.call(org.pk, state.chain_token)

    assert result["retired"] is False
    assert SyncRun.objects.get(pk=result["run"]).outcome == "done"
    next_link = DBTaskResult.objects.order_by("-run_after").first()
    delay = next_link.run_after - timezone.now()
    assert timedelta(seconds=890) < delay <= timedelta(seconds=900)
    state.refresh_from_db()
    assert state.next_run_at == next_link.run_after


def test_an_overdue_chain_is_replaced_and_the_old_one_retires(org, connected, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    ensure_sync_scheduled(org)
    old_chain = SyncState.objects.get(organization=org).chain_token

    with time_machine.travel(timezone.now() + timedelta(minutes=30)):
        assert ensure_sync_scheduled(org) is True
        new_chain = SyncState.objects.get(organization=org).chain_token
        retired = scheduled_sync_task.call(org.pk, old_chain)

    assert new_chain != old_chain
    assert retired == {"run": None, "retired": True}
    assert DBTaskResult.objects.count() == 2
    assert not SyncRun.objects.exists()


def _record_keys() -> list[str]:
    return list(
        OutboxEntry.objects.filter(sobject=RECORD).values_list("external_id", flat=True)
    )

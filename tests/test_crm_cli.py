"""``entatio crm import`` and ``entatio crm sync``, called as the parser will."""

import argparse
import json

import pytest

from entatio.cli import crm
from entatio.cli.output import CommandError
from entatio.crm.models import SyncRun
from entatio.people.models import Account
from tests.personas import *  # noqa: F403
from tests.test_crm_fixtures import *  # noqa: F403
from tests.test_crm_fixtures import connect
from tests.test_crm_import import dataset


def import_arguments(**given) -> argparse.Namespace:
    defaults = {
        "accounts": None,
        "contacts": None,
        "opportunities": None,
        "portal": None,
        "json": True,
    }
    return argparse.Namespace(**{**defaults, **given})


def test_import_prints_one_json_document_and_exits_0(portal, capsys):
    folder = dataset("salesforce_data_cloud_workshop")

    status = crm.import_crm(
        import_arguments(
            accounts=str(folder / "Account.csv"),
            opportunities=str(folder / "Opportunity.csv"),
        )
    )

    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["organization"] == "acme"
    assert document["accounts"]["created"] == 22
    assert document["opportunities"]["created"] == 50
    assert document["contacts"]["created"] == 0


def test_refused_rows_go_to_stderr_with_file_and_line_and_exit_2(
    portal, tmp_path, capsys
):
    accounts = tmp_path / "accounts.csv"
    accounts.write_text("Id,Name\n001Ec00000GGw3h,Walker\n,\n", encoding="utf-8")

    status = crm.import_crm(import_arguments(accounts=str(accounts), json=False))

    out, err = capsys.readouterr()
    assert status == 2
    assert "accounts    1        0          0        0        1" in out
    assert err == (
        "entatio: accounts.csv line 3 has no account name; fix it and import again.\n"
    )
    assert Account.objects.get().crm_id == "001Ec00000GGw3hIAD"


def test_import_without_files_says_what_to_give(portal):
    with pytest.raises(CommandError) as refused:
        crm.import_crm(import_arguments())

    assert str(refused.value) == (
        "Give at least one file: --accounts A.csv, --contacts C.csv or "
        "--opportunities O.csv."
    )


def test_import_of_a_missing_or_wrong_file_says_what_to_fix(portal, tmp_path):
    with pytest.raises(CommandError) as missing:
        crm.import_crm(import_arguments(contacts=str(tmp_path / "nope.csv")))
    assert str(missing.value) == (
        f"There is no file {tmp_path / 'nope.csv'}; check the name and path."
    )

    wrong = tmp_path / "contacts.csv"
    wrong.write_text("Name,Phone\nAda,1\n", encoding="utf-8")
    with pytest.raises(CommandError) as refused:
        crm.import_crm(import_arguments(contacts=str(wrong)))
    assert "has neither an 'Id' nor an 'Email' column" in str(refused.value)


def test_sync_runs_once_and_reports(org, portal, connected, course, capsys):
    status = crm.sync(argparse.Namespace(portal=None, json=True))

    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["outcome"] == "done"
    assert document["counts"]["pushed"]["sent"] == 10
    assert document["failed_rows"] == []
    # The test settings' task backend cannot defer, so no schedule starts.
    assert document["scheduled"] is False
    assert SyncRun.objects.get().trigger == "command"


def test_sync_with_refused_rows_lists_them_and_exits_2(
    org, portal, connected, course, capsys
):
    refused = f"record-{course.other.pk}-{course.places[0].pk}"
    connected.reject("Entatio_Activity_Record__c", refused, "BAD", "Not today")

    status = crm.sync(argparse.Namespace(portal=None, json=False))

    out, err = capsys.readouterr()
    assert status == 2
    assert out.startswith("Sync ")
    assert "Done with failed rows." in out
    assert err == (
        f"entatio: Entatio_Activity_Record__c {refused} was refused: BAD: Not today\n"
    )


def test_sync_without_a_connection_says_how_to_add_one(org, portal, settings):
    settings.ENTATIO_SALESFORCE = {}

    with pytest.raises(CommandError) as refused:
        crm.sync(argparse.Namespace(portal=None, json=False))

    assert str(refused.value) == (
        "Acme Software has no Salesforce connection; add it to ENTATIO_SALESFORCE "
        "in the settings (or the ENTATIO_SALESFORCE_* environment variables)."
    )


def test_sync_with_a_bad_setting_names_it(org, portal, standin, settings):
    connect(settings, org, standin, password="x")

    with pytest.raises(CommandError) as refused:
        crm.sync(argparse.Namespace(portal=None, json=False))

    assert str(refused.value).startswith("Unknown Salesforce settings: password;")

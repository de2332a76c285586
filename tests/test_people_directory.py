from pathlib import Path

import pytest

from entatio.people.directory import (
    DirectoryError,
    import_people,
    read_people_csv,
)
from entatio.people.models import Account, Member, SharingGroup
from tests.shared import shared_dir

PEOPLE = """\
email,first_name,last_name,user_type,account,title,region,team,start
ada@globex.test,Ada,Lovelace,admin,Globex,CTO,EMEA,platform,2024
BOB@initech.test,Bob,Porter,developer,Initech,Engineer,AMER,,
"""


def write(tmp_path: Path, text: str, name: str = "people.csv") -> Path:
    file = tmp_path / name
    file.write_text(text, encoding="utf-8")
    return file


def test_known_columns_fill_the_member_and_others_become_attributes(portal, tmp_path):
    group = SharingGroup.objects.create(portal=portal, name="Pilot")

    result = import_people(portal, read_people_csv(write(tmp_path, PEOPLE)), group)

    assert [m.email for m in result.created] == ["ada@globex.test", "bob@initech.test"]
    assert result.errors == []
    ada = Member.objects.get(portal=portal, email="ada@globex.test")
    assert (ada.first_name, ada.last_name, ada.user_type) == (
        "Ada",
        "Lovelace",
        "admin",
    )
    assert (ada.title, ada.region, ada.account.name) == ("CTO", "EMEA", "Globex")
    assert ada.attributes == {"team": "platform", "start": "2024"}
    assert Member.objects.get(email="bob@initech.test").attributes == {}
    assert sorted(a.name for a in result.accounts_created) == ["Globex", "Initech"]
    assert set(group.members.values_list("email", flat=True)) == {
        "ada@globex.test",
        "bob@initech.test",
    }


def test_importing_the_same_file_again_changes_nothing(portal, tmp_path):
    file = write(tmp_path, PEOPLE)
    import_people(portal, read_people_csv(file))

    again = import_people(portal, read_people_csv(file))

    assert (len(again.created), len(again.updated), len(again.unchanged)) == (0, 0, 2)
    assert again.accounts_created == []
    assert Account.objects.count() == 2


def test_a_changed_row_updates_only_that_member(portal, tmp_path):
    import_people(portal, read_people_csv(write(tmp_path, PEOPLE)))
    changed = PEOPLE.replace("Engineer,AMER", "Architect,AMER")

    result = import_people(portal, read_people_csv(write(tmp_path, changed)))

    assert [m.email for m in result.updated] == ["bob@initech.test"]
    assert Member.objects.get(email="bob@initech.test").title == "Architect"


def test_bad_rows_are_reported_by_line_and_good_rows_kept(portal, tmp_path):
    text = (
        "email,first_name,notes\n"
        "ok@globex.test,Ok,\n"
        ",Nobody,\n"
        "not-an-address,Bad,\n"
        '"multi@globex.test",Multi,"two\nlines"\n'
        "OK@globex.test,Again,\n"
        "extra@globex.test,Extra,x,surplus\n"
    )

    result = import_people(portal, read_people_csv(write(tmp_path, text)))

    assert sorted(m.email for m in result.created) == [
        "multi@globex.test",
        "ok@globex.test",
    ]
    assert result.errors == [
        (3, "has no e-mail address"),
        (4, "has an invalid e-mail address 'not-an-address'"),
        (7, "repeats ok@globex.test of line 2"),
        (8, "has more cells than the header has columns"),
    ]
    assert Member.objects.get(email="multi@globex.test").attributes == {
        "notes": "two\nlines"
    }


def test_a_file_without_an_email_column_is_refused(portal, tmp_path):
    file = write(tmp_path, "name,title\nAda,CTO\n")

    with pytest.raises(DirectoryError, match="has no e-mail column"):
        import_people(portal, read_people_csv(file))
    assert Member.objects.count() == 0


def test_accounts_are_matched_by_crm_id_or_name(portal, org, tmp_path):
    globex = Account.objects.create(organization=org, name="Globex", crm_id="001G")
    text = (
        "Email,FirstName,LastName,Title,AccountId\n"
        "ada@globex.test,Ada,L,CTO,001G\n"
        "new@hooli.test,New,H,CEO,001H\n"
    )

    result = import_people(portal, read_people_csv(write(tmp_path, text)))

    ada = Member.objects.get(email="ada@globex.test")
    assert ada.account == globex
    assert (ada.first_name, ada.title) == ("Ada", "CTO")
    assert [(a.name, a.crm_id) for a in result.accounts_created] == [("001H", "001H")]
    assert Member.objects.get(email="new@hooli.test").account.crm_id == "001H"


def test_a_salesforce_contact_export_imports_with_its_accounts(portal):
    contacts = shared_dir() / "datasets/salesforce_data_cloud_workshop/Contact.csv"
    if not contacts.exists():
        pytest.skip("the shared data sets are not on this machine")

    result = import_people(portal, read_people_csv(contacts))

    assert result.errors == []
    assert len(result.created) == 102
    patricia = Member.objects.get(email="patricia.ryan@example.com")
    assert (patricia.first_name, patricia.last_name) == ("Patricia", "Ryan")
    assert patricia.attributes["Id"] == "003Ec00000CyOT7IAN"
    assert patricia.attributes["MailingCity"] == "Anthonyton"
    # 18 contacts name one of 16 accounts by its Salesforce id.
    assert Member.objects.filter(account__isnull=False).count() == 18
    assert Account.objects.exclude(crm_id="").count() == 16


def test_a_salesforce_report_export_reads_its_prefixed_columns(portal):
    report = shared_dir() / "datasets/salesforce_trailhead_lwc_recipes"
    if not report.exists():
        pytest.skip("the shared data sets are not on this machine")

    result = import_people(portal, read_people_csv(report / "Accounts-Contacts.csv"))

    assert len(result.created) == 6
    amy = Member.objects.get(email="amy@demo.net")
    assert (amy.first_name, amy.title, amy.account.name) == (
        "Amy",
        "VP of Engineering",
        "Alpha Dynamics",
    )
    # Accounts listed without a contact are rows without an e-mail address.
    assert [line for line, _ in result.errors] == list(range(8, 16))

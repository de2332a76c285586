"""CSV import of accounts, contacts and opportunities.

The public CRM data sets are read in place: Salesforce's own Data Loader
export, Trailhead's lower-case sample files with '@AccountRefN' references,
a report export ('Account: Account Name'), and Maven's CRM files.
"""

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from entatio.crm.ids import salesforce_id_18
from entatio.crm.importing import CrmFileError, import_crm_files
from entatio.crm.models import Contact, MemberContact, Opportunity
from entatio.crm.sales import sales_over_time
from entatio.engagement.privacy import erase_member
from entatio.people.models import Account
from tests.personas import *  # noqa: F403
from tests.personas import make_member
from tests.shared import shared_dir


def dataset(name: str) -> Path:
    path = shared_dir() / "datasets" / name
    if not path.exists():
        pytest.skip(f"the data set {name} is not on this machine")
    return path


def counts(part: dict) -> tuple[int, int, int, int]:
    return part["created"], part["updated"], part["unchanged"], len(part["errors"])


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8-sig")
    return path


# The data sets -----------------------------------------------------------------


def test_salesforce_data_loader_export(org, portal):
    folder = dataset("salesforce_data_cloud_workshop")
    ashley = make_member(portal, "Ashley.Brock@example.com")
    files = {
        "accounts": folder / "Account.csv",
        "contacts": folder / "Contact.csv",
        "opportunities": folder / "Opportunity.csv",
    }

    first = import_crm_files(org, **files).as_dict()

    assert counts(first["accounts"]) == (22, 0, 0, 0)
    assert counts(first["contacts"]) == (102, 0, 0, 0)
    assert counts(first["opportunities"]) == (50, 0, 0, 0)
    walker = Account.objects.get(crm_id="001Ec00000GGw3hIAD")
    assert (walker.name, walker.industry, walker.employees) == (
        "Walker Henson and Compton",
        "Finance",
        577,
    )
    assert (walker.annual_revenue, walker.region) == (
        Decimal("6759560.00"),
        "United States",
    )
    deal = Opportunity.objects.get(name="Hill Group - Business Loans - June 2023")
    assert (deal.is_won, deal.is_closed, deal.amount, deal.close_date) == (
        True,
        True,
        Decimal("1651993.36"),
        date(2023, 6, 17),
    )
    assert deal.product == "Business Loans"
    won = Opportunity.objects.filter(organization=org, is_won=True)
    assert sum(o.amount for o in won) == Decimal("10542562.98")
    ashley.refresh_from_db()
    assert ashley.account == walker
    contact = MemberContact.objects.get(member=ashley).contact
    assert contact.modified_at == datetime(2024, 1, 23, 3, 54, 57, tzinfo=UTC)
    assert counts(first["members_matched"]) == (1, 0, 0, 0)

    second = import_crm_files(org, **files).as_dict()

    assert counts(second["accounts"]) == (0, 0, 22, 0)
    assert counts(second["contacts"]) == (0, 0, 102, 0)
    assert counts(second["opportunities"]) == (0, 0, 50, 0)
    assert counts(second["members_matched"]) == (0, 0, 1, 0)


def test_trailhead_lower_case_files_with_account_references(org):
    folder = dataset("salesforce_trailhead_apex_recipes")
    files = {
        "accounts": folder / "Accounts.csv",
        "contacts": folder / "Contacts.csv",
        "opportunities": folder / "Opportunities.csv",
    }

    first = import_crm_files(org, **files).as_dict()

    assert counts(first["accounts"]) == (50, 0, 0, 0)
    assert counts(first["contacts"]) == (150, 0, 0, 0)
    assert counts(first["opportunities"]) == (50, 0, 0, 0)
    # '@AccountRef10' is the tenth row of Accounts.csv.
    lianna = Contact.objects.get(email="lsinisbury0@dropbox.com")
    assert (lianna.account.name, lianna.title) == ("Blogtags 78", "Statistician I")
    zoonoodle = Account.objects.get(name="Zoonoodle 37")
    # 'n/a' is no industry.
    assert (zoonoodle.industry, zoonoodle.account_type, zoonoodle.employees) == (
        "",
        "Customer",
        28549,
    )
    starling = Opportunity.objects.get(name="Cape starling")
    assert (starling.close_date, starling.amount, starling.is_won) == (
        date(2020, 12, 22),
        Decimal("119373.34"),
        False,
    )

    second = import_crm_files(org, **files).as_dict()
    assert [
        counts(second[k])[2] for k in ("accounts", "contacts", "opportunities")
    ] == [
        50,
        150,
        50,
    ]


def test_account_references_need_their_accounts_file(org):
    folder = dataset("salesforce_trailhead_apex_recipes")

    result = import_crm_files(org, contacts=folder / "Contacts.csv").as_dict()

    assert counts(result["contacts"]) == (0, 0, 0, 150)
    assert result["contacts"]["errors"][0] == {
        "line": 2,
        "reason": "refers to @AccountRef10, which names a row of the accounts file "
        "it came with; import that file together with this one",
    }


def test_report_export_layout(org):
    export = dataset("salesforce_trailhead_lwc_recipes") / "Accounts-Contacts.csv"

    result = import_crm_files(org, accounts=export, contacts=export).as_dict()

    # Fourteen rows: an account on each of its contacts' rows, and eight
    # accounts without contacts on rows of their own.
    assert counts(result["accounts"]) == (10, 0, 0, 0)
    assert counts(result["contacts"]) == (6, 0, 0, 0)
    assert result["contacts"]["skipped"] == 8
    amy = Contact.objects.get(email="amy@demo.net")
    assert (amy.first_name, amy.last_name, amy.title) == (
        "Amy",
        "Taylor",
        "VP of Engineering",
    )
    assert (amy.account.name, amy.account.account_type) == (
        "Alpha Dynamics",
        "Technology Partner",
    )


def test_maven_accounts_and_pipeline(org):
    folder = dataset("maven_crm_sales_opportunities")
    files = {
        "accounts": folder / "accounts.csv",
        "opportunities": folder / "sales_pipeline.csv",
    }

    result = import_crm_files(org, **files).as_dict()

    assert counts(result["accounts"]) == (85, 0, 0, 0)
    assert counts(result["opportunities"]) == (7375, 0, 0, 1425)
    assert result["opportunities"]["errors"][:3] == [
        {"line": line, "reason": "has no account; an opportunity needs one"}
        for line in (11, 44, 46)
    ]
    acme = Account.objects.get(name="Acme Corporation")
    # Maven gives revenue in millions; the sector typo is the source's own.
    assert (acme.annual_revenue, acme.industry, acme.employees, acme.region) == (
        Decimal("1100040000.00"),
        "technolgy",
        2822,
        "United States",
    )
    won = Opportunity.objects.filter(organization=org, is_won=True)
    assert won.count() == 4238
    assert sum(o.amount for o in won) == Decimal("10005534")
    assert Opportunity.objects.get(crm_id="Z063OYW0").product == "GTXPro"

    march = [
        p
        for p in sales_over_time(org)
        if p.account == "Acme Corporation" and p.period == date(2017, 3, 1)
    ]
    assert [(p.won_amount, p.won_deals) for p in march] == [(Decimal("5550.00"), 3)]

    again = import_crm_files(org, **files).as_dict()
    assert counts(again["opportunities"]) == (0, 0, 7375, 1425)


# Rows and files with problems ------------------------------------------------------


def test_bad_rows_are_reported_by_line_and_good_rows_kept(org, tmp_path):
    id15 = "001Ec00000GGw3h"
    accounts = write(
        tmp_path,
        "accounts.csv",
        "Id,Name,NumberOfEmployees,AnnualRevenue\n"
        f"{id15},Walker,577,6759560\n"
        "001Ec00000GGw3hAAA,Broken checksum,1,1\n"
        "001Ec00000GGw3iIAD,Counting,many,1\n"
        "001Ec00000GGw3iIAD,,1,1\n"
        f"{id15}IAD,Walker again,1,1\n"
        "001Ec00000GGw3j,Extra,1,1,surplus\n",
    )
    contacts = write(
        tmp_path,
        "contacts.csv",
        "Id,AccountId,Email,LastName,SystemModstamp\n"
        f"003Ec00000CyOT7IAN,{id15},ADA@Globex.test,Lovelace,2024-01-23T02:21:49.000+0000\n"
        "003Ec00000CyOT8,001Ec00000ZZZZZ,bo@globex.test,Bo,\n"
        "003Ec00000CyOT9,,not-an-address,Nobody,\n"
        "003Ec00000CyOTA,,cy@globex.test,Cy,yesterday\n",
    )
    opportunities = write(
        tmp_path,
        "opportunities.csv",
        "Id,AccountId,Name,StageName,Amount,CloseDate,IsWon,IsClosed\n"
        f"006Ec00000AieKGIAZ,{id15},Deal,Closed Won,1000,2024-02-01,1,1\n"
        f"006Ec00000AieKH,{id15},Odd,Closed Won,lots,2024-02-01,1,1\n"
        f"006Ec00000AieKI,{id15},Late,Prospecting,5,31.12.2024,0,0\n"
        f"006Ec00000AieKJ,{id15},Maybe,Prospecting,5,2024-12-31,maybe,0\n",
    )

    result = import_crm_files(org, accounts, contacts, opportunities).as_dict()

    assert result["accounts"]["errors"] == [
        {
            "line": 3,
            "reason": "'001Ec00000GGw3hAAA' is not a Salesforce Id: its last three "
            "characters do not match the first fifteen",
        },
        {"line": 4, "reason": "has employees 'many', not a number"},
        {"line": 5, "reason": "has no account name"},
        {"line": 6, "reason": "repeats account 'Walker again' of line 2"},
        {"line": 7, "reason": "has more cells than the header has columns"},
    ]
    walker = Account.objects.get(organization=org)
    # The 15-character Id is kept in its 18-character form.
    assert (walker.crm_id, walker.name) == (salesforce_id_18(id15), "Walker")
    assert walker.crm_id == "001Ec00000GGw3hIAD"

    assert [e["line"] for e in result["contacts"]["errors"]] == [3, 4, 5]
    assert result["contacts"]["errors"][0]["reason"] == (
        "refers to account 001Ec00000ZZZZZ, which is not among the accounts; "
        "import the accounts first or together"
    )
    assert result["contacts"]["errors"][1]["reason"] == (
        "has an invalid e-mail address 'not-an-address'"
    )
    assert result["contacts"]["errors"][2]["reason"] == (
        "has SystemModstamp 'yesterday', not a date and time"
    )
    assert Contact.objects.get().email == "ada@globex.test"

    assert result["opportunities"]["errors"] == [
        {"line": 3, "reason": "has amount 'lots', not an amount"},
        {
            "line": 4,
            "reason": "has close date '31.12.2024', not a date like 2024-11-30",
        },
        {"line": 5, "reason": "has IsWon 'maybe', not true or false"},
    ]
    assert Opportunity.objects.get().account == walker

    again = import_crm_files(org, accounts, contacts, opportunities).as_dict()
    assert counts(again["accounts"]) == (0, 0, 1, 5)
    assert counts(again["contacts"]) == (0, 0, 1, 3)
    assert counts(again["opportunities"]) == (0, 0, 1, 3)


def test_a_changed_row_updates_only_what_changed(org, tmp_path):
    header = "Id,Name,Industry,NumberOfEmployees\n"
    first = write(tmp_path, "a.csv", header + "001Ec00000GGw3hIAD,Walker,Finance,5\n")
    import_crm_files(org, accounts=first)

    changed = write(tmp_path, "b.csv", header + "001Ec00000GGw3hIAD,Walker,Banking,5\n")
    result = import_crm_files(org, accounts=changed).as_dict()

    assert counts(result["accounts"]) == (0, 1, 0, 0)
    assert Account.objects.get().industry == "Banking"


def test_a_file_without_the_needed_columns_is_refused_before_any_write(org, tmp_path):
    accounts = write(tmp_path, "accounts.csv", "Id,Name\n001Ec00000GGw3hIAD,Walker\n")
    wrong = write(tmp_path, "opportunities.csv", "Id,Name\n006Ec00000AieKGIAZ,Deal\n")

    with pytest.raises(CrmFileError) as refused:
        import_crm_files(org, accounts=accounts, opportunities=wrong)

    assert str(refused.value) == (
        "opportunities.csv has no account column; an opportunities file needs "
        "'AccountId' (or an account name column)."
    )
    assert not Account.objects.exists()


def test_an_account_made_by_the_people_import_gets_its_name_and_details(
    org, portal, tmp_path
):
    """The people CSV may name an account by its bare CRM id."""
    placeholder = Account.objects.create(
        organization=org, name="001Ec00000GGw3h", crm_id="001Ec00000GGw3h"
    )
    member = make_member(portal, "ada@globex.test", account=placeholder)
    accounts = write(
        tmp_path, "a.csv", "Id,Name,Industry\n001Ec00000GGw3hIAD,Walker,Finance\n"
    )

    result = import_crm_files(org, accounts=accounts).as_dict()

    assert counts(result["accounts"]) == (0, 1, 0, 0)
    placeholder.refresh_from_db()
    assert (placeholder.name, placeholder.crm_id, placeholder.industry) == (
        "Walker",
        "001Ec00000GGw3hIAD",
        "Finance",
    )
    member.refresh_from_db()
    assert member.account == placeholder


def test_two_accounts_of_one_name_are_told_apart_by_their_ids(org, tmp_path):
    accounts = write(
        tmp_path,
        "a.csv",
        "Id,Name\n001Ec00000GGw3hIAD,Globex\n001Ec00000GGw3iIAD,Globex\n",
    )

    import_crm_files(org, accounts=accounts)

    assert sorted(Account.objects.values_list("name", flat=True)) == [
        "Globex",
        "Globex (001Ec00000GGw3iIAD)",
    ]
    again = import_crm_files(org, accounts=accounts).as_dict()
    assert counts(again["accounts"]) == (0, 0, 2, 0)


def test_an_erased_member_is_not_linked_to_a_contact(org, portal, member, tmp_path):
    contacts = write(
        tmp_path, "c.csv", "Id,Email\n003Ec00000CyOT7IAN,ada@globex.test\n"
    )
    import_crm_files(org, contacts=contacts)
    assert MemberContact.objects.filter(member=member).exists()

    erase_member(member)
    assert not MemberContact.objects.filter(member=member).exists()
    result = import_crm_files(org, contacts=contacts).as_dict()

    assert counts(result["members_matched"]) == (0, 0, 0, 0)
    assert not MemberContact.objects.filter(member=member).exists()

"""Accounts, contacts and opportunities into Entatio, from CSV or the CRM.

The CSV readers turn each data row into a row object or a problem with its
line number; the upsert functions take rows from any source (a file, or the
Salesforce pull) and report what they created, changed and left alone, so
importing the same rows twice changes nothing the second time. Contacts
then find their members by e-mail, and members get the contact's account.

Rows without a Salesforce Id are keyed by what the file has: an account by
its name, a contact by its e-mail, an opportunity by account, name and close
date. ``@AccountRefN`` cells (Trailhead's sample files) name the N-th data
row of the accounts file imported with them.
"""

import csv
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model
from django.db.models.functions import Lower

from entatio.crm import columns as cells
from entatio.crm.columns import CellError
from entatio.crm.models import Contact, MemberContact, Opportunity
from entatio.people.models import Account, Member, Organization

logger = logging.getLogger(__name__)

BULK_SIZE = 500
MAX_LENGTHS = {
    "name": 255,
    "industry": 100,
    "account_type": 100,
    "region": 100,
    "first_name": 150,
    "last_name": 150,
    "title": 200,
    "stage": 100,
    "product": 200,
    "crm_id": 64,
}


class CrmFileError(ValueError):
    """A file that cannot be read as that kind of CRM export; says what to fix."""


@dataclass
class RowProblem:
    line: int | None
    reason: str
    reference: str = ""


@dataclass
class AccountRow:
    line: int | None
    crm_id: str
    name: str
    values: dict[str, Any]
    reference: str = ""


@dataclass
class ContactRow:
    line: int | None
    crm_id: str
    email: str
    values: dict[str, Any]
    account_ref: str = ""
    account_name: str = ""
    has_account_column: bool = False


@dataclass
class OpportunityRow:
    line: int | None
    crm_id: str
    name: str
    values: dict[str, Any]
    account_ref: str = ""
    account_name: str = ""


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[tuple[int | None, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": [{"line": n, "reason": r} for n, r in self.errors],
        }


@dataclass
class CrmImport:
    accounts: Counts = field(default_factory=Counts)
    contacts: Counts = field(default_factory=Counts)
    opportunities: Counts = field(default_factory=Counts)
    members: Counts = field(default_factory=Counts)

    @property
    def error_count(self) -> int:
        return sum(
            len(c.errors) for c in (self.accounts, self.contacts, self.opportunities)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "accounts": self.accounts.as_dict(),
            "contacts": self.contacts.as_dict(),
            "opportunities": self.opportunities.as_dict(),
            "members_matched": self.members.as_dict(),
        }


class AccountIndex:
    """The organization's accounts by CRM id and by name, and this import's refs."""

    def __init__(self, organization: Organization) -> None:
        self.organization = organization
        self.by_id: dict[str, Account] = {}
        self.by_name: dict[str, Account] = {}
        self.references: dict[str, Account | None] = {}
        for account in Account.objects.filter(organization=organization):
            self.remember(account)

    def remember(self, account: Account) -> None:
        if account.crm_id:
            try:
                self.by_id[cells.record_id(account.crm_id)] = account
            except CellError:
                self.by_id[account.crm_id] = account
        self.by_name[account.name.lower()] = account

    def forget_name(self, name: str) -> None:
        self.by_name.pop(name.lower(), None)


# Reading CSV files ---------------------------------------------------------


def read_accounts_csv(path: Path) -> Iterator[AccountRow | RowProblem]:
    """Each data row of an accounts export, or the problem with it."""
    return _read_rows(path, cells.ACCOUNT_COLUMNS, _check_account_headers, _account)


def read_contacts_csv(path: Path) -> Iterator[ContactRow | RowProblem]:
    return _read_rows(path, cells.CONTACT_COLUMNS, _check_contact_headers, _contact)


def read_opportunities_csv(path: Path) -> Iterator[OpportunityRow | RowProblem]:
    return _read_rows(
        path, cells.OPPORTUNITY_COLUMNS, _check_opportunity_headers, _opportunity
    )


RowMaker = Callable[[int, int, dict[str, str]], Any]


def _read_rows(
    path: Path,
    known: dict[str, set[str]],
    check: Callable[[Path, set[str]], None],
    make_row: RowMaker,
) -> Iterator[Any]:
    """Check the header now, so a wrong file fails before anything is written."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise CrmFileError(f"Cannot read {path}: {error.strerror}.") from error

    reader = csv.DictReader(handle)
    try:
        headers = list(reader.fieldnames or [])
        columns = cells.columns_of(headers, known)
        check(path, set(columns.values()))
    except (csv.Error, UnicodeDecodeError) as error:
        handle.close()
        raise CrmFileError(f"{path} is not a UTF-8 CSV file: {error}.") from error
    except CrmFileError:
        handle.close()
        raise
    return _rows(handle, reader, columns, make_row)


def _rows(
    handle: TextIO,
    reader: "csv.DictReader[str]",
    columns: dict[str, str],
    make_row: RowMaker,
) -> Iterator[Any]:
    with handle:
        line, number = 1, 0
        try:
            for raw in reader:
                row_line, line, number = line + 1, reader.line_num, number + 1
                yield _row_or_problem(row_line, number, raw, columns, make_row)
        except (csv.Error, UnicodeDecodeError) as error:
            yield RowProblem(line + 1, f"cannot be read as CSV ({error})")


def _row_or_problem(
    line: int,
    number: int,
    raw: dict[str | None, Any],
    columns: dict[str, str],
    make_row: RowMaker,
) -> Any:
    if None in raw:
        return RowProblem(line, "has more cells than the header has columns")
    values = {name: (raw.get(header) or "") for header, name in columns.items()}
    try:
        return make_row(line, number, values)
    except CellError as error:
        return RowProblem(line, str(error), _reference("Account", number))


def _reference(kind: str, number: int) -> str:
    return f"{kind}Ref{number}"


def _check_account_headers(path: Path, found: set[str]) -> None:
    if "name" not in found:
        raise CrmFileError(
            f"{path.name} has no account name column; an accounts file needs "
            "'Name' (or 'Account Name', or Maven's 'account')."
        )


def _check_contact_headers(path: Path, found: set[str]) -> None:
    if not found & {"crm_id", "email"}:
        raise CrmFileError(
            f"{path.name} has neither an 'Id' nor an 'Email' column; a contacts "
            "file needs at least one of them."
        )


def _check_opportunity_headers(path: Path, found: set[str]) -> None:
    if not found & {"account_ref", "account_name"}:
        raise CrmFileError(
            f"{path.name} has no account column; an opportunities file needs "
            "'AccountId' (or an account name column)."
        )
    if not found & {"crm_id", "name"}:
        raise CrmFileError(
            f"{path.name} has neither an 'Id' nor a 'Name' column for its "
            "opportunities."
        )


def _account(line: int, number: int, cell: dict[str, str]) -> AccountRow:
    crm_id = cells.record_id(cell.get("crm_id", ""))
    name = cells.text_value(cell.get("name", ""))
    if not name:
        raise CellError("has no account name")

    values: dict[str, Any] = {}
    for name_of_field in ("industry", "account_type", "region"):
        if name_of_field in cell:
            values[name_of_field] = cells.text_value(cell[name_of_field])
    if "employees" in cell:
        values["employees"] = cells.whole_number(cell["employees"], "employees")
    if "annual_revenue" in cell:
        values["annual_revenue"] = cells.money(cell["annual_revenue"], "revenue")
    elif "revenue_millions" in cell:
        values["annual_revenue"] = cells.money(
            cell["revenue_millions"], "revenue", scale=1_000_000
        )
    _check_lengths({"name": name, "crm_id": crm_id, **values})
    return AccountRow(line, crm_id, name, values, _reference("Account", number))


def _contact(line: int, number: int, cell: dict[str, str]) -> ContactRow:
    crm_id = cells.record_id(cell.get("crm_id", ""))
    email = cells.text_value(cell.get("email", "")).lower()
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise CellError(f"has an invalid e-mail address {email!r}") from error

    values: dict[str, Any] = {}
    for name in ("first_name", "last_name", "title"):
        if name in cell:
            values[name] = cells.text_value(cell[name])
    if "modified_at" in cell:
        values["modified_at"] = cells.moment(cell["modified_at"], "SystemModstamp")
    _check_lengths({"crm_id": crm_id, **values})
    return ContactRow(
        line,
        crm_id,
        email,
        values,
        account_ref=cell.get("account_ref", "").strip(),
        account_name=cells.text_value(cell.get("account_name", "")),
        has_account_column=bool({"account_ref", "account_name"} & cell.keys()),
    )


def _opportunity(line: int, number: int, cell: dict[str, str]) -> OpportunityRow:
    crm_id = cells.record_id(cell.get("crm_id", ""))
    name = cells.text_value(cell.get("name", ""))
    values: dict[str, Any] = {}
    if "stage" in cell:
        values["stage"] = cells.text_value(cell["stage"])
    if "amount" in cell:
        values["amount"] = cells.money(cell["amount"], "amount")
    if "close_date" in cell:
        values["close_date"] = cells.day(cell["close_date"], "close date")
    if "product" in cell:
        values["product"] = cells.text_value(cell["product"])
    if "modified_at" in cell:
        values["modified_at"] = cells.moment(cell["modified_at"], "SystemModstamp")
    values.update(_won_and_closed(cell))
    _check_lengths({"name": name, "crm_id": crm_id, **values})
    return OpportunityRow(
        line,
        crm_id,
        name,
        values,
        account_ref=cell.get("account_ref", "").strip(),
        account_name=cells.text_value(cell.get("account_name", "")),
    )


def _won_and_closed(cell: dict[str, str]) -> dict[str, bool]:
    """IsWon and IsClosed as given, else as the stage implies (Maven's files)."""
    stage = cell.get("stage", "")
    result: dict[str, bool] = {}
    if "is_won" in cell:
        result["is_won"] = cells.flag(cell["is_won"], "IsWon")
    elif "stage" in cell:
        result["is_won"] = cells.stage_is_won(stage)
    if "is_closed" in cell:
        result["is_closed"] = cells.flag(cell["is_closed"], "IsClosed")
    elif "stage" in cell:
        result["is_closed"] = cells.stage_is_closed(stage)
    if result.get("is_won"):
        result["is_closed"] = True
    return result


def _check_lengths(values: dict[str, Any]) -> None:
    for name, value in values.items():
        limit = MAX_LENGTHS.get(name)
        if limit and isinstance(value, str) and len(value) > limit:
            raise CellError(f"has a {name} longer than {limit} characters")


# Upserting rows -------------------------------------------------------------


def upsert_accounts(
    index: AccountIndex, rows: Iterable[AccountRow | RowProblem]
) -> Counts:
    """Create or update an account per row, matched by CRM id, else by name."""
    counts = Counts()
    first_line: dict[str, tuple[int | None, AccountRow]] = {}

    for row in rows:
        if isinstance(row, RowProblem):
            counts.errors.append((row.line, row.reason))
            index.references.setdefault(row.reference, None)
            continue

        key = row.crm_id or "name:" + row.name.lower()
        if key in first_line:
            # Report exports repeat an account on each of its contacts' rows.
            earlier_line, earlier = first_line[key]
            if (earlier.name, earlier.values) != (row.name, row.values):
                counts.errors.append(
                    _problem(
                        row, f"repeats account {row.name!r} of line {earlier_line}"
                    )
                )
            index.references[row.reference] = index.references.get(earlier.reference)
            continue
        first_line[key] = (row.line, row)

        account, outcome = _upsert_account(index, row)
        index.references[row.reference] = account
        _count(counts, outcome)
    return counts


def _upsert_account(index: AccountIndex, row: AccountRow) -> tuple[Account, str]:
    account = index.by_id.get(row.crm_id) if row.crm_id else None
    if account is None:
        same_name = index.by_name.get(row.name.lower())
        if same_name is not None and (
            not same_name.crm_id or not row.crm_id or same_name.crm_id == row.crm_id
        ):
            account = same_name

    wanted: dict[str, Any] = {"name": _free_name(index, row, account), **row.values}
    if row.crm_id:
        wanted["crm_id"] = row.crm_id

    if account is None:
        account = Account.objects.create(organization=index.organization, **wanted)
        index.remember(account)
        return account, "created"

    old_name = account.name
    outcome = _apply(account, wanted)
    if account.name != old_name:
        index.forget_name(old_name)
    index.remember(account)
    return account, outcome


def _free_name(index: AccountIndex, row: AccountRow, account: Account | None) -> str:
    """The row's name, or the name with its Id when another account has it."""
    holder = index.by_name.get(row.name.lower())
    if holder is None or holder is account or holder.pk == getattr(account, "pk", -1):
        return row.name
    return f"{row.name} ({row.crm_id})"[:255]


def upsert_contacts(
    index: AccountIndex, rows: Iterable[ContactRow | RowProblem]
) -> Counts:
    """Create or update a contact per row, by Id, else by e-mail address."""
    counts = Counts()
    organization = index.organization
    existing = {c.crm_id: c for c in Contact.objects.filter(organization=organization)}
    first_line: dict[str, int | None] = {}
    new: list[Contact] = []

    for row in rows:
        if isinstance(row, RowProblem):
            counts.errors.append((row.line, row.reason))
            continue
        if not (row.crm_id or row.email or any(row.values.values())):
            # A report export lists accounts without contacts on rows of
            # their own; such a row has no contact to import.
            counts.skipped += 1
            continue
        key = row.crm_id or ("email:" + row.email if row.email else "")
        problem = _key_problem(
            key, first_line, "contact", "neither an Id nor an e-mail"
        )
        if problem:
            counts.errors.append(_problem(row, problem))
            continue
        first_line[key] = row.line

        wanted: dict[str, Any] = {"email": row.email, **row.values}
        if row.has_account_column:
            account, problem = _account_of(index, row.account_ref, row.account_name)
            if problem:
                counts.errors.append(_problem(row, problem))
                continue
            wanted["account"] = account

        contact = existing.get(key)
        if contact is None:
            contact = Contact(organization=organization, crm_id=key, **wanted)
            existing[key] = contact
            new.append(contact)
            counts.created += 1
            continue
        _count(counts, _apply(contact, wanted))

    Contact.objects.bulk_create(new, batch_size=BULK_SIZE)
    return counts


def upsert_opportunities(
    index: AccountIndex, rows: Iterable[OpportunityRow | RowProblem]
) -> Counts:
    """Create or update an opportunity per row; each needs its account."""
    counts = Counts()
    organization = index.organization
    existing = {
        o.crm_id: o for o in Opportunity.objects.filter(organization=organization)
    }
    first_line: dict[str, int | None] = {}
    new: list[Opportunity] = []

    for row in rows:
        if isinstance(row, RowProblem):
            counts.errors.append((row.line, row.reason))
            continue
        account, problem = _account_of(index, row.account_ref, row.account_name)
        if account is None:
            counts.errors.append(
                _problem(row, problem or "has no account; an opportunity needs one")
            )
            continue
        key = row.crm_id or _opportunity_key(account, row)
        problem = _key_problem(
            key, first_line, "opportunity", "neither an Id nor a name"
        )
        if problem:
            counts.errors.append(_problem(row, problem))
            continue
        first_line[key] = row.line

        wanted: dict[str, Any] = {"account": account, "name": row.name, **row.values}
        opportunity = existing.get(key)
        if opportunity is None:
            opportunity = Opportunity(organization=organization, crm_id=key, **wanted)
            existing[key] = opportunity
            new.append(opportunity)
            counts.created += 1
            continue
        _count(counts, _apply(opportunity, wanted))

    Opportunity.objects.bulk_create(new, batch_size=BULK_SIZE)
    return counts


def _problem(
    row: AccountRow | ContactRow | OpportunityRow, reason: str
) -> tuple[int | None, str]:
    """A row's problem; a row from the CRM, without a line, names its Id."""
    if row.line is None:
        return None, f"{row.crm_id}: {reason}"
    return row.line, reason


def _opportunity_key(account: Account, row: OpportunityRow) -> str:
    if not row.name:
        return ""
    close = row.values.get("close_date") or ""
    return f"csv:{account.pk}:{row.name.lower()}:{close}"[:64]


def _key_problem(
    key: str, first_line: dict[str, int | None], kind: str, missing: str
) -> str:
    if not key:
        return f"has {missing}"
    if key in first_line:
        return (
            f"repeats the {kind} {key.removeprefix('email:')} of line {first_line[key]}"
        )
    return ""


def _account_of(
    index: AccountIndex, reference: str, name: str
) -> tuple[Account | None, str]:
    """The account a contact or opportunity row names, or why there is none."""
    if reference:
        token = cells.reference_token(reference)
        if token is not None:
            return _account_by_token(index, token)
        try:
            crm_id = cells.record_id(reference)
        except CellError as error:
            return None, str(error)
        account = index.by_id.get(crm_id)
        if account is None:
            return None, (
                f"refers to account {reference}, which is not among the accounts; "
                "import the accounts first or together"
            )
        return account, ""

    if not name:
        return None, ""
    account = index.by_name.get(name.lower())
    if account is None:
        # A report export names the account without an Id: it is made here
        # and gets its Id and details when the accounts are imported.
        account = Account.objects.create(organization=index.organization, name=name)
        index.remember(account)
    return account, ""


def _account_by_token(index: AccountIndex, token: str) -> tuple[Account | None, str]:
    if token not in index.references:
        return None, (
            f"refers to @{token}, which names a row of the accounts file it came "
            "with; import that file together with this one"
        )
    account = index.references[token]
    if account is None:
        return None, f"refers to @{token}, whose row in the accounts file was refused"
    return account, ""


def _apply(instance: Model, wanted: dict[str, Any]) -> str:
    """Set the wanted values; save only the fields that differ."""
    changed = [
        name for name, value in wanted.items() if not _same(instance, name, value)
    ]
    if not changed:
        return "unchanged"
    for name in changed:
        setattr(instance, name, wanted[name])
    instance.save(update_fields=changed)
    return "updated"


def _same(instance: Model, name: str, value: Any) -> bool:
    """Whether a field holds the value; a relation compares keys, not objects."""
    field = instance._meta.get_field(name)
    if field.is_relation:
        current = getattr(instance, field.attname)  # type: ignore[union-attr]
        return current == (value.pk if value is not None else None)
    return getattr(instance, name) == value


def _count(counts: Counts, outcome: str) -> None:
    setattr(counts, outcome, getattr(counts, outcome) + 1)


# Members and contacts ---------------------------------------------------------


def match_members_to_contacts(organization: Organization) -> Counts:
    """Link every member to the contact of their e-mail; they get its account.

    Several contacts with one address: the one with an account wins, then
    the most recently changed, then the oldest.
    """
    # An erased member keeps no tie to a person in the CRM.
    MemberContact.objects.filter(
        member__portal__organization=organization, member__erased_at__isnull=False
    ).delete()

    contact_of = _contact_by_email(organization)
    counts = Counts()
    emails = sorted(contact_of)
    for start in range(0, len(emails), BULK_SIZE):
        members = (
            Member.objects.filter(portal__organization=organization, erased_at=None)
            .annotate(address=Lower("email"))
            .filter(address__in=emails[start : start + BULK_SIZE])
            .select_related("crm_contact")
        )
        for member in members:
            contact = contact_of[member.address]  # type: ignore[attr-defined]
            _count(counts, _link(member, contact))
    return counts


def _contact_by_email(organization: Organization) -> dict[str, Contact]:
    contacts = Contact.objects.filter(organization=organization).exclude(email="")
    ranked = sorted(
        contacts,
        key=lambda c: (
            c.account_id is None,
            -(c.modified_at.timestamp() if c.modified_at else 0),
            c.pk,
        ),
    )
    best: dict[str, Contact] = {}
    for contact in ranked:
        best.setdefault(contact.email.lower(), contact)
    return best


def _link(member: Member, contact: Contact) -> str:
    outcome = "unchanged"
    link = getattr(member, "crm_contact", None)
    if link is None:
        MemberContact.objects.create(member=member, contact=contact)
        outcome = "created"
    elif link.contact_id != contact.pk:
        link.contact = contact
        link.save(update_fields=["contact"])
        outcome = "updated"

    if contact.account_id and member.account_id != contact.account_id:
        member.account_id = contact.account_id
        member.save(update_fields=["account"])
        outcome = "updated" if outcome == "unchanged" else outcome
    return outcome


# The whole import ---------------------------------------------------------------


def import_crm_files(
    organization: Organization,
    accounts: Path | None = None,
    contacts: Path | None = None,
    opportunities: Path | None = None,
) -> CrmImport:
    """Import the files given, accounts first; then match members to contacts."""
    account_rows = read_accounts_csv(accounts) if accounts else None
    contact_rows = read_contacts_csv(contacts) if contacts else None
    opportunity_rows = read_opportunities_csv(opportunities) if opportunities else None

    result = CrmImport()
    index = AccountIndex(organization)
    if account_rows is not None:
        with transaction.atomic():
            result.accounts = upsert_accounts(index, account_rows)
    if contact_rows is not None:
        with transaction.atomic():
            result.contacts = upsert_contacts(index, contact_rows)
    if opportunity_rows is not None:
        with transaction.atomic():
            result.opportunities = upsert_opportunities(index, opportunity_rows)
    with transaction.atomic():
        result.members = match_members_to_contacts(organization)

    logger.info(
        "CRM import for %s: %d accounts, %d contacts, %d opportunities new; "
        "%d bad rows",
        organization.slug,
        result.accounts.created,
        result.contacts.created,
        result.opportunities.created,
        result.error_count,
        extra={"organization": organization.pk},
    )
    return result

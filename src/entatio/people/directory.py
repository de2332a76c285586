"""The people directory: members and accounts from a CSV, and invitations.

A people CSV has ``email`` and any of ``first_name``, ``last_name``,
``user_type``, ``account``, ``title`` and ``region``; every other column is
kept as an attribute of the member. Salesforce Contact exports (``Email``,
``FirstName``, ``LastName``, ``Title``, ``AccountId``) and report exports
(``Contact: Email``) read the same. A bad row is reported with its line and
reason and the good rows are kept; importing the same file again changes
nothing.
"""

import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

from entatio.people.groups import create_group
from entatio.people.models import Account, Member, Organization, Portal, SharingGroup

logger = logging.getLogger(__name__)

# Header spellings, reduced to lower-case letters and digits, for each field
# the directory knows; everything else becomes an attribute.
KNOWN_COLUMNS = {
    "email": {"email", "emailaddress", "contactemail"},
    "first_name": {"firstname", "contactfirstname", "givenname"},
    "last_name": {"lastname", "contactlastname", "surname", "familyname"},
    "user_type": {"usertype", "role", "persona"},
    "account": {"account", "accountname", "accountaccountname", "company"},
    "account_crm_id": {"accountid"},
    "title": {"title", "contacttitle", "jobtitle"},
    "region": {"region"},
}
FIELD_OF_HEADER = {
    spelling: name
    for name, spellings in KNOWN_COLUMNS.items()
    for spelling in spellings
}
MEMBER_FIELDS = ("first_name", "last_name", "user_type", "title", "region")
MAX_LENGTHS = {
    "first_name": 150,
    "last_name": 150,
    "user_type": 100,
    "title": 200,
    "region": 100,
    "account": 255,
    "account_crm_id": 64,
}


class DirectoryError(ValueError):
    """A file that cannot be read as a people CSV, with what to fix."""


class RowError(ValueError):
    """One row that cannot be taken, with the reason."""


@dataclass
class PersonRow:
    line: int
    email: str
    fields: dict[str, str]
    account: str = ""
    account_crm_id: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass
class PeopleImport:
    created: list[Member] = field(default_factory=list)
    updated: list[Member] = field(default_factory=list)
    unchanged: list[Member] = field(default_factory=list)
    accounts_created: list[Account] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def members(self) -> list[Member]:
        return [*self.created, *self.updated, *self.unchanged]


def read_people_csv(path: Path) -> Iterator[PersonRow | tuple[int, str]]:
    """Each data row as a person, or (line, reason) where it cannot be one."""
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise DirectoryError(f"Cannot read {path}: {error.strerror}.") from error
    with handle:
        yield from read_people_rows(handle, path.name)


def read_people_text(text: str, name: str) -> list[PersonRow | tuple[int, str]]:
    """The rows of a people CSV given as text, as ``read_people_csv`` reads them."""
    return list(read_people_rows(io.StringIO(text.lstrip("\ufeff"), newline=""), name))


def read_addresses(text: str) -> list[PersonRow | tuple[int, str]]:
    """Pasted addresses, one or more a line, as people rows of their own."""
    rows: list[PersonRow | tuple[int, str]] = []
    for line, content in enumerate(text.splitlines(), start=1):
        for address in re.split(r"[\s,;]+", content):
            address = address.strip("<>\"'").lower()
            if not address:
                continue
            try:
                validate_email(address)
            except ValidationError:
                rows.append((line, f"has an invalid e-mail address {address!r}"))
                continue
            rows.append(PersonRow(line=line, email=address, fields={}))
    return rows


def read_people_rows(
    handle: TextIO, name: str
) -> Iterator[PersonRow | tuple[int, str]]:
    reader = csv.DictReader(handle)
    try:
        headers = reader.fieldnames or []
    except UnicodeDecodeError as error:
        raise DirectoryError(not_utf8(name)) from error
    except csv.Error as error:
        raise DirectoryError(f"{name} cannot be read as CSV ({error}).") from error
    columns = _columns(name, headers)

    line = 1
    try:
        for raw in reader:
            line_of_row = line + 1
            line = reader.line_num
            try:
                yield _person(line_of_row, raw, columns)
            except RowError as error:
                yield line_of_row, str(error)
    except UnicodeDecodeError:
        yield line + 1, "and the rows after it are not UTF-8 text; " + SAVE_AS_UTF8
    except csv.Error as error:
        yield line + 1, f"cannot be read as CSV ({error})"


SAVE_AS_UTF8 = "save the file as 'CSV UTF-8' and import it again"


def not_utf8(name: str) -> str:
    # Spreadsheets often save CSV in the computer's own encoding.
    return f"{name} is not UTF-8 text; {SAVE_AS_UTF8}."


def _columns(name: str, headers: Sequence[str]) -> dict[str, str]:
    """Header to field name, or to ``attr:`` plus the header for attributes."""
    columns = {}
    headers_of_field: dict[str, list[str]] = {}
    for header in headers:
        if header is None:
            continue
        key = re.sub(r"[^a-z0-9]", "", header.lower())
        field = FIELD_OF_HEADER.get(key, "attr:" + header.strip())
        columns[header] = field
        headers_of_field.setdefault(field, []).append(header)

    # A reader keeps one cell per header, so a second column of the same
    # field would silently win over the first.
    for named in headers_of_field.values():
        if len(named) > 1:
            listed = ", ".join(repr(header) for header in named)
            raise DirectoryError(
                f"{name} has {len(named)} columns for the same field "
                f"({listed}); keep one of them."
            )
    if "email" not in columns.values():
        raise DirectoryError(
            f"{name} has no e-mail column; add a column named 'email' "
            "(or Salesforce's 'Email')."
        )
    return columns


def _person(line: int, raw: dict, columns: dict[str, str]) -> PersonRow:
    if None in raw:
        raise RowError("has more cells than the header has columns")

    values: dict[str, str] = {}
    attributes: dict[str, str] = {}
    for header, cell in raw.items():
        name = columns.get(header, "")
        text = (cell or "").strip()
        if name.startswith("attr:"):
            if text:
                attributes[name[5:]] = text
        elif name:
            values[name] = text

    email = values.pop("email", "").lower()
    if not email:
        raise RowError("has no e-mail address")
    try:
        validate_email(email)
    except ValidationError as error:
        raise RowError(f"has an invalid e-mail address {email!r}") from error
    for name, text in values.items():
        if len(text) > MAX_LENGTHS.get(name, 255):
            raise RowError(f"has a {name} longer than {MAX_LENGTHS[name]} characters")

    return PersonRow(
        line=line,
        email=email,
        fields={name: values.get(name, "") for name in MEMBER_FIELDS if name in values},
        account=values.get("account", ""),
        account_crm_id=values.get("account_crm_id", ""),
        attributes=attributes,
    )


def import_people(
    portal: Portal,
    rows: Iterable[PersonRow | tuple[int, str]],
    group: SharingGroup | None = None,
) -> PeopleImport:
    """Create or update the members of these rows; bad rows are reported."""
    result = PeopleImport()
    first_line_of: dict[str, int] = {}

    for row in rows:
        if isinstance(row, tuple):
            result.errors.append(row)
            continue
        if row.email in first_line_of:
            result.errors.append(
                (row.line, f"repeats {row.email} of line {first_line_of[row.email]}")
            )
            continue
        first_line_of[row.email] = row.line

        try:
            with transaction.atomic():
                member, outcome = _upsert_member(portal, row, result)
                if group is not None:
                    # add() skips existing pairs, so a re-run sends no signal.
                    group.members.add(member)
        except RowError as error:
            result.errors.append((row.line, str(error)))
            continue
        getattr(result, outcome).append(member)

    logger.info(
        "People import into %s: %d new, %d changed, %d bad rows",
        portal.slug,
        len(result.created),
        len(result.updated),
        len(result.errors),
    )
    return result


def _upsert_member(
    portal: Portal, row: PersonRow, result: PeopleImport
) -> tuple[Member, str]:
    account, is_new = account_for(portal.organization, row.account, row.account_crm_id)
    if is_new and account is not None:
        result.accounts_created.append(account)
    wanted: dict[str, object] = dict(row.fields)
    if account is not None:
        wanted["account"] = account

    member = Member.objects.filter(portal=portal, email__iexact=row.email).first()
    if member is None:
        member = Member.objects.create(
            portal=portal, email=row.email, attributes=row.attributes, **wanted
        )
        return member, "created"

    changed = [name for name, value in wanted.items() if getattr(member, name) != value]
    for name in changed:
        setattr(member, name, wanted[name])
    attributes = {**member.attributes, **row.attributes}
    if attributes != member.attributes:
        member.attributes = attributes
        changed.append("attributes")
    if not changed:
        return member, "unchanged"
    member.save(update_fields=changed)
    return member, "updated"


def known_account(
    organization: Organization, name: str, crm_id: str = ""
) -> Account | None:
    """The organization's account of this CRM id or name, if there is one."""
    if not (name or crm_id):
        return None
    match = Q()
    if crm_id:
        match |= Q(crm_id=crm_id)
    if name:
        match |= Q(name__iexact=name) | Q(crm_id=name)
    return (
        Account.objects.filter(organization=organization)
        .filter(match)
        .order_by("pk")
        .first()
    )


def account_for(
    organization: Organization, name: str, crm_id: str = ""
) -> tuple[Account | None, bool]:
    """The account by CRM id or name, made when new; and whether it was made.

    An organization that requires known accounts gets a ``RowError`` instead.
    """
    if not (name or crm_id):
        return None, False
    account = known_account(organization, name, crm_id)
    if account is not None:
        return account, False
    if organization.accounts_must_be_known:
        raise RowError(f"names the unknown account {name or crm_id!r}")

    # A bare CRM id names the account until the CRM import gives its name.
    account = Account.objects.create(
        organization=organization, name=name or crm_id, crm_id=crm_id
    )
    return account, True


@dataclass
class PlannedRow:
    """One row of an import as it will be made, or why it will not."""

    line: int
    email: str
    outcome: str
    reason: str = ""
    row: PersonRow | None = None
    account: str = ""
    account_is_new: bool = False

    @property
    def is_bad(self) -> bool:
        return self.outcome == "bad"


def preview_people(
    portal: Portal, rows: Iterable[PersonRow | tuple[int, str]]
) -> list[PlannedRow]:
    """What ``import_people`` would do with each row, changing nothing."""
    existing = {
        email.lower()
        for email in Member.objects.filter(portal=portal).values_list(
            "email", flat=True
        )
    }
    first_line_of: dict[str, int] = {}
    planned = []
    for row in rows:
        if isinstance(row, tuple):
            planned.append(PlannedRow(row[0], "", "bad", row[1]))
            continue
        if row.email in first_line_of:
            reason = f"repeats {row.email} of line {first_line_of[row.email]}"
            planned.append(PlannedRow(row.line, row.email, "bad", reason))
            continue
        first_line_of[row.email] = row.line
        planned.append(_planned(portal, row, row.email in existing))
    return planned


def _planned(portal: Portal, row: PersonRow, exists: bool) -> PlannedRow:
    outcome = "existing member" if exists else "new member"
    plan = PlannedRow(row.line, row.email, outcome, row=row)
    if not (row.account or row.account_crm_id):
        return plan

    account = known_account(portal.organization, row.account, row.account_crm_id)
    if account is not None:
        plan.account = account.name
    elif portal.organization.accounts_must_be_known:
        plan.outcome = "bad"
        plan.reason = f"names the unknown account {row.account or row.account_crm_id!r}"
    else:
        plan.account = row.account or row.account_crm_id
        plan.account_is_new = True
    return plan


def find_or_create_group(portal: Portal, name: str) -> SharingGroup:
    """The portal's group of that name, whatever its case; new when none is."""
    wanted = " ".join(name.split())
    group = SharingGroup.objects.filter(portal=portal, name__iexact=wanted).first()
    return group or create_group(portal, wanted)

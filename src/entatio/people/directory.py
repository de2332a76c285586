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
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

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
        reader = csv.DictReader(handle)
        try:
            headers = reader.fieldnames or []
        except (csv.Error, UnicodeDecodeError) as error:
            raise DirectoryError(f"{path} is not a UTF-8 CSV file: {error}.") from error
        columns = _columns(path, headers)

        line = 1
        try:
            for raw in reader:
                line_of_row = line + 1
                line = reader.line_num
                try:
                    yield _person(line_of_row, raw, columns)
                except RowError as error:
                    yield line_of_row, str(error)
        except (csv.Error, UnicodeDecodeError) as error:
            yield line + 1, f"cannot be read as CSV ({error})"


def _columns(path: Path, headers: list[str]) -> dict[str, str]:
    """Header to field name, or to ``attr:`` plus the header for attributes."""
    columns = {}
    for header in headers:
        if header is None:
            continue
        key = re.sub(r"[^a-z0-9]", "", header.lower())
        columns[header] = FIELD_OF_HEADER.get(key, "attr:" + header.strip())
    if "email" not in columns.values():
        raise DirectoryError(
            f"{path.name} has no e-mail column; add a column named 'email' "
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

        with transaction.atomic():
            member, outcome = _upsert_member(portal, row, result)
            if group is not None:
                # add() skips existing pairs, so a re-run sends no signal.
                group.members.add(member)
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
    account = _account_for(portal.organization, row, result)
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


def _account_for(
    organization: Organization, row: PersonRow, result: PeopleImport
) -> Account | None:
    """The row's account by CRM id or name, made when the organization lacks it."""
    if not (row.account or row.account_crm_id):
        return None

    accounts = Account.objects.filter(organization=organization)
    match = Q()
    if row.account_crm_id:
        match |= Q(crm_id=row.account_crm_id)
    if row.account:
        match |= Q(name__iexact=row.account) | Q(crm_id=row.account)
    account = accounts.filter(match).order_by("pk").first()
    if account is not None:
        return account

    # A bare CRM id names the account until the CRM import gives its name.
    account = Account.objects.create(
        organization=organization,
        name=row.account or row.account_crm_id,
        crm_id=row.account_crm_id,
    )
    result.accounts_created.append(account)
    return account


def find_or_create_group(portal: Portal, name: str) -> SharingGroup:
    """The portal's group of that name, whatever its case; new when none is."""
    wanted = " ".join(name.split())
    group = SharingGroup.objects.filter(portal=portal, name__iexact=wanted).first()
    return group or create_group(portal, wanted)


# Makes the address of the password page from a user's id and token.
LinkMaker = Callable[[str, str], str]


@dataclass
class Invitation:
    member: Member
    link: str


def invite_members(
    members: Iterable[Member], link_for: LinkMaker, **mail_options: Any
) -> list[Invitation]:
    """Give each member without a login one, and mail a link to set a password.

    Members who can already sign in are left alone, so inviting twice sends
    nothing the second time; a member whose e-mail already signs in to
    another portal is linked to that login without a mail.
    """
    invitations = []
    for member in members:
        if member.user_id is not None:
            continue
        user, is_new = _user_for(member)
        if not is_new:
            continue
        link = link_for(
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        )
        _send_invitation(member, link, **mail_options)
        invitations.append(Invitation(member, link))
    return invitations


def _user_for(member: Member) -> tuple[Any, bool]:
    """The login of the member's e-mail; a new one cannot sign in until invited."""
    user_model = get_user_model()
    user = user_model.objects.filter(username__iexact=member.email).first()
    is_new = user is None
    if user is None:
        user = user_model(
            username=member.email,
            email=member.email,
            first_name=member.first_name,
            last_name=member.last_name,
        )
        user.set_unusable_password()
        user.save()
    member.user = user
    member.save(update_fields=["user"])
    return user, is_new


def _send_invitation(member: Member, link: str, **mail_options: Any) -> None:
    portal = member.portal
    greeting = f"Hello {member.first_name}," if member.first_name else "Hello,"
    body = (
        f"{greeting}\n\n"
        f"You have been invited to {portal.name} of {portal.organization.name}.\n"
        f"Choose your password here to sign in:\n\n{link}\n\n"
        f"Your login is {member.email}.\n"
    )
    send_mail(
        subject=f"Your invitation to {portal.name}",
        message=body,
        from_email=None,
        recipient_list=[member.email],
        **mail_options,
    )

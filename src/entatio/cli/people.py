"""Commands on people: members of a portal from a CSV, with invitations."""

import argparse
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.urls import NoReverseMatch, reverse

from entatio.cli.library import portal_named
from entatio.cli.output import CommandError, print_error, print_json
from entatio.people.directory import (
    DirectoryError,
    find_or_create_group,
    import_people,
    read_people_csv,
)
from entatio.people.groups import GroupError
from entatio.people.invitations import invite_members
from entatio.people.models import Portal, SharingGroup

CONSOLE_MAIL = "django.core.mail.backends.console.EmailBackend"


def import_people_csv(arguments: argparse.Namespace) -> int:
    portal = portal_named(arguments.portal)
    path = Path(arguments.file)
    if not path.is_file():
        raise CommandError(f"There is no file {path}; give the path of a people CSV.")
    if arguments.invite:
        check_invitations_can_be_accepted()

    group = group_named(portal, arguments.group) if arguments.group else None
    try:
        result = import_people(portal, read_people_csv(path), group)
    except DirectoryError as error:
        raise CommandError(str(error)) from error

    invitations = []
    if arguments.invite:
        invitations = invite_members(result.members, connection=mail_connection())

    document: dict[str, Any] = {
        "portal": portal.slug,
        "group": group.name if group else None,
        "created": len(result.created),
        "updated": len(result.updated),
        "unchanged": len(result.unchanged),
        "accounts_created": [a.name for a in result.accounts_created],
        "invited": [i.member.email for i in invitations],
        "errors": [{"line": n, "reason": r} for n, r in result.errors],
    }
    if arguments.json:
        print_json(document)
    else:
        _print_summary(document)
    for line, reason in result.errors:
        print_error(f"{path.name} line {line} {reason}; fix it and import again.")
    return 2 if result.errors else 0


def group_named(portal: Portal, name: str) -> SharingGroup:
    try:
        return find_or_create_group(portal, name)
    except GroupError as error:
        raise CommandError(str(error)) from error


def _print_summary(document: dict[str, Any]) -> None:
    print(
        f"{document['created']} new members, {document['updated']} updated, "
        f"{document['unchanged']} unchanged in portal {document['portal']}"
        + (f", all in group {document['group']}." if document["group"] else ".")
    )
    if document["accounts_created"]:
        print(f"New accounts: {', '.join(document['accounts_created'])}.")
    if document["invited"]:
        print(f"Invitations sent to {len(document['invited'])} new members.")


def check_invitations_can_be_accepted() -> None:
    try:
        reverse("accept_invitation", args=["token"])
    except NoReverseMatch as error:
        raise CommandError(
            "This installation has no page to accept an invitation, so "
            "invitations cannot be sent; import without --invite."
        ) from error


def mail_connection() -> Any:
    """The configured mail backend; console mail goes to stderr, not the output."""
    if settings.EMAIL_BACKEND == CONSOLE_MAIL:
        return get_connection(CONSOLE_MAIL, stream=sys.stderr)
    return get_connection()

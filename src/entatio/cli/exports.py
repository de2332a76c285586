"""Commands on the event history: rebuild records, export, privacy, retention."""

import argparse
import json
import os
from pathlib import Path
from urllib.parse import urlparse

from entatio.cli import engagement
from entatio.cli.library import portal_named
from entatio.cli.output import CommandError, print_json
from entatio.engagement.events import rebuild_records
from entatio.engagement.exports import (
    ExportRefused,
    export_parquet,
    export_visits_csv,
    export_xapi,
)
from entatio.engagement.lrs import LrsError, LrsTarget, send_statements
from entatio.engagement.privacy import erase_member, member_data, purge_expired_events
from entatio.people.models import Member, Organization, Portal


def records(arguments: argparse.Namespace) -> int:
    """``records PRESENTATION`` reads the records; ``records rebuild`` remakes them."""
    if arguments.presentation == "rebuild":
        return rebuild(arguments)

    try:
        arguments.presentation = int(arguments.presentation)
    except ValueError as error:
        raise CommandError(
            f"{arguments.presentation!r} is neither a presentation id nor 'rebuild'; "
            "'entatio presentations' lists the ids."
        ) from error
    return engagement.records(arguments)


def rebuild(arguments: argparse.Namespace) -> int:
    portal = portal_named(arguments.portal) if arguments.portal else None
    counts = rebuild_records(portal)

    if arguments.json:
        print_json(counts)
    else:
        print(
            f"Recomputed the records of {counts['pairs']} member-slide pairs from "
            f"their events; {counts['emptied']} without events emptied, "
            f"{counts['kept']} older than the kept events left as they were."
        )
    return 0


def export(arguments: argparse.Namespace) -> int:
    portal = portal_named(arguments.portal) if arguments.portal else None
    out = _checked_out(Path(arguments.out), folder=arguments.format == "parquet")

    if arguments.format == "xapi":
        document = {"statements": export_xapi(out, portal), "out": str(out)}
        if arguments.lrs:
            document["sent"] = _send_to_lrs(arguments, out)
    elif arguments.format == "parquet":
        document = {**_parquet(out, portal), "out": str(out)}
    else:
        document = {"rows": export_visits_csv(out, portal), "out": str(out)}

    if arguments.json:
        print_json(document)
    else:
        counts = ", ".join(f"{v} {k}" for k, v in document.items() if k != "out")
        print(f"Wrote {counts} to {out}.")
    return 0


def _parquet(out: Path, portal: Portal | None) -> dict[str, int]:
    try:
        return export_parquet(out, portal)
    except ExportRefused as refusal:
        raise CommandError(str(refusal)) from refusal


def _checked_out(out: Path, folder: bool) -> Path:
    """Where to write; its parent folder must exist, so a typo makes nothing."""
    if not out.parent.is_dir():
        raise CommandError(
            f"There is no folder {out.parent}; make it first or choose another --out."
        )
    if out.is_dir() and not folder:
        raise CommandError(f"{out} is a folder; give --out a file name.")
    if out.exists() and folder and not out.is_dir():
        raise CommandError(f"{out} is a file; give --out a folder for Parquet.")
    return out


def _send_to_lrs(arguments: argparse.Namespace, statements_file: Path) -> int:
    # The password comes from the environment, never from the command line,
    # where any user of the machine could read it in the process list.
    password = os.environ.get("ENTATIO_LRS_PASSWORD", "")
    address = urlparse(arguments.lrs)
    if address.scheme not in ("http", "https") or not address.netloc:
        raise CommandError(
            f"--lrs {arguments.lrs!r} is not a web address; give the LRS's xAPI "
            f"endpoint, such as https://lrs.example.com/xapi/; {statements_file} "
            "is complete."
        )
    if arguments.lrs_user and not password:
        raise CommandError(
            "ENTATIO_LRS_PASSWORD is not set; set it to the secret of "
            f"{arguments.lrs_user} to send the statements; {statements_file} is "
            "complete."
        )
    target = LrsTarget(arguments.lrs, arguments.lrs_user or "", password)
    with statements_file.open(encoding="utf-8") as lines:
        try:
            return send_statements(target, (json.loads(line) for line in lines))
        except LrsError as error:
            raise CommandError(
                f"{error}; the file {statements_file} is complete."
            ) from error


def member_named(email: str, portal_name: str | None) -> Member:
    portal = portal_named(portal_name)
    member = Member.objects.filter(portal=portal, email__iexact=email).first()
    if member is None:
        raise CommandError(
            f"No member {email} in portal {portal.slug}; check the address or "
            "pass --portal."
        )
    return member


def export_member(arguments: argparse.Namespace) -> int:
    member = member_named(arguments.email, arguments.portal)
    out = _checked_out(Path(arguments.out), folder=False)
    document = member_data(member)
    out.write_text(json.dumps(document, indent=2, ensure_ascii=False), "utf-8")

    summary = {
        "out": str(out),
        "records": len(document["records"]),
        "statements": len(document["statements"]),
    }
    if arguments.json:
        print_json(summary)
    else:
        print(f"Wrote everything stored about {member.email} to {out}.")
    return 0


def erase(arguments: argparse.Namespace) -> int:
    member = member_named(arguments.email, arguments.portal)
    if not arguments.yes:
        raise CommandError(
            f"Erasing {member.email} cannot be undone; run again with --yes."
        )
    erase_member(member)

    if arguments.json:
        print_json({"erased": arguments.email, "member": member.pk})
    else:
        print(f"Erased {arguments.email}; what they did stays, without them.")
    return 0


def purge(arguments: argparse.Namespace) -> int:
    deleted = {
        org.slug: purge_expired_events(org)
        for org in Organization.objects.filter(event_retention_days__isnull=False)
    }
    if arguments.json:
        print_json({"deleted": deleted})
    else:
        total = sum(deleted.values())
        print(f"Deleted {total} events past their organization's retention.")
    return 0

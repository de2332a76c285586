"""Commands on the CRM: import Salesforce CSV exports, sync with Salesforce."""

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from entatio.cli.library import portal_named
from entatio.cli.output import CommandError, print_error, print_json, print_table
from entatio.crm.config import ConfigurationError
from entatio.crm.importing import CrmFileError, import_crm_files
from entatio.crm.models import OutboxEntry, SyncRun
from entatio.crm.sync import NotConnected, sync_with_salesforce
from entatio.crm.tasks import ensure_sync_scheduled

KINDS = ("accounts", "contacts", "opportunities")


def import_crm(arguments: argparse.Namespace) -> int:
    files = {kind: getattr(arguments, kind, None) for kind in KINDS}
    if not any(files.values()):
        raise CommandError(
            "Give at least one file: --accounts A.csv, --contacts C.csv or "
            "--opportunities O.csv."
        )
    paths = {kind: Path(name) for kind, name in files.items() if name}
    for path in paths.values():
        if not path.is_file():
            raise CommandError(f"There is no file {path}; check the name and path.")

    organization = portal_named(getattr(arguments, "portal", None)).organization
    try:
        result = import_crm_files(organization, **paths)
    except CrmFileError as error:
        raise CommandError(str(error)) from error

    document: dict[str, Any] = {"organization": organization.slug, **result.as_dict()}
    if arguments.json:
        print_json(document)
    else:
        _print_import(document, paths)
    for kind, path in paths.items():
        for line, reason in getattr(result, kind).errors:
            print_error(f"{path.name} line {line} {reason}; fix it and import again.")
    return 2 if result.error_count else 0


def _print_import(document: dict[str, Any], paths: dict[str, Path]) -> None:
    rows = [
        [
            kind,
            document[kind]["created"],
            document[kind]["updated"],
            document[kind]["unchanged"],
            document[kind]["skipped"],
            len(document[kind]["errors"]),
        ]
        for kind in KINDS
        if kind in paths
    ]
    print_table(["", "new", "updated", "unchanged", "skipped", "refused"], rows)
    matched = document["members_matched"]
    linked = matched["created"] + matched["updated"] + matched["unchanged"]
    print(
        f"\n{linked} members are matched to a contact "
        f"({matched['created']} new, {matched['updated']} changed)."
    )


def sync(arguments: argparse.Namespace) -> int:
    organization = portal_named(getattr(arguments, "portal", None)).organization
    try:
        run = sync_with_salesforce(organization, trigger="command")
        scheduled = ensure_sync_scheduled(organization)
    except (NotConnected, ConfigurationError) as error:
        raise CommandError(str(error)) from error
    if run is None:
        raise CommandError(
            f"A sync of {organization.name} is running already; wait for it to end "
            "and run this again."
        )

    failed = list(
        OutboxEntry.objects.filter(organization=organization, state="failed")
        .order_by("sobject", "external_id")
        .values("sobject", "external_id", "attempts", "last_error")
    )
    document = {
        "organization": organization.slug,
        "run": run.pk,
        "outcome": run.outcome,
        "message": run.message,
        "counts": run.counts,
        "failed_rows": failed,
        "scheduled": scheduled,
    }
    if arguments.json:
        print_json(document)
    else:
        _print_sync(run, failed, scheduled)

    if run.outcome == SyncRun.Outcome.DONE:
        return 0
    if run.message:
        print_error(f"{run.message}; fix it and sync again.")
    for row in failed:
        print_error(
            f"{row['sobject']} {row['external_id']} was refused: {row['last_error']}"
        )
    return 2


def _print_sync(
    run: SyncRun, failed: Sequence[Mapping[str, Any]], scheduled: bool
) -> None:
    pulled = run.counts.get("pulled", {})
    pushed = run.counts.get("pushed", {})
    print(f"Sync {run.pk}: {run.get_outcome_display()}.")
    for sobject in ("Account", "Contact", "Opportunity"):
        if sobject in pulled:
            part = pulled[sobject]
            print(
                f"  {sobject}: {part['created']} new, {part['updated']} updated, "
                f"{len(part['errors'])} not taken"
            )
    if pushed:
        print(
            f"  pushed {pushed['sent']} records ({pushed['created']} new), "
            f"{pushed['failed']} refused, {len(failed)} waiting to be retried"
        )
    if scheduled:
        print("The worker syncs again on schedule.")

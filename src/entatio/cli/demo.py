"""``entatio demo``: the demo organization, made once per home."""

import argparse
from pathlib import Path

from entatio.cli.library import import_file
from entatio.cli.output import CommandError, ProgressBar, print_json
from entatio.demo.build import DemoSummary, build_demo
from entatio.ingest.imports import ImportRefused
from entatio.library.models import Presentation
from entatio.people.models import Portal


def demo(arguments: argparse.Namespace) -> int:
    try:
        summary = build_demo(_import_deck, seed=arguments.seed)
    except ImportRefused as refusal:
        raise CommandError(
            f"The demo decks could not be imported: {refusal} Install LibreOffice "
            "(bin/install does on Debian) and run entatio demo again."
        ) from refusal

    document = _as_dict(summary)
    if arguments.json:
        print_json(document)
        return 0

    if summary.created:
        print(f"Made the demo organization {summary.organization.name}.")
    else:
        print(f"The demo organization {summary.organization.name} already exists.")
    print(
        f"Portal {summary.portal.name} (--portal {summary.portal.slug}): "
        f"{document['members']} members, "
        f"presentations {', '.join(str(p['id']) for p in document['presentations'])}."
    )
    password = summary.owner_password or "the password set for it"
    print(f"Sign in as {summary.owner_email} with {password}.")
    return 0


def _import_deck(portal: Portal, path: Path, title: str) -> Presentation:
    progress = ProgressBar(f"Importing demo deck {path.name}")
    try:
        return import_file(portal, path, title, on_progress=progress.update)
    finally:
        progress.finish()


def _as_dict(summary: DemoSummary) -> dict:
    return {
        "created": summary.created,
        "organization": summary.organization.name,
        "portal": summary.portal.slug,
        "owner": {"email": summary.owner_email, "password": summary.owner_password},
        "members": summary.members,
        "events": summary.events,
        "presentations": [
            {"id": p.pk, "title": p.title} for p in summary.presentations
        ],
    }

"""Commands on engagement: share, read the records, load events."""

import argparse
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from entatio.cli.library import portal_named, presentation_by_id
from entatio.cli.output import CommandError, print_error, print_json, print_table
from entatio.cli.people import group_named
from entatio.engagement.access import audience, share_presentation, sync_records
from entatio.engagement.events import load_events
from entatio.engagement.reports import (
    STATES,
    engagement_report,
    report_as_dict,
    state_of,
)
from entatio.library.models import Presentation
from entatio.people.models import SharingGroup

# One letter per record state in the members grid of the plain table.
STATE_MARKS = {"not_yet_viewed": ".", "viewed": "1", "viewed_again": "2"}


def share(arguments: argparse.Namespace) -> int:
    presentation = presentation_by_id(arguments.presentation)
    if arguments.portal:
        portal = portal_named(arguments.portal)
        if portal.pk != presentation.portal_id:
            raise CommandError(
                f"Presentation {presentation.pk} is in portal "
                f"{presentation.portal.slug}, not {portal.slug}; leave out --portal "
                "or name its own."
            )

    _refuse_group_of_other_portal(presentation, arguments.group)
    group = group_named(presentation.portal, arguments.group)
    share_presentation(presentation, group)
    # The web app leaves this to the worker; here the records must exist
    # when the command returns.
    created, _ = sync_records([presentation.pk])

    document = {
        "presentation": presentation.pk,
        "group": group.name,
        "members": group.members.count(),
        "audience": audience(presentation).count(),
        "records_created": created,
    }
    if arguments.json:
        print_json(document)
    else:
        print(
            f"Shared {presentation.title!r} with {group.name} "
            f"({document['members']} members); {created} new records, "
            f"{document['audience']} members can see it in all."
        )
    return 0


def _refuse_group_of_other_portal(presentation: Presentation, name: str) -> None:
    """A group named only in another portal is a mistake, not a new group."""
    wanted = " ".join(name.split())
    portal = presentation.portal
    if SharingGroup.objects.filter(portal=portal, name__iexact=wanted).exists():
        return

    elsewhere = (
        SharingGroup.objects.filter(
            portal__organization_id=portal.organization_id, name__iexact=wanted
        )
        .select_related("portal")
        .first()
    )
    if elsewhere is not None:
        raise CommandError(
            f"Group {elsewhere.name!r} is in portal {elsewhere.portal.slug}, but "
            f"presentation {presentation.pk} is in portal {portal.slug}; a "
            "presentation is shared with groups of its own portal. Copy the "
            "presentation into that portal or name a group of its own."
        )


def records(arguments: argparse.Namespace) -> int:
    presentation = presentation_by_id(arguments.presentation)
    report = report_as_dict(engagement_report(presentation, sort=arguments.sort))

    if arguments.json:
        print_json(report)
        return 0
    _print_report(report)
    return 0


def _print_report(report: dict[str, Any]) -> None:
    headings = ["#", "slide", *(state.replace("_", " ") for state in STATES)]
    rows = [
        [s["position"], s["title"] or f"slide {s['id']}", *(s[k] for k in STATES)]
        for s in report["slides"]
    ]
    rows.append(["", "total", *(report["total"][k] for k in STATES)])
    print(
        f"{report['presentation']['title']} (presentation "
        f"{report['presentation']['id']})\n"
    )
    print_table(headings, rows)

    if not report["members"]:
        print("\nNobody has access yet; share it with 'entatio share'.")
        return
    print("\nBy member: . not yet viewed, 1 viewed once, 2 viewed again\n")
    print_table(
        ["member", "account", "user type", "slides 1.."],
        [
            [
                m["email"],
                m["account"],
                m["user_type"],
                "".join(STATE_MARKS[state_of(c["visits"])] for c in m["slides"]),
            ]
            for m in report["members"]
        ],
    )


def load_events_file(arguments: argparse.Namespace) -> int:
    portal = portal_named(arguments.portal)
    path = Path(arguments.file)
    reader = JsonLines(path)
    result = load_events(portal, reader)

    errors = sorted(
        reader.errors + [(reader.line_of(n), reason) for n, reason in result.errors]
    )
    document = {
        "portal": portal.slug,
        "stored": result.stored,
        "duplicates": result.duplicates,
        "errors": [{"line": line, "reason": reason} for line, reason in errors],
    }
    if arguments.json:
        print_json(document)
    else:
        print(
            f"{result.stored} events stored, {result.duplicates} duplicates, "
            f"{len(errors)} refused."
        )
    for line, reason in errors:
        print_error(f"{path.name} line {line}: {reason}")
    return 2 if errors else 0


class JsonLines:
    """The objects of a JSONL file; bad lines are kept aside with their number."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise CommandError(f"There is no file {path}; give the path of a .jsonl.")
        self.path = path
        self.errors: list[tuple[int, str]] = []
        self.lines: list[int] = []

    def __iter__(self) -> Iterator[Any]:
        with self.path.open("rb") as lines:
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    # A byte-order mark that some editors write is not data.
                    text = line.decode("utf-8")
                    item = json.loads(
                        text.removeprefix("\ufeff") if number == 1 else text
                    )
                except UnicodeDecodeError:
                    self.errors.append((number, "is not UTF-8 text"))
                    continue
                except json.JSONDecodeError as error:
                    self.errors.append(
                        (
                            number,
                            f"is not valid JSON ({error.msg} at column "
                            f"{error.colno}); write one JSON object a line",
                        )
                    )
                    continue
                except RecursionError:
                    self.errors.append((number, "is nested too deeply to be an event"))
                    continue
                self.lines.append(number)
                yield item

    def line_of(self, item_number: int) -> int:
        """The file line of the n-th object handed out (counting from 1)."""
        return self.lines[item_number - 1]

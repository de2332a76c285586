"""The commands of ``entatio`` and their arguments."""

import argparse
from collections.abc import Callable
from importlib import import_module

# Each command names its handler as "module:function" inside entatio.cli, so
# that parsing arguments (and --help) needs neither Django nor the models.
Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="entatio",
        description="Upload, share and present slides; see who has seen what.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = _command(
        commands, "serve", "server:serve", "run the web app and its worker"
    )
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="default: 8000")

    demo = _command(commands, "demo", "demo:demo", "make a demo organization")
    # Seed 11 is a world in which every planted effect clears discovery's bar.
    demo.add_argument("--seed", type=int, default=11, help="for the made-up data")
    demo.add_argument(
        "--scale",
        type=float,
        help="size of the world against the quick default (ENTATIO_DEMO_SCALE)",
    )
    _add_json(demo)

    imports = _command(
        commands, "import", "library:import_files", "import files as presentations"
    )
    imports.add_argument("files", nargs="+", metavar="FILE")
    imports.add_argument("--title", help="title of the presentation")
    imports.add_argument("--password", help="for a password-protected file")
    _add_portal(imports)
    _add_json(imports)

    listing = _command(
        commands,
        "presentations",
        "library:list_presentations",
        "list the presentations of a portal",
    )
    _add_portal(listing)
    _add_json(listing)

    slides = _command(
        commands, "slides", "library:list_slides", "list the slides of a presentation"
    )
    slides.add_argument("presentation", type=int, metavar="PRESENTATION")
    _add_json(slides)

    people = commands.add_parser("people", help="manage the members of a portal")
    people_commands = people.add_subparsers(
        dest="people_command", metavar="COMMAND", required=True
    )
    people_import = _command(
        people_commands,
        "import",
        "people:import_people_csv",
        "add or update members from a CSV",
    )
    people_import.add_argument("file", metavar="FILE.csv")
    people_import.add_argument("--group", help="add everyone to this group")
    people_import.add_argument(
        "--invite", action="store_true", help="mail new members a sign-in link"
    )
    _add_portal(people_import)
    _add_json(people_import)

    share = _command(
        commands, "share", "engagement:share", "share a presentation with a group"
    )
    share.add_argument("presentation", type=int, metavar="PRESENTATION")
    share.add_argument("--group", required=True, help="made when new")
    _add_portal(share)
    _add_json(share)

    records = _command(
        commands,
        "records",
        "exports:records",
        "show who has seen which slide, or rebuild all records from the events",
    )
    records.add_argument(
        "presentation", metavar="PRESENTATION|rebuild", help="an id, or 'rebuild'"
    )
    _add_portal(records)
    records.add_argument(
        "--sort", choices=("email", "account", "user_type", "seen"), default="email"
    )
    _add_json(records)

    events = commands.add_parser("events", help="load viewing events")
    events_commands = events.add_subparsers(
        dest="events_command", metavar="COMMAND", required=True
    )
    load = _command(
        events_commands,
        "load",
        "engagement:load_events_file",
        "load events from a JSONL file",
    )
    load.add_argument("file", metavar="FILE.jsonl")
    _add_portal(load)
    _add_json(load)
    purge = _command(
        events_commands,
        "purge",
        "exports:purge",
        "delete events older than each organization keeps them",
    )
    _add_json(purge)

    _add_export(commands)
    _add_privacy(people_commands)

    _add_crm(commands)
    _add_insights(commands)
    return parser


def _add_export(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    export = _command(
        commands,
        "export",
        "exports:export",
        "export events as xAPI, events and records as Parquet, visits as CSV",
    )
    export.add_argument("format", choices=("xapi", "parquet", "csv"))
    export.add_argument(
        "--out", required=True, help="a file (xapi, csv) or a folder (parquet)"
    )
    export.add_argument(
        "--lrs", help="also send the statements to this LRS endpoint (xapi only)"
    )
    export.add_argument(
        "--lrs-user", help="the LRS key; the secret is read from ENTATIO_LRS_PASSWORD"
    )
    _add_portal(export)
    _add_json(export)


def _add_privacy(people: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    data = _command(
        people, "export", "exports:export_member", "write all data of one member"
    )
    data.add_argument("email")
    data.add_argument("--out", required=True, help="the JSON file to write")
    _add_portal(data)
    _add_json(data)

    erase = _command(
        people, "erase", "exports:erase", "erase a member, keeping anonymous history"
    )
    erase.add_argument("email")
    erase.add_argument("--yes", action="store_true", help="confirm; cannot be undone")
    _add_portal(erase)
    _add_json(erase)


def _add_crm(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    crm = commands.add_parser("crm", help="accounts, contacts and sales from the CRM")
    crm_commands = crm.add_subparsers(
        dest="crm_command", metavar="COMMAND", required=True
    )

    imports = _command(
        crm_commands, "import", "crm:import_crm", "import Salesforce CSV exports"
    )
    imports.add_argument("--accounts", metavar="A.csv", help="Account export")
    imports.add_argument("--contacts", metavar="C.csv", help="Contact export")
    imports.add_argument("--opportunities", metavar="O.csv", help="Opportunity export")

    sync = _command(crm_commands, "sync", "crm:sync", "sync with Salesforce now")

    for command in (imports, sync):
        _add_portal(command)
        _add_json(command)


def _add_insights(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
) -> None:
    insights = commands.add_parser("insights", help="what the records tell")
    kinds = insights.add_subparsers(
        dest="insights_command", metavar="COMMAND", required=True
    )

    cube = _command(kinds, "cube", "insights:cube", "engagement by any dimension")
    cube.add_argument("--person", help="a member dimension, e.g. user_type")
    cube.add_argument("--account", help="an account dimension, e.g. segment")

    sales = _command(kinds, "sales", "insights:sales", "engagement against sales")
    sales.add_argument("--topic", help="compare accounts engaged with this topic")
    sales.add_argument("--user-type", help="only members of this user type")

    topics = _command(kinds, "topics", "insights:topics", "reach of each topic")
    topics.add_argument(
        "--suggest", type=int, metavar="N", help="first suggest N topics"
    )

    _command(kinds, "discover", "insights:discover", "statements the data supports")
    _command(kinds, "flow", "insights:flow", "how knowledge spreads by tier")

    for kind in kinds.choices.values():
        _add_portal(kind)
        _add_json(kind)


def _command(
    commands: "argparse._SubParsersAction[argparse.ArgumentParser]",
    name: str,
    handler: str,
    summary: str,
) -> argparse.ArgumentParser:
    command = commands.add_parser(name, help=summary, description=summary)
    command.set_defaults(handler=handler)
    return command


def _add_portal(command: argparse.ArgumentParser) -> None:
    command.add_argument("--portal", help="slug or name; default: the first portal")


def _add_json(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--json", action="store_true", help="print one JSON document instead"
    )


def handler_of(arguments: argparse.Namespace) -> Handler:
    module_name, function_name = arguments.handler.split(":")
    module = import_module(f"entatio.cli.{module_name}")
    return getattr(module, function_name)

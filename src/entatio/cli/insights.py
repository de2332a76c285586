"""``entatio insights``: the cube, sales, topics, discoveries and flow."""

import argparse
from typing import Any

from entatio.cli.output import CommandError, print_json, print_table
from entatio.insights.columnar import write_copy
from entatio.insights.cube import CUBE_COLUMNS, CubeError, Prepared, engagement_cube
from entatio.insights.cube import prepare as prepare_cube
from entatio.insights.discovery import discover as discover_insights
from entatio.insights.flow import knowledge_flow
from entatio.insights.market import market_view
from entatio.insights.sales import account_months, compare_sales, monthly_totals
from entatio.insights.topics import suggest_topics
from entatio.people.defaults import PortalNotFound, find_portal


def _prepared(arguments: argparse.Namespace) -> Prepared:
    """A fresh copy of the organization; its audience that of --portal if named.

    Without --portal every audience portal of the organization counts, as
    the organization's leaders read it; with it, that portal's members only,
    as its authors see it on the insights pages.
    """
    named = getattr(arguments, "portal", None)
    try:
        portal = find_portal(named)
    except PortalNotFound as error:
        raise CommandError(str(error)) from error
    copy = write_copy(portal.organization)
    return prepare_cube(copy, portal_ids=[portal.pk] if named else None)


def cube(arguments: argparse.Namespace) -> int:
    prepared = _prepared(arguments)
    try:
        found = engagement_cube(
            prepared, arguments.person or None, arguments.account or None
        )
    except CubeError as error:
        raise CommandError(str(error)) from error
    document = found.as_dict()
    if arguments.json:
        print_json(document)
        return 0
    print_table(CUBE_COLUMNS, [[r[c] for c in CUBE_COLUMNS] for r in document["rows"]])
    return 0


def sales(arguments: argparse.Namespace) -> int:
    prepared = _prepared(arguments)
    topics = {label.lower(): pk for pk, label in prepared.topics().items()}
    document: dict[str, Any] = {
        "months": monthly_totals(account_months(prepared)),
        "comparison": None,
    }
    if arguments.topic:
        topic_id = topics.get(arguments.topic.lower())
        if topic_id is None:
            raise CommandError(
                f"No topic {arguments.topic!r}; 'entatio insights topics' lists them."
            )
        if not arguments.user_type:
            raise CommandError(
                "Name the type of person too, e.g. --user-type developer."
            )
        found = compare_sales(prepared, topic_id, arguments.user_type)
        document["comparison"] = found.as_dict() if found else None

    if arguments.json:
        print_json(document)
        return 0
    print_table(
        ["month", "visits", "won"],
        [[m["month"], m["visits"], m["won_amount"]] for m in document["months"]],
    )
    if document["comparison"]:
        print()
        print_table(*_pairs(document["comparison"]))
    elif arguments.topic:
        print("\nToo few comparable accounts to compare sales for that topic.")
    return 0


def _pairs(document: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    return ["measure", "value"], [[k, v] for k, v in document.items()]


def topics(arguments: argparse.Namespace) -> int:
    if arguments.suggest:
        try:
            portal = find_portal(arguments.portal)
        except PortalNotFound as error:
            raise CommandError(str(error)) from error
        suggest_topics(portal.organization, n_topics=arguments.suggest)
    document = market_view(_prepared(arguments))
    if arguments.json:
        print_json(document)
        return 0
    if not document["topics"]:
        print("No topics yet; 'entatio insights topics --suggest 8' suggests some.")
        return 0
    print_table(
        ["topic", "members", "reach", "visits", "4 weeks", "12 weeks", "52 weeks"],
        [
            [
                t["name"],
                t["members"],
                t["reach"],
                t["visits"],
                _change(t["change_4w"]),
                _change(t["change_12w"]),
                _change(t["change_52w"]),
            ]
            for t in document["topics"]
        ],
    )
    return 0


def _change(value: float | None) -> str:
    return "" if value is None else f"{value * 100:+.0f}%"


def discover(arguments: argparse.Namespace) -> int:
    found = discover_insights(_prepared(arguments))
    document = found.as_dict()
    if arguments.json:
        print_json(document)
        return 0
    if not found.insights:
        print(f"Tested {found.tested} candidates; nothing stands out at q = 0.05.")
        return 0
    for number, insight in enumerate(document["insights"], start=1):
        print(f"{number}. {insight['sentence']} (q = {insight['q_value']:.2g})")
    return 0


def flow(arguments: argparse.Namespace) -> int:
    document = knowledge_flow(_prepared(arguments))
    if arguments.json:
        print_json(document)
        return 0
    rows = []
    for topic in document["topics"]:
        for tier in topic["tiers"]:
            rows.append(
                [topic["topic"], tier["tier"], tier["slides"], tier["members"],
                 tier["reach"], tier["first_seen"] or ""]
            )  # fmt: skip
    print_table(["topic", "tier", "slides", "members", "reach", "first seen"], rows)
    return 0

"""``entatio demo``: the demo organization, made once per home."""

import argparse

from entatio.cli.output import CommandError, print_json
from entatio.demo.build import DemoSummary, build_demo


def demo(arguments: argparse.Namespace) -> int:
    if arguments.scale is not None and not 0 < arguments.scale <= 100:
        raise CommandError("--scale must be above 0 and at most 100, such as 4.")
    summary = build_demo(seed=arguments.seed, scale=arguments.scale)

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
    for login in summary.logins:
        password = login.password or "the password set for it"
        print(f"Sign in as {login.email} ({login.role}) with {password}.")
    return 0


def _as_dict(summary: DemoSummary) -> dict:
    return {
        "created": summary.created,
        "organization": summary.organization.name,
        "portal": summary.portal.slug,
        "owner": {"email": summary.owner_email, "password": summary.owner_password},
        "logins": [
            {
                "email": x.email,
                "password": x.password,
                "role": x.role,
                "portal": x.portal,
            }
            for x in summary.logins
        ],
        "members": summary.members,
        "events": summary.events,
        "presentations": [
            {"id": p.pk, "title": p.title} for p in summary.presentations
        ],
    }

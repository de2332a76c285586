"""Build the demo organization: people, decks, shares and weeks of viewing.

Everything goes through the product's own functions (the importer, sharing,
event loading), so the demo shows what a real organization would see.
"""

import logging
import random
import secrets
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from entatio.demo.decks import DECKS, write_deck
from entatio.engagement.access import audience, share_presentation, sync_records
from entatio.engagement.events import record_events
from entatio.library.editing import shown_slides
from entatio.library.models import Presentation, Slide
from entatio.people.defaults import create_login, stored_password
from entatio.people.models import Account, Member, Organization, Portal, SharingGroup

logger = logging.getLogger(__name__)

ORGANIZATION = ("Northwind Cloud (demo)", "demo")
PORTAL = ("Customer academy", "academy")
OWNER_EMAIL = "owner@northwind.example"
AUTHOR_EMAIL = "author@northwind.example"
WEEKS_OF_HISTORY = 5

ACCOUNTS = (
    ("Globex", "001DEMO0000000001", "Enterprise", "Manufacturing", "EMEA"),
    ("Initech", "001DEMO0000000002", "Mid-market", "Financial services", "AMER"),
    ("Umbrella Health", "001DEMO0000000003", "Enterprise", "Healthcare", "AMER"),
    ("Hooli", "001DEMO0000000004", "SMB", "Technology", "APAC"),
)
USER_TYPES = ("admin", "developer", "analyst", "executive", "champion")
FIRST_NAMES = (
    "Ada", "Bela", "Chen", "Dara", "Emeka", "Farah", "Goran", "Hana", "Ines",
    "Jonas", "Kemal", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa",
    "Sven", "Tariq", "Uma", "Viktor", "Wen", "Yara",
)  # fmt: skip
LAST_NAMES = (
    "Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad",
    "Kowalski", "Brennan", "Iyer", "Castillo", "Weber",
)  # fmt: skip

# How the audience of a deck behaves: never opened it, looked once, came back.
BEHAVIOUR_WEIGHTS = {"absent": 0.25, "once": 0.35, "returning": 0.40}

# Imports a deck file into a portal and returns its presentation.
DeckImporter = Callable[[Portal, Path, str], Presentation]


@dataclass
class DemoSummary:
    organization: Organization
    portal: Portal
    owner_email: str
    owner_password: str | None
    created: bool
    presentations: list[Presentation] = field(default_factory=list)
    members: int = 0
    events: int = 0


def demo_exists() -> Organization | None:
    return Organization.objects.filter(slug=ORGANIZATION[1]).first()


def build_demo(import_deck: DeckImporter, seed: int = 7) -> DemoSummary:
    """Make the demo organization once; a second call only reports it."""
    existing = demo_exists()
    if existing is not None:
        return _summary_of(existing)

    rng = random.Random(seed)
    portal = _make_organization()
    try:
        members = _make_members(portal, rng)
        groups = _make_groups(portal, members)
        presentations = _import_decks(portal, import_deck)
        _share(presentations, groups)
        events = _simulate_viewing(portal, presentations, rng)
    except BaseException:
        # A half-made demo would count as made; remove it so a rerun starts over.
        portal.organization.delete()
        raise

    summary = _summary_of(portal.organization, created=True)
    summary.events = events
    return summary


def _make_organization() -> Portal:
    with transaction.atomic():
        name, slug = ORGANIZATION
        organization = Organization.objects.create(name=name, slug=slug)
        name, slug = PORTAL
        portal = Portal.objects.create(
            organization=organization,
            name=name,
            slug=slug,
            kind=Portal.Kind.CUSTOMER,
        )
        for name, crm_id, segment, industry, region in ACCOUNTS:
            Account.objects.create(
                organization=organization,
                name=name,
                crm_id=crm_id,
                segment=segment,
                industry=industry,
                region=region,
            )
    return portal


def _make_members(portal: Portal, rng: random.Random) -> list[Member]:
    """An owner and an author who sign in, and customers at every account."""
    create_login(
        portal,
        OWNER_EMAIL,
        secrets.token_urlsafe(12),
        Member.Role.OWNER,
        first_name="Olivia",
        last_name="Owner",
        user_type="customer success manager",
    )
    create_login(
        portal,
        AUTHOR_EMAIL,
        secrets.token_urlsafe(12),
        Member.Role.AUTHOR,
        first_name="Arun",
        last_name="Author",
        user_type="solutions engineer",
    )

    accounts = list(Account.objects.filter(organization=portal.organization))
    customers = []
    for number, first_name in enumerate(FIRST_NAMES):
        account = accounts[number % len(accounts)]
        last_name = rng.choice(LAST_NAMES)
        domain = account.name.lower().replace(" ", "") + ".example"
        customers.append(
            Member(
                portal=portal,
                email=f"{first_name.lower()}.{last_name.lower()}@{domain}",
                first_name=first_name,
                last_name=last_name,
                user_type=USER_TYPES[number % len(USER_TYPES)],
                account=account,
                title=rng.choice(("Manager", "Lead", "Director", "Engineer")),
                region=account.region,
                attributes={"plan": rng.choice(("standard", "premium"))},
            )
        )
    return Member.objects.bulk_create(customers)


def _import_decks(portal: Portal, import_deck: DeckImporter) -> list[Presentation]:
    presentations = []
    with tempfile.TemporaryDirectory(prefix="entatio-demo-") as folder:
        for deck in DECKS:
            path = write_deck(deck, Path(folder))
            presentations.append(import_deck(portal, path, deck.title))
    return presentations


def _make_groups(portal: Portal, members: list[Member]) -> dict[str, SharingGroup]:
    groups = {
        "customers": ("All customers", members),
        "admins": (
            "Admins and developers",
            [m for m in members if m.user_type in ("admin", "developer")],
        ),
        "globex": (
            "Globex team",
            [m for m in members if m.account and m.account.name == "Globex"],
        ),
    }
    made = {}
    for key, (name, group_members) in groups.items():
        group = SharingGroup.objects.create(portal=portal, name=name)
        group.members.add(*group_members)
        made[key] = group
    return made


def _share(presentations: list[Presentation], groups: dict[str, SharingGroup]) -> None:
    getting_started, release, security = presentations
    share_presentation(getting_started, groups["customers"])
    share_presentation(release, groups["admins"])
    share_presentation(release, groups["globex"])
    share_presentation(security, groups["customers"])
    sync_records([p.pk for p in presentations])


def _simulate_viewing(
    portal: Portal, presentations: list[Presentation], rng: random.Random
) -> int:
    """Visits over the past weeks: some never come, some once, some come back."""
    now = timezone.now()
    items: list[dict[str, Any]] = []
    for presentation in presentations:
        slides = shown_slides(presentation)
        for member in audience(presentation).order_by("pk"):
            behaviour = rng.choices(
                list(BEHAVIOUR_WEIGHTS), weights=list(BEHAVIOUR_WEIGHTS.values())
            )[0]
            visits = {"absent": 0, "once": 1, "returning": rng.randint(2, 3)}
            start = now - timedelta(
                days=rng.uniform(7, 7 * WEEKS_OF_HISTORY), hours=rng.uniform(0, 8)
            )
            for _ in range(visits[behaviour]):
                items.extend(_one_visit(member, slides, start, rng))
                start += timedelta(days=rng.uniform(1, 6))
                start = min(start, now - timedelta(hours=1))

    result = record_events(portal, items)
    if result.errors:
        logger.warning("Demo events refused: %s", result.errors[:3])
    return result.stored


def _one_visit(
    member: Member, slides: list[Slide], start: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """Pages through the deck from the start, dropping out at some slide."""
    visit = str(_uuid(rng))
    reach = rng.randint(1, len(slides)) if rng.random() < 0.5 else len(slides)
    at = start
    events = []
    for slide in slides[:reach]:
        # Now and then a slide is flicked past too fast to count as seen.
        seconds = rng.uniform(0.5, 2.5) if rng.random() < 0.1 else rng.uniform(4, 60)
        events.append(
            {
                "id": str(_uuid(rng)),
                "member": member.email,
                "slide": slide.pk,
                "verb": "viewed",
                "at": at.isoformat(),
                "duration_ms": int(seconds * 1000),
                "visit": visit,
            }
        )
        at += timedelta(seconds=seconds + rng.uniform(1, 5))
    return events


def _uuid(rng: random.Random) -> uuid.UUID:
    """A random UUID from the seeded generator, so a seed repeats the demo."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _summary_of(organization: Organization, created: bool = False) -> DemoSummary:
    portal = organization.portals.order_by("pk").first()
    assert portal is not None, "the demo organization always has its portal"
    return DemoSummary(
        organization=organization,
        portal=portal,
        owner_email=OWNER_EMAIL,
        owner_password=stored_password(OWNER_EMAIL),
        created=created,
        presentations=list(portal.presentations.order_by("pk")),
        members=portal.members.count(),
    )

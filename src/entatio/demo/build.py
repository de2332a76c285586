"""Build the demo organization: a simulated year of engagement and sales.

The organization is made by the insights simulator (``simulate_world``): a
product team's portal, a success team's and a customers' one, accounts with
a sales history, members of several types, decks on distinct topics and a
year of viewing with a few planted effects for the insights pages to find.
On top of it come logins that people can try (an owner, an author and a
customer), a picture for every slide, and the columnar copy that the
insights pages read, so that everything shows at once.
"""

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from entatio.demo.pictures import draw_slide_pictures
from entatio.engagement.access import sync_records
from entatio.engagement.models import Event
from entatio.insights.columnar import write_copy
from entatio.insights.simulate import TIERS, World, simulate_world
from entatio.library.models import Presentation
from entatio.people.defaults import create_login, stored_password
from entatio.people.models import Account, Member, Organization, Portal, SharingGroup

logger = logging.getLogger(__name__)

ORGANIZATION = ("Northwind Cloud (demo)", "demo")
OWNER_EMAIL = "owner@northwind.example"
AUTHOR_EMAIL = "author@northwind.example"
MEMBER_EMAIL = "member@northwind.example"
# 48 accounts and about 300 customers: built in well under a minute on two
# cores, and enough for every planted effect to stand out. A larger world:
# ENTATIO_DEMO_SCALE=4 makes four times as many accounts and members.
DEMO_SCALE = 1.0
SCALE_VARIABLE = "ENTATIO_DEMO_SCALE"
# The portal the command reports on: the customers see the decks there.
SHOWN_TIER = "customers"
EVERYONE = "Everyone"

# Imports a deck file into a portal; the simulator's slides need none now.
DeckImporter = Callable[[Portal, Path, str], Presentation]


@dataclass(frozen=True)
class Login:
    email: str
    password: str | None
    role: str
    portal: str


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
    logins: list[Login] = field(default_factory=list)
    world: World | None = None


def demo_exists() -> Organization | None:
    return Organization.objects.filter(slug=ORGANIZATION[1]).first()


def build_demo(
    import_deck: DeckImporter | None = None,
    seed: int = 7,
    scale: float | None = None,
) -> DemoSummary:
    """Make the demo organization once; a second call only reports it.

    ``import_deck`` is no longer called: the slides are drawn, not imported,
    so the demo needs no office suite. It stays while callers pass it.
    """
    existing = demo_exists()
    if existing is not None:
        return _summary_of(existing)
    scale = scale or demo_scale()

    name, slug = ORGANIZATION
    organization = Organization.objects.create(name=name, slug=slug)
    try:
        world = simulate_world(organization, seed=seed, scale=scale)
        _make_logins(world)
        draw_slide_pictures(organization)
        write_copy(organization)
    except BaseException:
        # A half-made demo would count as made; remove it so a rerun starts over.
        organization.delete()
        raise

    summary = _summary_of(organization, created=True)
    summary.world = world
    return summary


def demo_scale() -> float:
    """The size of the world: ENTATIO_DEMO_SCALE, else the quick default."""
    text = os.environ.get(SCALE_VARIABLE, "").strip()
    try:
        scale = float(text) if text else DEMO_SCALE
    except ValueError:
        scale = 0.0
    if not 0 < scale <= 100:
        logger.warning(
            "%s=%s is not a number above 0 and up to 100; using %s",
            SCALE_VARIABLE,
            text,
            DEMO_SCALE,
        )
        return DEMO_SCALE
    return scale


def _make_logins(world: World) -> None:
    """An owner and an author of every portal, and one customer who signs in.

    They join each portal's sharing group, so they see every deck there.
    """
    for portal in world.portals.values():
        _login(portal, OWNER_EMAIL, Member.Role.OWNER, "Olivia", "Owner")
        _login(portal, AUTHOR_EMAIL, Member.Role.AUTHOR, "Arun", "Author")

    customers = world.portals[SHOWN_TIER]
    account = (
        Account.objects.filter(organization=world.organization).order_by("pk").first()
    )
    _login(
        customers,
        MEMBER_EMAIL,
        Member.Role.MEMBER,
        "Mia",
        "Member",
        user_type="admin",
        account=account,
        region=account.region if account else "",
    )
    sync_records([p.pk for decks in world.presentations.values() for p in decks])


def _login(
    portal: Portal,
    email: str,
    role: str,
    first_name: str,
    last_name: str,
    **fields: object,
) -> Member:
    with transaction.atomic():
        member = create_login(
            portal,
            email,
            secrets.token_urlsafe(12),
            role,
            first_name=first_name,
            last_name=last_name,
            **fields,
        )
        group, _ = SharingGroup.objects.get_or_create(portal=portal, name=EVERYONE)
        group.members.add(member)
    return member


def _shown_portal(organization: Organization) -> Portal:
    _, slug, _ = TIERS[SHOWN_TIER]
    portal = (
        organization.portals.filter(slug=slug).first()
        or organization.portals.order_by("pk").first()
    )
    assert portal is not None, "the demo organization always has its portals"
    return portal


def _logins_of(organization: Organization) -> list[Login]:
    members = Member.objects.filter(
        portal__organization=organization,
        email__in=(OWNER_EMAIL, AUTHOR_EMAIL, MEMBER_EMAIL),
    ).select_related("portal")
    # One line per person: the portal where they see the customers' decks.
    found: dict[str, Login] = {}
    for member in members.order_by("portal_id"):
        found[member.email] = Login(
            member.email, stored_password(member.email), member.role, member.portal.slug
        )
    return list(found.values())


def _summary_of(organization: Organization, created: bool = False) -> DemoSummary:
    portal = _shown_portal(organization)
    return DemoSummary(
        organization=organization,
        portal=portal,
        owner_email=OWNER_EMAIL,
        owner_password=stored_password(OWNER_EMAIL),
        created=created,
        presentations=list(portal.presentations.order_by("pk")),
        members=portal.members.count(),
        events=Event.objects.filter(portal__organization=organization).count(),
        logins=_logins_of(organization),
    )

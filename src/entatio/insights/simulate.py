"""A simulated organization with known effects, for demos, tests and benches.

``simulate_world`` builds, through the product's own functions, a product
team's portal, a success team's and a customers' one; accounts with a sales
history; members of several types; decks on distinct topics copied from tier
to tier; shares; and more than a year of viewing loaded as events. With
``effects`` on, it plants a few effects that discovery should find:

- admins reach the versioning deck far more often than others;
- members at enterprise accounts come back to security far more often;
- attention to analytics has risen over the last twelve weeks;
- an account's sales rise in the quarter after its developers read about
  integrations;
- a few accounts have nearly stopped viewing in the last six weeks.

Without effects every member of a type behaves alike and sales do not move
with engagement, so anything discovery reports there is a false positive.
"""

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from entatio.crm.models import Opportunity
from entatio.engagement.access import share_presentation, sync_records
from entatio.engagement.events import load_events
from entatio.insights.models import Topic
from entatio.insights.topics import effective_slide_topics, suggest_topics
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.people.models import Account, Member, Organization, Portal, SharingGroup

logger = logging.getLogger(__name__)

DAY = timedelta(days=1)
QUARTER_DAYS = 91
QUARTERS = 5
HISTORY_DAYS = QUARTERS * QUARTER_DAYS
SLIDES_PER_DECK = 5
ACCOUNTS_AT_SCALE_1 = 48

TOPIC_WORDS = {
    "versioning": "version branch merge commit history rollback diff revision "
    "snapshot changelog",
    "security": "encryption password token audit permission compliance "
    "certificate firewall vulnerability authentication",
    "analytics": "dashboard metric report chart funnel cohort query "
    "visualization forecast benchmark",
    "integrations": "api webhook connector endpoint plugin oauth payload sdk "
    "middleware callback",
    "billing": "invoice payment subscription pricing refund tax currency "
    "discount renewal receipt",
    "onboarding": "welcome setup checklist invite tutorial profile workspace "
    "wizard walkthrough orientation",
}
COMMON_WORDS = (
    "platform", "team", "customer", "feature", "data", "workflow", "project",
    "user", "product", "improve", "easy", "new", "support", "together", "simple",
)  # fmt: skip
# Visits per member per 30 days for a member who engages with the topic.
BASE_RATE = {
    "versioning": 0.5,
    "security": 0.4,
    "analytics": 0.5,
    "integrations": 0.6,
    "billing": 0.3,
    "onboarding": 0.45,
}
ENGAGING_SHARE = 0.5

USER_TYPES = ("admin", "developer", "analyst", "executive")
USER_TYPE_WEIGHTS = (0.25, 0.3, 0.3, 0.15)
TITLES = ("Manager", "Lead", "Director", "Engineer", "Specialist")
REGIONS = ("EMEA", "AMER", "APAC", "LATAM")
INDUSTRIES = ("Manufacturing", "Financial services", "Healthcare", "Technology")
ACCOUNT_TYPES = ("Customer - Direct", "Customer - Channel")
# Segment: share of accounts, employees range, deals a month, mean deal size.
SEGMENTS = {
    "Enterprise": (0.3, (2_000, 40_000), 1.0, 40_000),
    "Mid-market": (0.4, (200, 2_000), 0.8, 12_000),
    "SMB": (0.3, (10, 200), 0.6, 3_000),
}
TIERS = {
    "product": ("Product team", "product-team", Portal.Kind.INTERNAL),
    "success": ("Success team", "success-team", Portal.Kind.INTERNAL),
    "customers": ("Customers", "customers", Portal.Kind.CUSTOMER),
}
# Days before the customers' history starts at which each tier gets the decks.
TIER_START_DAYS = {"product": 85, "success": 50, "customers": 15}
INTERNAL_TEAM = {
    "product": ("product manager", 5),
    "success": ("customer success manager", 8),
}

REACH_PLANT = ("admin", "versioning", 0.95)
FREQUENCY_PLANT = ("Enterprise", "security", 3.0)
TREND_PLANT = ("analytics", 84, 3.0)
SALES_PLANT = ("developer", "integrations", 2.0)
RISK_PLANT = (42, 0.1)
RISK_ACCOUNTS_AT_SCALE_1 = 3


@dataclass(frozen=True)
class PlantedEffect:
    """An effect built into the world that discovery ought to report."""

    kind: str
    measure: str
    topic: str
    person: tuple[str, str] | None = None
    account: tuple[str, str] | None = None
    direction: int = 1


@dataclass
class World:
    organization: Organization
    seed: int
    portals: dict[str, Portal]
    topic_of_deck: dict[str, Topic]
    presentations: dict[str, list[Presentation]]
    accounts: int = 0
    members: int = 0
    events: int = 0
    opportunities: int = 0
    planted: list[PlantedEffect] = field(default_factory=list)
    at_risk_accounts: list[str] = field(default_factory=list)
    until: datetime | None = None


@dataclass
class _Customer:
    member: Member
    account_index: int
    user_type: str


def simulate_world(
    organization: Organization,
    seed: int = 0,
    scale: float = 1.0,
    effects: bool = True,
    until: datetime | None = None,
) -> World:
    """Build a simulated world into the organization and return what it holds."""
    rng = np.random.default_rng(seed)
    until = until or timezone.now()
    start = until - HISTORY_DAYS * DAY

    portals = _make_portals(organization)
    world = World(organization, seed, portals, {}, {}, until=until)
    accounts = _make_accounts(organization, rng, scale, seed)
    customers = _make_customers(portals["customers"], accounts, rng, seed)
    staff = _make_staff(portals, seed)
    world.presentations = _make_decks(portals, rng, start)
    _share_with_everyone(portals, world.presentations)

    rates = _plan_engagement(customers, accounts, rng, effects, world)
    counts = rng.poisson(rates)
    world.events = _load_customer_events(
        portals["customers"], customers, counts, world.presentations, rng, start
    )
    world.events += _load_staff_events(portals, staff, world.presentations, rng, start)
    world.opportunities = _make_sales(
        organization, accounts, customers, counts, rng, effects, start, seed
    )

    suggest_topics(organization, n_topics=len(TOPIC_WORDS), seed=seed)
    world.topic_of_deck = _topics_of_decks(organization, world.presentations)
    world.accounts, world.members = len(accounts), len(customers)
    logger.info(
        "Simulated world %s (seed %d): %d accounts, %d members, %d events",
        organization.slug,
        seed,
        world.accounts,
        world.members,
        world.events,
    )
    return world


def _make_portals(organization: Organization) -> dict[str, Portal]:
    portals = {}
    for tier, (name, slug, kind) in TIERS.items():
        portals[tier], _ = Portal.objects.get_or_create(
            organization=organization, slug=slug, defaults={"name": name, "kind": kind}
        )
    return portals


def _make_accounts(
    organization: Organization, rng: np.random.Generator, scale: float, seed: int
) -> list[Account]:
    count = max(12, round(ACCOUNTS_AT_SCALE_1 * scale))
    names = list(SEGMENTS)
    shares = [SEGMENTS[s][0] for s in names]
    accounts = []
    for number in range(count):
        segment = names[rng.choice(len(names), p=shares)]
        low, high = SEGMENTS[segment][1]
        accounts.append(
            Account(
                organization=organization,
                name=f"Account {seed}-{number:04d}",
                crm_id=f"SIM{seed:04d}{number:06d}",
                segment=segment,
                industry=str(rng.choice(INDUSTRIES)),
                account_type=str(rng.choice(ACCOUNT_TYPES)),
                employees=int(np.exp(rng.uniform(np.log(low), np.log(high)))),
                region=str(rng.choice(REGIONS)),
            )
        )
    return Account.objects.bulk_create(accounts)


def _make_customers(
    portal: Portal, accounts: list[Account], rng: np.random.Generator, seed: int
) -> list[_Customer]:
    rows = []
    for index, account in enumerate(accounts):
        for number in range(int(rng.integers(4, 9))):
            user_type = str(rng.choice(USER_TYPES, p=USER_TYPE_WEIGHTS))
            member = Member(
                portal=portal,
                email=f"p{number}.a{index}.s{seed}@customer.example",
                first_name=f"Person {number}",
                last_name=account.name,
                user_type=user_type,
                account=account,
                title=str(rng.choice(TITLES)),
                region=account.region,
                attributes={"plan": str(rng.choice(("standard", "premium")))},
            )
            rows.append(_Customer(member, index, user_type))
    Member.objects.bulk_create([r.member for r in rows], batch_size=1000)
    return rows


def _make_staff(portals: dict[str, Portal], seed: int) -> dict[str, list[Member]]:
    staff = {}
    for tier, (user_type, count) in INTERNAL_TEAM.items():
        staff[tier] = Member.objects.bulk_create(
            Member(
                portal=portals[tier],
                email=f"{tier}{number}.s{seed}@vendor.example",
                first_name=f"{tier.title()} {number}",
                user_type=user_type,
            )
            for number in range(count)
        )
    return staff


def _deck_slides(topic: str, rng: np.random.Generator) -> list[dict[str, str]]:
    words = TOPIC_WORDS[topic].split()
    slides = []
    for number in range(SLIDES_PER_DECK):
        first, second = rng.choice(words, size=2, replace=False)
        body = [*rng.choice(words, size=18), *rng.choice(COMMON_WORDS, size=10)]
        rng.shuffle(body)
        slides.append(
            {
                "title": f"{topic.title()} {number + 1}: {first} and {second}",
                "description": f"How {first} works with {second}.",
                "text": " ".join(body),
                "notes": " ".join(rng.choice(words, size=6)),
            }
        )
    return slides


def _make_decks(
    portals: dict[str, Portal], rng: np.random.Generator, start: datetime
) -> dict[str, list[Presentation]]:
    """One deck per topic in each tier, each tier's slides copied from the last."""
    decks: dict[str, list[Presentation]] = {}
    for topic in TOPIC_WORDS:
        contents = _deck_slides(topic, rng)
        previous: list[Slide] | None = None
        decks[topic] = []
        for tier, portal in portals.items():
            made_at = start - TIER_START_DAYS[tier] * DAY
            presentation, previous = _make_deck(portal, topic, contents, previous)
            Slide.objects.filter(pk__in=[s.pk for s in previous]).update(
                created_at=made_at
            )
            Presentation.objects.filter(pk=presentation.pk).update(created_at=made_at)
            decks[topic].append(presentation)
    return decks


def _make_deck(
    portal: Portal,
    topic: str,
    contents: list[dict[str, str]],
    originals: list[Slide] | None,
) -> tuple[Presentation, list[Slide]]:
    with transaction.atomic():
        presentation = Presentation.objects.create(
            portal=portal, title=f"{topic.title()} in depth"
        )
        slides = Slide.objects.bulk_create(
            Slide(
                portal=portal,
                kind=Slide.Kind.TEXT,
                index_in_source=number,
                copied_from=originals[number] if originals else None,
                **content,
            )
            for number, content in enumerate(contents)
        )
        PresentationSlide.objects.bulk_create(
            PresentationSlide(presentation=presentation, slide=slide, position=n)
            for n, slide in enumerate(slides)
        )
    return presentation, slides


def _share_with_everyone(
    portals: dict[str, Portal], decks: dict[str, list[Presentation]]
) -> None:
    for tier, portal in portals.items():
        group, _ = SharingGroup.objects.get_or_create(portal=portal, name="Everyone")
        group.members.add(*Member.objects.filter(portal=portal))
        for presentations in decks.values():
            share_presentation(presentations[list(portals).index(tier)], group)
    sync_records([p.pk for ps in decks.values() for p in ps])


def _plan_engagement(
    customers: list[_Customer],
    accounts: list[Account],
    rng: np.random.Generator,
    effects: bool,
    world: World,
) -> np.ndarray:
    """Expected visits of each (member, topic, day) of the history."""
    topics = list(TOPIC_WORDS)
    n_members = len(customers)
    user_types = np.array([c.user_type for c in customers])
    segments = np.array([accounts[c.account_index].segment for c in customers])

    engaging = np.full((n_members, len(topics)), ENGAGING_SHARE)
    monthly = np.tile([BASE_RATE[t] for t in topics], (n_members, 1))
    # Some people read more than others: the same for every topic.
    monthly *= rng.gamma(2.0, 0.5, size=(n_members, 1))
    over_time = np.ones((n_members, len(topics), HISTORY_DAYS))
    if effects:
        _plant(world, topics, user_types, segments, engaging, monthly, over_time)
        _plant_risk(world, customers, accounts, rng, over_time)

    engaged = rng.random((n_members, len(topics))) < engaging
    daily = np.where(engaged, monthly / 30, 0.0)
    return daily[:, :, None] * over_time


def _plant(
    world: World,
    topics: list[str],
    user_types: np.ndarray,
    segments: np.ndarray,
    engaging: np.ndarray,
    monthly: np.ndarray,
    over_time: np.ndarray,
) -> None:
    user_type, topic, share = REACH_PLANT
    engaging[user_types == user_type, topics.index(topic)] = share
    world.planted.append(
        PlantedEffect("cell", "reach", topic, person=("user_type", user_type))
    )

    segment, topic, factor = FREQUENCY_PLANT
    monthly[segments == segment, topics.index(topic)] *= factor
    world.planted.append(
        PlantedEffect("cell", "frequency", topic, account=("segment", segment))
    )

    topic, days, factor = TREND_PLANT
    over_time[:, topics.index(topic), -days:] *= factor
    world.planted.append(PlantedEffect("trend", "visits", topic))

    user_type, topic, _ = SALES_PLANT
    world.planted.append(
        PlantedEffect("sales", "sales", topic, person=("user_type", user_type))
    )


def _plant_risk(
    world: World,
    customers: list[_Customer],
    accounts: list[Account],
    rng: np.random.Generator,
    over_time: np.ndarray,
) -> None:
    days, factor = RISK_PLANT
    count = max(2, round(RISK_ACCOUNTS_AT_SCALE_1 * len(accounts) / 48))
    falling = set(rng.choice(len(accounts), size=count, replace=False).tolist())
    for row, customer in enumerate(customers):
        if customer.account_index in falling:
            over_time[row, :, -days:] *= factor
    world.at_risk_accounts = sorted(accounts[i].name for i in falling)


def _new_id() -> str:
    # Random, not drawn from the seed: two worlds of one seed in one database
    # must not share event or visit ids, which are stored once.
    return str(uuid.uuid4())


def _visit_events(
    email: str,
    slides: list[int],
    at: datetime,
    rng: np.random.Generator,
) -> Iterator[dict[str, Any]]:
    visit = _new_id()
    shown = rng.choice(
        slides, size=int(rng.integers(1, len(slides) + 1)), replace=False
    )
    for slide_id in shown:
        duration_ms = int(rng.integers(4_000, 90_000))
        yield {
            "id": _new_id(),
            "member": email,
            "slide": int(slide_id),
            "verb": "viewed",
            "at": at.isoformat(),
            "duration_ms": duration_ms,
            "visit": visit,
        }
        at += timedelta(milliseconds=duration_ms)


def _customer_events(
    customers: list[_Customer],
    counts: np.ndarray,
    slides_of_topic: list[list[int]],
    rng: np.random.Generator,
    start: datetime,
) -> Iterator[dict[str, Any]]:
    for row, topic, day in zip(*np.nonzero(counts), strict=True):
        email = customers[row].member.email
        for _ in range(int(counts[row, topic, day])):
            at = (
                start + int(day) * DAY + timedelta(seconds=int(rng.integers(0, 86_000)))
            )
            yield from _visit_events(email, slides_of_topic[topic], at, rng)


def _load_customer_events(
    portal: Portal,
    customers: list[_Customer],
    counts: np.ndarray,
    decks: dict[str, list[Presentation]],
    rng: np.random.Generator,
    start: datetime,
) -> int:
    tier = list(TIERS).index("customers")
    slides_of_topic = [
        list(decks[t][tier].slides.order_by("pk").values_list("pk", flat=True))
        for t in TOPIC_WORDS
    ]
    events = _customer_events(customers, counts, slides_of_topic, rng, start)
    result = load_events(portal, events)
    return result.stored


def _load_staff_events(
    portals: dict[str, Portal],
    staff: dict[str, list[Member]],
    decks: dict[str, list[Presentation]],
    rng: np.random.Generator,
    start: datetime,
) -> int:
    """Each internal team reads every deck within weeks of getting it."""
    stored = 0
    for tier, members in staff.items():
        index = list(TIERS).index(tier)
        events: list[dict[str, Any]] = []
        for presentations in decks.values():
            slides = list(
                presentations[index].slides.order_by("pk").values_list("pk", flat=True)
            )
            for member in members:
                offset = int(rng.integers(1, 25))
                at = start - (TIER_START_DAYS[tier] - offset) * DAY
                events.extend(_visit_events(member.email, slides, at, rng))
        stored += load_events(portals[tier], events).stored
    return stored


def _engaged_quarters(
    customers: list[_Customer], counts: np.ndarray, n_accounts: int
) -> np.ndarray:
    """Whether each account's members of the planted type saw the topic each quarter."""
    user_type, topic, _ = SALES_PLANT
    column = list(TOPIC_WORDS).index(topic)
    engaged = np.zeros((n_accounts, QUARTERS), dtype=bool)
    for row, customer in enumerate(customers):
        if customer.user_type == user_type:
            by_quarter = counts[row, column].reshape(QUARTERS, QUARTER_DAYS).sum(axis=1)
            engaged[customer.account_index] |= by_quarter > 0
    return engaged


def _make_sales(
    organization: Organization,
    accounts: list[Account],
    customers: list[_Customer],
    counts: np.ndarray,
    rng: np.random.Generator,
    effects: bool,
    start: datetime,
    seed: int,
) -> int:
    """Closed deals per quarter; with effects, more after engaged quarters."""
    engaged = _engaged_quarters(customers, counts, len(accounts))
    _, _, uplift = SALES_PLANT
    deals = []
    for index, account in enumerate(accounts):
        _, _, monthly_deals, deal_size = SEGMENTS[account.segment]
        for quarter in range(QUARTERS):
            rate = monthly_deals * 3
            if effects and quarter > 0 and engaged[index, quarter - 1]:
                rate *= uplift
            for _ in range(int(rng.poisson(rate))):
                deals.append((index, quarter, deal_size, bool(rng.random() < 0.7)))

    opportunities = []
    for number, (index, quarter, deal_size, won) in enumerate(deals):
        day = quarter * QUARTER_DAYS + int(rng.integers(0, QUARTER_DAYS))
        amount = deal_size * rng.lognormal(-0.125, 0.5)
        opportunities.append(
            Opportunity(
                organization=organization,
                crm_id=f"SIMOPP{seed:04d}{number:07d}",
                account=accounts[index],
                name=f"Deal {number}",
                stage="Closed Won" if won else "Closed Lost",
                amount=Decimal(f"{amount:.2f}"),
                close_date=(start + day * DAY).date(),
                is_won=won,
                is_closed=True,
            )
        )
    Opportunity.objects.bulk_create(opportunities, batch_size=1000)
    return len(opportunities)


def _topics_of_decks(
    organization: Organization, decks: dict[str, list[Presentation]]
) -> dict[str, Topic]:
    """The topic most of each deck's slides carry."""
    topics_of_slide: dict[int, list[int]] = {}
    for slide_id, topic_id in effective_slide_topics(organization):
        topics_of_slide.setdefault(slide_id, []).append(topic_id)
    by_id = {t.pk: t for t in Topic.objects.filter(organization=organization)}

    found = {}
    for key, presentations in decks.items():
        slide_ids = presentations[0].slides.values_list("pk", flat=True)
        votes = [t for s in slide_ids for t in topics_of_slide.get(s, [])]
        if votes:
            found[key] = by_id[max(set(votes), key=votes.count)]
    return found

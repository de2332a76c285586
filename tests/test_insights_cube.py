"""The cube, topics, flow, goals and commands on a small world made by hand."""

import argparse
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from entatio.cli import insights as commands
from entatio.engagement.access import share_presentation, sync_records
from entatio.engagement.events import record_events
from entatio.insights.columnar import write_copy
from entatio.insights.cube import engagement_cube, prepare, size_band
from entatio.insights.flow import knowledge_flow
from entatio.insights.goals import goal_value, track_goals
from entatio.insights.models import Goal, SlideTopic, Topic
from entatio.insights.topics import (
    effective_slide_topics,
    rename_topic,
    suggest_topics,
    tag_slide,
)
from entatio.library.models import Presentation, PresentationSlide, Slide
from entatio.people.models import Account, Member, Portal, SharingGroup

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _deck(portal: Portal, title: str, texts: list[str], copied=None) -> list[Slide]:
    presentation = Presentation.objects.create(portal=portal, title=title)
    slides = [
        Slide.objects.create(
            portal=portal,
            title=f"{title} {n}",
            text=text,
            index_in_source=n,
            copied_from=copied[n] if copied else None,
        )
        for n, text in enumerate(texts)
    ]
    for n, slide in enumerate(slides):
        PresentationSlide.objects.create(
            presentation=presentation, slide=slide, position=n
        )
    return slides


@pytest.fixture
def small_world(org, portal, other_portal):
    """Customers: 2 admins (Globex, Enterprise), 1 developer (Initech, SMB)."""
    portal.kind = Portal.Kind.CUSTOMER
    portal.save()
    globex = Account.objects.create(
        organization=org, name="Globex", segment="Enterprise", employees=5000
    )
    initech = Account.objects.create(
        organization=org, name="Initech", segment="SMB", employees=40
    )
    people = [
        Member.objects.create(portal=portal, email=e, user_type=t, account=a)
        for e, t, a in (
            ("a1@globex.test", "admin", globex),
            ("a2@globex.test", "admin", globex),
            ("d1@initech.test", "developer", initech),
        )
    ]
    originals = _deck(other_portal, "Security", ["encryption audit", "tokens"])
    slides = _deck(portal, "Security", ["encryption audit", "tokens"], originals)
    group = SharingGroup.objects.create(portal=portal, name="All")
    group.members.add(*people)
    share_presentation(Presentation.objects.get(portal=portal), group)
    sync_records()

    topic = Topic.objects.create(organization=org, label="Security")
    tag_slide(originals[0], topic)
    tag_slide(originals[1], topic)
    # a1 visits twice, a2 once (too short the second time), d1 never.
    events = [
        ("a1@globex.test", slides[0], NOW - timedelta(days=20), 5000, "v1"),
        ("a1@globex.test", slides[1], NOW - timedelta(days=10), 4000, "v2"),
        ("a2@globex.test", slides[0], NOW - timedelta(days=5), 9000, "v3"),
        ("a2@globex.test", slides[1], NOW - timedelta(days=4), 1000, "v4"),
    ]
    record_events(
        portal,
        [
            {"id": f"00000000-0000-4000-8000-00000000000{n}", "member": email,
             "slide": slide.pk, "verb": "viewed", "at": at.isoformat(),
             "duration_ms": ms, "visit": visit}
            for n, (email, slide, at, ms, visit) in enumerate(events)
        ],
    )  # fmt: skip
    return {"topic": topic, "slides": slides, "originals": originals, "org": org}


def _prepared(org):
    copy = write_copy(org)
    return prepare(copy, window=_window(copy))


def _window(copy):
    from entatio.insights.cube import Window

    return Window(NOW - timedelta(days=30), NOW)


def test_cube_counts_reach_frequency_return_and_dwell(small_world):
    prepared = _prepared(small_world["org"])
    topic_id = small_world["topic"].pk

    cube = engagement_cube(prepared, "user_type", "segment", topic_id)
    rows = {(r.cell.person, r.cell.account): r.cell for r in cube.rows}

    admins = rows[("admin", "Enterprise")]
    assert (admins.members, admins.reached, admins.returned) == (2, 2, 1)
    assert admins.reach == 1.0 and admins.return_share == 0.5
    assert admins.frequency == pytest.approx(1.5)  # 3 visits, 2 people, 30 days
    assert admins.dwell_seconds == pytest.approx((5 + 4 + 9) / 2)
    developers = rows[("developer", "SMB")]
    assert (developers.members, developers.reached) == (1, 0)
    overall = cube.rows[0].baseline
    assert (overall.members, overall.reached) == (3, 2)
    assert cube.as_dict()["rows"][0]["overall_reach"] == pytest.approx(0.6667)


def test_size_bands():
    assert [size_band(n) for n in (None, 40, 500, 5000, 50_000)] == [
        "(none)", "1-99", "100-999", "1,000-9,999", "10,000+",
    ]  # fmt: skip


def test_copies_inherit_topics_and_an_authors_tag_wins(small_world):
    org, topic = small_world["org"], small_world["topic"]
    other = Topic.objects.create(organization=org, label="Billing")
    copy = small_world["slides"][0]
    SlideTopic.objects.create(
        slide=copy, topic=other, origin=SlideTopic.Origin.SUGGESTED
    )

    pairs = set(effective_slide_topics(org))
    assert (copy.pk, other.pk) in pairs and (copy.pk, topic.pk) not in pairs
    assert (small_world["slides"][1].pk, topic.pk) in pairs

    tag_slide(copy, topic)
    assert (copy.pk, topic.pk) in set(effective_slide_topics(org))
    assert (copy.pk, other.pk) not in set(effective_slide_topics(org))


def test_suggested_topics_follow_the_decks_and_keep_edited_labels(org, other_portal):
    words = {
        "versioning": "branch merge commit rollback diff revision",
        "billing": "invoice payment refund tax currency receipt",
        "security": "encryption password token audit firewall certificate",
    }
    decks = {
        key: _deck(other_portal, key, [f"{text} {key} slide {n}" for n in range(4)])
        for key, text in words.items()
    }

    suggestion = suggest_topics(org, n_topics=3, seed=1)
    pairs = dict(effective_slide_topics(org))
    assert len(suggestion.topics) == 3
    assert len({pairs[s.pk] for s in decks["billing"]}) == 1
    assert len({pairs[s[0].pk] for s in decks.values()}) == 3

    billing = Topic.objects.get(pk=pairs[decks["billing"][0].pk])
    assert any(t in billing.terms for t in ("invoice", "payment", "refund"))
    rename_topic(billing, "Billing and invoices")
    suggest_topics(org, n_topics=3, seed=1)
    billing.refresh_from_db()
    assert billing.label == "Billing and invoices"
    assert dict(effective_slide_topics(org))[decks["billing"][0].pk] == billing.pk


def test_flow_goes_from_product_team_to_customers(small_world):
    flow = knowledge_flow(_prepared(small_world["org"]))

    [security] = flow["topics"]
    tiers = {t["tier"]: t for t in security["tiers"]}
    assert set(tiers) == {"product team", "customers"}
    assert tiers["customers"]["members"] == 3
    assert tiers["customers"]["reached"] == 2
    assert tiers["product team"]["slides"] == 2


def test_goal_value_counts_accounts_and_snapshots(small_world):
    org = small_world["org"]
    goal = Goal.objects.create(
        organization=org,
        name="Admins read security",
        topic=small_world["topic"],
        person_field="user_type",
        person_value="admin",
        unit=Goal.Unit.ACCOUNTS,
        target=0.5,
        due=date(2026, 12, 31),
    )
    prepared = _prepared(org)

    assert goal_value(goal, prepared, NOW.date()).value == 1.0
    before = goal_value(goal, prepared, (NOW - timedelta(days=25)).date())
    assert (before.reached, before.counted) == (0, 1)
    goal.unit, goal.person_field = Goal.Unit.MEMBERS, ""
    assert goal_value(goal, prepared, NOW.date()).value == pytest.approx(2 / 3)

    [snapshot] = track_goals(org, prepared)
    assert snapshot.taken_on == NOW.date() and snapshot.counted == 1


@pytest.mark.parametrize("command", ["cube", "sales", "topics", "discover", "flow"])
def test_commands_print_one_json_document(small_world, capsys, command):
    arguments = argparse.Namespace(
        portal="customers", json=True, person="user_type", account="segment",
        topic=None, user_type="admin", suggest=None,
    )  # fmt: skip

    assert getattr(commands, command)(arguments) == 0
    document = json.loads(capsys.readouterr().out)
    assert isinstance(document, dict)
    if command == "cube":
        admins = [r for r in document["rows"] if r["person"] == "admin"]
        assert {r["members"] for r in admins} == {2}
    if command == "discover":
        assert document["insights"] == [] and document["q"] == 0.05


def test_the_entatio_command_runs_the_insights(small_world, capsys):
    from entatio.cli.main import main

    status = main(["insights", "cube", "--portal", "customers", "--json",
                   "--person", "user_type"])  # fmt: skip

    assert status == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert {(r["person"], r["members"]) for r in rows if r["topic_id"]} == {
        ("admin", 2), ("developer", 1),
    }  # fmt: skip
    assert main(["insights", "sales", "--topic", "Security", "--json"]) == 2


def test_unknown_cube_field_is_a_command_error(small_world):
    arguments = argparse.Namespace(
        portal="customers", json=True, person="shoe_size", account=None
    )
    with pytest.raises(commands.CommandError, match="No person field 'shoe_size'"):
        commands.cube(arguments)


def test_copy_is_current_and_fresh(small_world):
    first = write_copy(small_world["org"])
    second = write_copy(small_world["org"])
    assert second.written_at >= first.written_at
    assert (second.folder / "events").is_dir()
    assert second.written_at <= timezone.now()


def test_sales_permutation_p_value_separates_a_link_from_none():
    import numpy as np
    import pandas as pd

    from entatio.insights.sales import PERMUTATIONS, permutation_p_value

    rng = np.random.default_rng(3)
    accounts, quarters = 40, 4
    frame = pd.DataFrame(
        {
            "account_id": np.repeat(np.arange(accounts), quarters),
            "ago": np.tile(np.arange(quarters), accounts),
            "stratum": np.repeat(rng.choice(["A", "B"], accounts), quarters),
            "engaged": rng.random(accounts * quarters) < 0.5,
            "current": rng.gamma(2, 0.5, accounts * quarters),
        }
    )
    noise = rng.normal(0, 0.5, len(frame))

    linked = frame.assign(following=1 + frame.engaged * 1.0 + noise)
    unlinked = frame.assign(following=1 + noise)

    assert permutation_p_value(linked) == 1 / (PERMUTATIONS + 1)
    assert permutation_p_value(unlinked) > 0.05

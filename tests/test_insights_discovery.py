"""Discovery on simulated worlds: planted effects found, none invented."""

import re

import pytest

from entatio.insights.columnar import write_copy
from entatio.insights.cube import prepare
from entatio.insights.discovery import Discovery, discover
from entatio.insights.risk import AccountTrend, accounts_at_risk
from entatio.insights.simulate import World, simulate_world
from entatio.people.models import Organization

PLANTED_SEEDS = (11, 12)
NULL_SEEDS = (21,)
# Words that would claim a cause; sentences may only say what goes together.
CAUSAL = re.compile(
    r"\b(caus\w*|because|due to|led to|leads? to|result\w* in|drive[sn]?|drove|"
    r"impact\w*|effect\w*|boost\w*|thanks to|makes?|made|increase[sd]? sales)\b",
    re.IGNORECASE,
)


def _build(seed: int, effects: bool) -> tuple[World, Discovery, list[AccountTrend]]:
    organization = Organization.objects.create(
        name=f"World {seed}", slug=f"world-{seed}-{int(effects)}"
    )
    world = simulate_world(organization, seed=seed, effects=effects)
    prepared = prepare(write_copy(organization))
    return world, discover(prepared), accounts_at_risk(prepared)


def found_planted(world: World, discovery: Discovery) -> list[bool]:
    found = []
    for effect in world.planted:
        topic = world.topic_of_deck[effect.topic].pk
        found.append(
            any(
                i.kind == effect.kind
                and i.topic_id == topic
                and (effect.kind != "cell" or i.measure == effect.measure)
                and i.person == effect.person
                and i.account == effect.account
                and i.effect * effect.direction > 0
                for i in discovery.insights
            )
        )
    return found


@pytest.mark.parametrize("seed", PLANTED_SEEDS)
def test_every_planted_effect_is_found(transactional_db, seed):
    world, discovery, accounts = _build(seed, effects=True)

    assert [e.kind for e in world.planted] == ["cell", "cell", "trend", "sales"]
    assert found_planted(world, discovery) == [True] * 4
    falling = {a.name: a for a in accounts if a.name in world.at_risk_accounts}
    assert falling and all(a.change < -0.6 for a in falling.values())
    flagged = {a.name for a in accounts if a.at_risk}
    assert flagged <= set(world.at_risk_accounts)
    check_numbers_and_evidence(world, discovery)
    check_no_sentence_claims_a_cause(discovery)


@pytest.mark.parametrize("seed", NULL_SEEDS)
def test_a_world_without_effects_yields_no_insight(transactional_db, seed):
    world, discovery, accounts = _build(seed, effects=False)

    assert world.planted == []
    assert discovery.tested > 500
    assert [i.sentence for i in discovery.insights] == []
    assert len(accounts) > 30
    assert [a.name for a in accounts if a.at_risk] == []


def check_numbers_and_evidence(world: World, discovery: Discovery) -> None:
    document = discovery.as_dict()
    versioning = world.topic_of_deck["versioning"].label

    reach = next(
        i
        for i in document["insights"]
        if i["kind"] == "cell"
        and i["measure"] == "reach"
        and i["dimensions"] == {"topic": versioning, "user_type": "admin"}
    )
    assert reach["value"] > 0.8 > 0.6 > reach["baseline"]
    assert reach["interval"][0] < reach["effect"] < reach["interval"][1]
    assert reach["interval"][0] > 0
    assert reach["q_value"] <= 0.05
    assert reach["counts"]["members"] == len(reach["evidence"])
    assert all(row["visits"] >= 0 for row in reach["evidence"])
    assert reach["sentence"].startswith(f"{reach['value'] * 100:.0f}% of members")


def check_no_sentence_claims_a_cause(discovery: Discovery) -> None:
    sentences = [i.sentence for i in discovery.insights]

    assert any("went together" in s for s in sentences)
    assert [s for s in sentences if CAUSAL.search(s)] == []


def test_the_causal_word_check_catches_causal_claims():
    assert CAUSAL.search("Reading about integrations led to more sales.")
    assert CAUSAL.search("The slides caused a rise.")
    assert not CAUSAL.search("Accounts that read it won more; the two went together.")

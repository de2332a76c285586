"""Discovery on simulated worlds: planted effects found, none invented."""

import re

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportions_ztest

from entatio.insights.columnar import write_copy
from entatio.insights.cube import prepare
from entatio.insights.discovery import Discovery, _compare_shares, discover
from entatio.insights.risk import AccountTrend, accounts_at_risk
from entatio.insights.sales import permutation_p_value
from entatio.insights.simulate import World, simulate_world
from entatio.insights.trends import trend
from entatio.people.models import Organization

PLANTED_SEEDS = (11, 12)
# 1017 and 1035 are worlds in which a test of "no effect" reported a trend
# and a sales association by chance; a test of the minimum effect does not.
NULL_SEEDS = (21, 22, 1017, 1035)
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


def test_a_share_difference_must_clear_the_minimum_not_only_zero():
    # 60% against 52% of 2,000 members each: surely not zero, yet under 10 points.
    *_, p_value, large = _compare_shares(1200, 2000, 1040, 2000)
    assert proportions_ztest([1200, 1040], [2000, 2000])[1] < 1e-6
    assert (p_value, large) == (1.0, False)

    # 30 points apart: clears the minimum plainly, in either direction.
    assert _compare_shares(160, 200, 100, 200)[4] < 1e-4
    assert _compare_shares(100, 200, 160, 200)[4] < 1e-4
    # 14 points apart in small groups: large enough, but not shown to be.
    assert _compare_shares(15, 25, 23, 50)[4] > 0.5


def test_a_trend_must_clear_the_minimum_ratio_not_only_one():
    rng = np.random.default_rng(3)
    slight = np.r_[rng.poisson(1000, 12), rng.poisson(1150, 12)].astype(float)
    steep = np.r_[rng.poisson(100, 12), rng.poisson(300, 12)].astype(float)

    fitted = trend(slight, 12)
    assert fitted is not None and fitted.p_value < 1e-6
    assert fitted.p_beyond(1.25) > 0.5
    fitted = trend(steep, 12)
    assert fitted is not None and fitted.p_beyond(1.25) < 1e-6


def test_sales_permutations_test_the_minimum_in_the_observed_direction():
    rng = np.random.default_rng(5)
    rows = []
    for account in range(60):
        engaged = rng.random(4) < 0.5
        for ago in range(4):
            lift = 0.3 if engaged[ago] else 0.0
            rows.append(
                {
                    "account_id": account,
                    "stratum": f"S{account % 3}",
                    "ago": ago,
                    "engaged": bool(engaged[ago]),
                    "current": rng.gamma(4, 0.25),
                    "following": rng.gamma(4, 0.25) + lift,
                }
            )
    frame = pd.DataFrame(rows)

    p_values = [permutation_p_value(frame, minimum=m) for m in (0.0, 0.1, 0.3, 0.6)]
    assert p_values[0] < 0.01
    assert p_values == sorted(p_values)
    assert p_values[2] > 0.05
    assert p_values[3] == 1.0

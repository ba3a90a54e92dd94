"""The experiments' analysis is right, not just running: on simulated experiments with a known
reminder effect the 95% intervals cover the truth, A/A runs looked at every day declare a
difference no more often than 5.5%, where a naive daily z-test declares far more; Wilson and
Newcombe against published values; assignment is reproducible and bounded."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np

from cakupan.dates import Month
from cakupan.reminders.experiments import final_dates
from cakupan.reminders.rules import arm_for
from cakupan.reminders.statistics import (
    final_difference,
    minimum_detectable_effect,
    newcombe_difference,
    sample_ratio_mismatch,
    verdict,
    wilson,
)

# A branch's monthly due population and the default 10% holdout.
POPULATION = 10_000
HOLDOUT_SHARE = 0.10
BASELINE = 0.55  # share paying by the 15th without a reminder (synthetic)
TARGET = Month(2027, 5)


def test_wilson_and_newcombe_match_published_values() -> None:
    # Newcombe (1998), Statistics in Medicine 17:857-872, table II example (56/70 vs 48/80):
    # difference 0.2, method 10 interval 0.0524 to 0.3339.
    interval = newcombe_difference(56, 70, 48, 80)
    assert math.isclose(interval.estimate, 0.2)
    assert math.isclose(interval.low, 0.0524, abs_tol=5e-4)
    assert math.isclose(interval.high, 0.3339, abs_tol=5e-4)
    # Wilson for 81/263 (Newcombe 1998 table I): 0.2553 to 0.3662.
    w = wilson(81, 263)
    assert math.isclose(w.low, 0.2553, abs_tol=5e-4)
    assert math.isclose(w.high, 0.3662, abs_tol=5e-4)


def _simulate(rng: np.random.Generator, effect: float) -> tuple[int, int, int, int]:
    n0 = rng.binomial(POPULATION, HOLDOUT_SHARE)
    n1 = POPULATION - n0
    return int(rng.binomial(n1, BASELINE + effect)), n1, int(rng.binomial(n0, BASELINE)), n0


def test_intervals_cover_the_true_effect() -> None:
    rng = np.random.default_rng(20261207)
    effect = 0.04
    final_on = final_dates(TARGET)["paid_by_15"]
    covered = 0
    for _ in range(200):
        s1, n1, s0, n0 = _simulate(rng, effect)
        interval = final_difference(s1, n1, s0, n0, day=final_on, final_on=final_on)
        assert interval is not None
        covered += interval.low <= effect <= interval.high
    assert covered / 200 >= 0.94


def _daily_paths(rng: np.random.Generator, n: int, p: float, days: int) -> np.ndarray:
    """Cumulative payers per day 1..days: each payer pays on a uniform day of the 15."""
    payers = rng.binomial(n, p)
    days_paid = rng.integers(1, days + 1, size=payers)
    return np.cumsum(np.bincount(days_paid, minlength=days + 1)[1:])


def test_aa_daily_looks_keep_false_positives_at_five_percent() -> None:
    """A/A: no effect. Both analyses look every day from the 1st to the 30th: the fixed-horizon
    analysis (what the report does) and a naive z-test on the cumulative counts."""
    rng = np.random.default_rng(7)
    runs = 1000
    final_on = final_dates(TARGET)["paid_by_15"]
    fixed_declared = naive_declared = 0
    for _ in range(runs):
        n0 = int(rng.binomial(POPULATION, HOLDOUT_SHARE))
        n1 = POPULATION - n0
        # Payments by the 15th accrue over days 1..15; later days add nothing to this outcome.
        path1 = _daily_paths(rng, n1, BASELINE, 15)
        path0 = _daily_paths(rng, n0, BASELINE, 15)
        fixed = naive = False
        for look in range(1, 31):
            day = TARGET.first_day + timedelta(days=look - 1)
            s1, s0 = int(path1[min(look, 15) - 1]), int(path0[min(look, 15) - 1])
            interval = final_difference(s1, n1, s0, n0, day=day, final_on=final_on)
            fixed = fixed or (interval is not None and interval.excludes_zero())
            p1, p0 = s1 / n1, s0 / n0
            pooled = (s1 + s0) / (n1 + n0)
            se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0)) or 1.0
            naive = naive or abs(p1 - p0) / se > 1.959964
        fixed_declared += fixed
        naive_declared += naive
    assert fixed_declared / runs <= 0.055
    assert naive_declared / runs > 0.10  # the problem the horizon prevents


def test_minimum_detectable_effect_of_the_default_holdout() -> None:
    mde = minimum_detectable_effect(9_000, 1_000, BASELINE)
    # (1.95996 + 0.84162) * sqrt(0.55 * 0.45 * (1/9000 + 1/1000)) = 2.80158 * 0.016583 = 0.04646
    assert math.isclose(mde, 0.04646, abs_tol=1e-4)
    assert minimum_detectable_effect(90_000, 10_000, BASELINE) < mde / 3


def test_verdict_never_claims_more_than_the_interval() -> None:
    assert verdict("wa", "x", None)[1].startswith("Not final")
    positive = newcombe_difference(560, 1000, 500, 1000)
    assert positive.excludes_zero()
    assert "raises" in verdict("wa", "x", positive)[1]
    unclear = newcombe_difference(510, 1000, 500, 1000)
    assert "Inconclusive" in verdict("wa", "x", unclear)[1]
    assert (
        final_difference(560, 1000, 500, 1000, day=date(2027, 5, 15), final_on=date(2027, 5, 16))
        is None
    )


def test_assignment_is_reproducible_bounded_and_detects_ratio_drift() -> None:
    arms = ["wa", "sms"]
    first = [arm_for(i, 3, arms, 0.1) for i in range(20_000)]
    assert first == [arm_for(i, 3, arms, 0.1) for i in range(20_000)]
    assert first != [arm_for(i, 4, arms, 0.1) for i in range(20_000)]
    counts = {a: first.count(a) for a in ("holdout", *arms)}
    planned = {"holdout": 0.1, "wa": 0.45, "sms": 0.45}
    assert abs(counts["holdout"] / 20_000 - 0.1) < 0.01
    assert sample_ratio_mismatch(counts, planned) > 0.001
    drifted = {"holdout": counts["holdout"] + 400, "wa": counts["wa"] - 400, "sms": counts["sms"]}
    assert sample_ratio_mismatch(drifted, planned) < 0.001

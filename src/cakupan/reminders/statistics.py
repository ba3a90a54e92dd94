"""The experiments' statistics (pure: plain numbers in, plain numbers out; scipy for the
normal and chi-square distributions).

Analysis plan, fixed horizon: each outcome has a date from which it is final (paid by the
15th: the 16th of the target month; by month end: the 1st of the next; still paying at month
3 / 6: the 1st of the month after the target month + 2 / + 5). Before that date the report
shows counts but no interval and no verdict, whatever day it is looked at; so looking every
day cannot inflate false positives (a naive z-test read daily for 30 days declares a false
difference in about 29% of A/A runs; see tests/unit/test_experiment_statistics.py and
benchmarks/bench_experiments.py).

Intervals: Wilson score for each arm's proportion; Newcombe's hybrid score interval
(method 10) for the difference of an arm to the holdout; both 95%.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from scipy.stats import chisquare, norm

__all__ = [
    "Interval",
    "final_difference",
    "minimum_detectable_effect",
    "newcombe_difference",
    "sample_ratio_mismatch",
    "verdict",
    "wilson",
]

CONFIDENCE = 0.95
#: A sample ratio mismatch is flagged when the arms' sizes are this unlikely under the plan.
SRM_P_VALUE = 0.001


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0

    def as_json(self) -> dict[str, float]:
        return {"estimate": self.estimate, "low": self.low, "high": self.high}


def _z(confidence: float = CONFIDENCE) -> float:
    return float(norm.ppf(0.5 + confidence / 2))


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score interval of a proportion (empty arm: the whole [0, 1])."""
    if n == 0:
        return Interval(0.0, 0.0, 1.0)
    z = _z(confidence)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def newcombe_difference(
    s1: int, n1: int, s0: int, n0: int, confidence: float = CONFIDENCE
) -> Interval:
    """Interval of p1 - p0 (arm minus holdout), Newcombe's hybrid score method."""
    a, b = wilson(s1, n1, confidence), wilson(s0, n0, confidence)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, low, high)


def final_difference(
    s1: int, n1: int, s0: int, n0: int, *, day: date, final_on: date
) -> Interval | None:
    """The fixed-horizon analysis: the difference's interval from ``final_on`` on, nothing
    before (the page and the report call this on every look)."""
    if day < final_on:
        return None
    return newcombe_difference(s1, n1, s0, n0)


def minimum_detectable_effect(
    n_treated: int, n_holdout: int, baseline: float, power: float = 0.8
) -> float:
    """The smallest true difference (in proportion) that a two-sided 95% test detects with
    ``power``, for arms of these sizes around the ``baseline`` proportion."""
    if n_treated == 0 or n_holdout == 0:
        return 1.0
    se = math.sqrt(baseline * (1 - baseline) * (1 / n_treated + 1 / n_holdout))
    return float((_z() + norm.ppf(power)) * se)


def sample_ratio_mismatch(observed: Mapping[str, int], planned: Mapping[str, float]) -> float:
    """p-value of the arms' sizes under the planned shares (chi-square goodness of fit)."""
    total = sum(observed.values())
    if total == 0:
        return 1.0
    names = list(planned)
    counts = [observed.get(name, 0) for name in names]
    expected = [planned[name] * total for name in names]
    return float(chisquare(counts, expected).pvalue)


def verdict(arm: str, outcome_id: str, difference: Interval | None) -> tuple[str, str]:
    """A plain-language verdict (Bahasa Indonesia, English) that says no more than the interval:
    none before the horizon; a direction only when the 95% interval excludes zero."""
    if difference is None:
        return (
            "Belum final: tunggu sampai tanggal hasil final; angka sementara tidak boleh disimpulkan.",
            "Not final yet: wait for the outcome's final date; interim numbers support no conclusion.",
        )
    low, high = difference.low * 100, difference.high * 100
    span = f"{low:+.1f} s.d. {high:+.1f} poin persen"
    span_en = f"{low:+.1f} to {high:+.1f} percentage points"
    if difference.low > 0:
        return (
            f"Lengan {arm} menaikkan '{outcome_id}' dibanding tanpa pengingat: {span} (95% CI).",
            f"Arm {arm} raises '{outcome_id}' over no reminder by {span_en} (95% CI).",
        )
    if difference.high < 0:
        return (
            f"Lengan {arm} menurunkan '{outcome_id}' dibanding tanpa pengingat: {span} (95% CI).",
            f"Arm {arm} lowers '{outcome_id}' compared with no reminder by {span_en} (95% CI).",
        )
    return (
        f"Tidak dapat disimpulkan: selisih {arm} terhadap tanpa pengingat antara {span} (95% CI memuat nol).",
        f"Inconclusive: the difference of {arm} to no reminder lies between {span_en} (the 95% CI includes zero).",
    )

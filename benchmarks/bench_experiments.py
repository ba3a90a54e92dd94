"""The experiment analysis on simulated experiments with a known reminder effect (issue 16):
coverage of the 95% intervals over 200 (and 2,000) experiments, the false-positive rate of A/A
runs looked at every day for 30 days (the report's fixed-horizon analysis vs a naive daily
z-test), and the minimum detectable effect at 80% power for the default 10% holdout by
population size. Pure computation (numpy, scipy); the same functions the report calls.

    nice -n 10 .venv/bin/python -m benchmarks.bench_experiments
"""

from __future__ import annotations

import math
import os
import time
from datetime import timedelta
from typing import Any

import numpy as np

from benchmarks.common import machine, machine_markdown, write_results
from cakupan.dates import Month
from cakupan.reminders.experiments import DEFAULT_HOLDOUT_SHARE, final_dates
from cakupan.reminders.statistics import final_difference, minimum_detectable_effect

BASELINE = 0.55
TARGET = Month(2027, 5)


def coverage(runs: int, population: int, effect: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    final_on = final_dates(TARGET)["paid_by_15"]
    covered = 0
    for _ in range(runs):
        n0 = int(rng.binomial(population, DEFAULT_HOLDOUT_SHARE))
        n1 = population - n0
        s1, s0 = int(rng.binomial(n1, BASELINE + effect)), int(rng.binomial(n0, BASELINE))
        interval = final_difference(s1, n1, s0, n0, day=final_on, final_on=final_on)
        assert interval is not None
        covered += interval.low <= effect <= interval.high
    return covered / runs


def aa_daily(runs: int, population: int, seed: int) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    final_on = final_dates(TARGET)["paid_by_15"]
    fixed_hits = naive_hits = 0
    for _ in range(runs):
        n0 = int(rng.binomial(population, DEFAULT_HOLDOUT_SHARE))
        n1 = population - n0
        paths = []
        for n in (n1, n0):
            payers = rng.binomial(n, BASELINE)
            days = rng.integers(1, 16, size=payers)
            paths.append(np.cumsum(np.bincount(days, minlength=16)[1:]))
        fixed = naive = False
        for look in range(1, 31):
            day = TARGET.first_day + timedelta(days=look - 1)
            s1, s0 = int(paths[0][min(look, 15) - 1]), int(paths[1][min(look, 15) - 1])
            interval = final_difference(s1, n1, s0, n0, day=day, final_on=final_on)
            fixed = fixed or (interval is not None and interval.excludes_zero())
            pooled = (s1 + s0) / (n1 + n0)
            se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0)) or 1.0
            naive = naive or abs(s1 / n1 - s0 / n0) / se > 1.959964
        fixed_hits += fixed
        naive_hits += naive
    return fixed_hits / runs, naive_hits / runs


def main() -> None:
    info = machine()
    load = os.getloadavg()[0]
    started = time.perf_counter()
    rows: dict[str, Any] = {
        "coverage_200_effect_4pp": coverage(200, 10_000, 0.04, 20261207),
        "coverage_2000_effect_4pp": coverage(2000, 10_000, 0.04, 1),
        "coverage_2000_effect_0": coverage(2000, 10_000, 0.0, 2),
    }
    fixed, naive = aa_daily(2000, 10_000, 7)
    rows["aa_2000_daily_looks_fixed_horizon"] = fixed
    rows["aa_2000_daily_looks_naive_z"] = naive
    mde = {
        str(n): round(
            minimum_detectable_effect(
                round(n * (1 - DEFAULT_HOLDOUT_SHARE)), round(n * DEFAULT_HOLDOUT_SHARE), BASELINE
            ),
            4,
        )
        for n in (1_000, 5_000, 10_000, 50_000, 100_000, 1_000_000)
    }
    seconds = round(time.perf_counter() - started, 1)
    payload = {
        "machine": info,
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "seconds": seconds,
        "baseline": BASELINE,
        "holdout_share": DEFAULT_HOLDOUT_SHARE,
        "results": rows,
        "minimum_detectable_effect": mde,
    }
    lines = [
        "# Experiment analysis on simulated experiments (issue 16)",
        machine_markdown(info),
        f"Shared machine; 1-minute load {load:.2f} before, {os.getloadavg()[0]:.2f} after; {seconds} s.",
        "",
        f"Simulated: 10,000 due participants per experiment, {DEFAULT_HOLDOUT_SHARE:.0%} holdout"
        f" (drawn per run), baseline {BASELINE:.0%} paying by the 15th; payers pay on a uniform day"
        " 1-15. The analysis is the report's (`final_difference`: Newcombe 95% interval, fixed horizon).",
        "",
        "| check | result | requirement |",
        "| --- | --- | --- |",
        f"| 95% intervals cover a true +4 pp effect, 200 experiments | {rows['coverage_200_effect_4pp']:.1%} | >= 94% |",
        f"| same, 2,000 experiments | {rows['coverage_2000_effect_4pp']:.1%} | ~95% |",
        f"| intervals cover a true 0 effect, 2,000 experiments | {rows['coverage_2000_effect_0']:.1%} | ~95% |",
        f"| A/A, looked at daily for 30 days, difference declared (report) | {fixed:.1%} | <= 5.5% |",
        f"| A/A, daily naive z-test on the running counts | {naive:.1%} | (the problem avoided) |",
        "",
        f"Minimum detectable effect (80% power, two-sided 5%, baseline {BASELINE:.0%}, one arm vs the"
        " default 10% holdout), by due participants in the experiment:",
        "",
        "| participants | MDE (percentage points) |",
        "| --- | --- |",
        *[f"| {int(n):,} | {v * 100:.1f} |" for n, v in mde.items()],
        "",
        "Reproduce: `nice -n 10 .venv/bin/python -m benchmarks.bench_experiments`.",
        "",
    ]
    write_results("experiments", payload, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

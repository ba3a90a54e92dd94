"""Reminder experiments: create one (arms, a bounded no-reminder holdout, dates) and report it
(per arm: paid by the 15th, by month end, still paying at months 3 and 6, with 95% intervals,
the difference to the holdout and a verdict that says no more than the interval; a sample
ratio mismatch alert; the minimum detectable effect). Statistics: ``statistics.py``.

The population of an experiment is every self-paying participant whose membership was paid
exactly through the month before the target month (``Month.of(starts_on)``) at that month's
close: the participants a due reminder is for. Each is assigned by :func:`arm_for`, the same
function the daily plan uses, so the holdout never received the experiment's reminders.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.dates import Clock, Month, today
from cakupan.errors import CakupanError, FieldProblem, not_found
from cakupan.i18n import t
from cakupan.reminders.models import CHANNELS, Experiment
from cakupan.reminders.rules import arm_for
from cakupan.reminders.statistics import (
    SRM_P_VALUE,
    final_difference,
    minimum_detectable_effect,
    sample_ratio_mismatch,
    verdict,
    wilson,
)

__all__ = ["MAX_HOLDOUT_SHARE", "OUTCOMES", "create_experiment", "experiment_report"]

#: The holdout is bounded: at least 2%, at most 20% of the population goes without reminders.
MIN_HOLDOUT_SHARE = 0.02
MAX_HOLDOUT_SHARE = 0.20
DEFAULT_HOLDOUT_SHARE = 0.10

#: (id, Bahasa Indonesia, English)
OUTCOMES = (
    ("paid_by_15", "dibayar sebelum tgl 15", "paid by the 15th"),
    ("paid_by_month_end", "dibayar sebelum akhir bulan", "paid by month end"),
    ("paying_month_3", "masih membayar di bulan ke-3", "still paying at month 3"),
    ("paying_month_6", "masih membayar di bulan ke-6", "still paying at month 6"),
)


def final_dates(target: Month) -> dict[str, date]:
    """The day from which each outcome is final (the fixed horizon)."""
    return {
        "paid_by_15": target.first_day.replace(day=16),
        "paid_by_month_end": (target + 1).first_day,
        "paying_month_3": (target + 3).first_day,
        "paying_month_6": (target + 6).first_day,
    }


def create_experiment(
    session: Session,
    actor: Actor,
    clock: Clock,
    *,
    name: str,
    description: str,
    arms: Sequence[dict[str, object]],
    holdout_share: float,
    starts_on: date,
    ends_on: date,
    synthetic: bool = False,
) -> Experiment:
    """Validate and store an experiment; every problem is reported at once, nothing written."""
    problems: list[FieldProblem] = []
    if not name.strip():
        problems.append(FieldProblem("name", t("nama wajib diisi", "a name is required")))
    elif session.scalar(select(Experiment.id).where(Experiment.name == name.strip())):
        problems.append(FieldProblem("name", t("nama sudah dipakai", "name already used")))
    if not arms:
        problems.append(FieldProblem("arms", t("minimal satu lengan", "at least one arm")))
    names = [str(a.get("name", "")) for a in arms]
    if len(set(names)) != len(names) or "holdout" in names or any(not n for n in names):
        problems.append(
            FieldProblem(
                "arms",
                t(
                    "nama lengan harus unik dan bukan 'holdout'",
                    "arm names must be unique and not 'holdout'",
                ),
            )
        )
    for arm in arms:
        if arm.get("channel") not in (None, *CHANNELS):
            problems.append(
                FieldProblem(
                    "arms",
                    t("kanal {c!r} tidak dikenal", "unknown channel {c!r}").format(
                        c=arm.get("channel")
                    ),
                )
            )
    if not MIN_HOLDOUT_SHARE <= holdout_share <= MAX_HOLDOUT_SHARE:
        problems.append(
            FieldProblem(
                "holdout",
                t("diharapkan {lo}-{hi}, diterima {v}", "expected {lo}-{hi}, got {v}").format(
                    lo=MIN_HOLDOUT_SHARE, hi=MAX_HOLDOUT_SHARE, v=holdout_share
                ),
            )
        )
    if ends_on < starts_on:
        problems.append(
            FieldProblem("ends_on", t("sebelum tanggal mulai", "before the start date"))
        )
    if problems:
        raise CakupanError(
            title=t("Eksperimen tidak valid", "Invalid experiment"), problems=problems
        )
    experiment = Experiment(
        name=name.strip(),
        description=description,
        arms=[dict(a) for a in arms],
        holdout_share=holdout_share,
        starts_on=starts_on,
        ends_on=ends_on,
        synthetic=synthetic,
        created_at=clock.now(),
        created_by=actor.name,
    )
    session.add(experiment)
    session.flush()
    record_audit(
        session,
        actor,
        "reminders.experiment.create",
        "reminder_experiment",
        experiment.id,
        after={
            "name": experiment.name,
            "arms": experiment.arms,
            "holdout_share": holdout_share,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat(),
            "synthetic": synthetic,
        },
        at=clock.now(),
    )
    return experiment


_OUTCOMES_SQL = """
SELECT s.participant_id,
       MAX(CASE WHEN cm.month = :t AND p.paid_on <= :d15 THEN 1 ELSE 0 END) AS paid_by_15,
       MAX(CASE WHEN cm.month = :t AND p.paid_on <= :dend THEN 1 ELSE 0 END) AS paid_by_month_end,
       MAX(CASE WHEN cm.month = :t3 AND p.paid_on <= :d3 THEN 1 ELSE 0 END) AS paying_month_3,
       MAX(CASE WHEN cm.month = :t6 AND p.paid_on <= :d6 THEN 1 ELSE 0 END) AS paying_month_6
FROM status_snapshot s
JOIN participant par ON par.id = s.participant_id
LEFT JOIN covered_month cm ON cm.membership_id = s.membership_id
     AND cm.month IN (:t, :t3, :t6) AND NOT cm.reversed
LEFT JOIN payment p ON p.id = cm.payment_id
WHERE s.month = :prev AND s.paid_through_month = :prev AND par.funding = 'self'
GROUP BY s.participant_id
"""


def experiment_report(session: Session, experiment_id: int, clock: Clock) -> dict[str, Any]:
    """The report of one experiment as of the clock's day (the ``--json`` document and the page)."""
    experiment = session.get(Experiment, experiment_id)
    if experiment is None:
        raise not_found(t("eksperimen {i}", "experiment {i}").format(i=experiment_id))
    target = Month.of(experiment.starts_on)
    day = today(clock)
    finals = final_dates(target)
    arm_names = [str(a["name"]) for a in experiment.arms]
    groups = ["holdout", *arm_names]
    tallies: dict[str, dict[str, int]] = {
        g: {"n": 0, **{o[0]: 0 for o in OUTCOMES}} for g in groups
    }
    rows = session.execute(
        text(_OUTCOMES_SQL),
        {
            "t": target.index,
            "t3": (target + 2).index,
            "t6": (target + 5).index,
            "prev": (target + -1).index,
            "d15": target.first_day.replace(day=15),
            "dend": target.last_day,
            "d3": (target + 2).last_day,
            "d6": (target + 5).last_day,
        },
    )
    for row in rows:
        group = arm_for(row.participant_id, experiment.id, arm_names, experiment.holdout_share)
        tally = tallies[group]
        tally["n"] += 1
        for outcome, _, _ in OUTCOMES:
            tally[outcome] += int(getattr(row, outcome))
    holdout = tallies["holdout"]
    planned = {"holdout": experiment.holdout_share}
    planned.update({a: (1 - experiment.holdout_share) / len(arm_names) for a in arm_names})
    srm_p = sample_ratio_mismatch({g: tallies[g]["n"] for g in groups}, planned)
    arms_json = []
    for group in groups:
        tally = tallies[group]
        outcomes: dict[str, Any] = {}
        for outcome, label_id, label_en in OUTCOMES:
            final_on = max(finals[outcome], experiment.ends_on + timedelta(days=1))
            is_final = day >= final_on
            entry: dict[str, Any] = {
                "label_id": label_id,
                "label_en": label_en,
                "final_on": final_on.isoformat(),
                "final": is_final,
                "successes": tally[outcome],
                "rate": tally[outcome] / tally["n"] if tally["n"] else None,
                "ci": wilson(tally[outcome], tally["n"]).as_json() if is_final else None,
                "difference": None,
            }
            if group != "holdout":
                difference = final_difference(
                    tally[outcome],
                    tally["n"],
                    holdout[outcome],
                    holdout["n"],
                    day=day,
                    final_on=final_on,
                )
                entry["difference"] = difference.as_json() if difference else None
                entry["verdict_id"], entry["verdict_en"] = verdict(group, label_id, difference)
            outcomes[outcome] = entry
        arms_json.append({"arm": group, "n": tally["n"], "outcomes": outcomes})
    treated = sum(tallies[a]["n"] for a in arm_names) // max(len(arm_names), 1)
    baseline_rate = holdout["paid_by_15"] / holdout["n"] if holdout["n"] else 0.5
    return {
        "id": experiment.id,
        "name": experiment.name,
        "description": experiment.description,
        "synthetic": experiment.synthetic,
        "starts_on": experiment.starts_on.isoformat(),
        "ends_on": experiment.ends_on.isoformat(),
        "target_month": str(target),
        "holdout_share": experiment.holdout_share,
        "as_of": day.isoformat(),
        "analysis": "fixed horizon: intervals and verdicts only from each outcome's final date; 95% Wilson / Newcombe",
        "arms": arms_json,
        "sample_ratio": {
            "planned": planned,
            "observed": {g: tallies[g]["n"] for g in groups},
            "p_value": srm_p,
            "alert": srm_p < SRM_P_VALUE,
        },
        "minimum_detectable_effect": {
            "outcome": "paid_by_15",
            "power": 0.8,
            "baseline": baseline_rate,
            "per_arm_vs_holdout": minimum_detectable_effect(
                treated, holdout["n"], min(max(baseline_rate, 0.01), 0.99)
            ),
        },
    }

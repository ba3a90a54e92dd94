"""Planning a day's reminders: one set-based SQL statement finds every participant who is due
a reminder that day (due soon, unpaid kode penetapan, arrears, closed), ranks them per
participant (the daily cap keeps the most urgent), and the amounts come from the contribution
rules in force for the months concerned. Nothing is written here."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from cakupan.contributions import PolicyBook, load_policy_book
from cakupan.dates import JAKARTA, Month
from cakupan.db import AwareDateTime
from cakupan.reminders.models import Experiment, Reminder
from cakupan.reminders.policy import ReminderPolicy, policy_on
from cakupan.reminders.rules import arm_for, next_window_start

__all__ = ["PlannedReminder", "active_experiments", "plan_day"]

#: Most urgent first: the daily cap keeps the first.
_PRIORITY = {"unpaid_code": 1, "arrears": 2, "due_before": 3, "reacquire": 4}


@dataclass(slots=True)
class PlannedReminder:
    """One reminder due on a day, before it is queued."""

    participant_id: int
    membership_id: int
    nik: str
    name: str
    kind: str
    channel: str
    month: Month
    months: int
    amount: int
    payment_code: str | None
    valid_until: date | None
    step: int
    planned_for: date
    send_after: datetime
    dedupe_key: str
    #: who the participant knows (docs/reminders.md): the officer who follows them up (the
    #: retention owner) or else their agent; the number is that person's work phone
    contact_name: str | None
    contact_phone: str | None
    contact_role: str | None
    experiment_id: int | None
    arm: str | None

    def as_json(self) -> dict[str, Any]:
        """The ``reminders plan --json`` item (the issue's contract)."""
        return {
            "nik": self.nik,
            "kind": self.kind,
            "channel": self.channel,
            "amount": self.amount,
            "month": str(self.month) if self.month is not None else None,
            "send_after": self.send_after.isoformat(),
        }


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=JAKARTA)


#: A membership that is its participant's latest episode (an anti-join on the unique index
#: (participant_id, episode_no)).
_LATEST = (
    "NOT EXISTS (SELECT 1 FROM membership m2 WHERE m2.participant_id = m.participant_id"
    " AND m2.episode_no > m.episode_no)"
)


def _candidates_sql(policy: ReminderPolicy, on: date) -> tuple[str, dict[str, Any], list[Any]]:
    """The statement and its parameters. Parts that cannot apply on ``on`` are left out.

    Each part reads ``membership`` itself with its own condition on the paid-through month (a
    range the planner can estimate from the column's statistics) rather than one shared
    "latest episode" CTE: PostgreSQL materialises a CTE used twice and then guesses its row
    counts (47 rows for 750,000 on the arrears day), choosing a nested loop over the
    participants (benchmarks/results/reminders-plan-postgresql.md)."""
    parts: list[str] = []
    params: dict[str, Any] = {"x": Month.of(on).index, "d": on}
    binds: list[Any] = []
    due = Month.of(on).first_day.replace(day=15)
    step_before = (due - on).days
    if step_before in policy.due_before_days:
        params["due_step"] = step_before
        parts.append(
            "SELECT m.participant_id, m.id AS membership_id, 'due_before' AS kind, :x AS month,"
            " 1 AS months, NULL AS code, NULL AS code_amount, NULL AS valid_until,"
            " 3 AS priority, :due_step AS step"
            " FROM membership m WHERE (m.paid_through_month = :x - 1"
            " OR (m.paid_through_month IS NULL AND m.start_month = :x)) AND " + _LATEST
        )
    if on.day == policy.arrears_day and policy.arrears_months:
        wanted = sorted({int(n) for n in policy.arrears_months})
        params["arrears_lo"], params["arrears_hi"] = wanted[0], wanted[-1]
        exact = ""
        if wanted != list(range(wanted[0], wanted[-1] + 1)):  # not one run of months
            exact = f" AND :x - m.paid_through_month IN ({', '.join(map(str, wanted))})"
        parts.append(
            "SELECT m.participant_id, m.id AS membership_id, 'arrears' AS kind,"
            " m.paid_through_month + 1 AS month, :x - m.paid_through_month AS months,"
            " NULL AS code, NULL AS code_amount, NULL AS valid_until, 2 AS priority,"
            " :x - m.paid_through_month AS step FROM membership m"
            " WHERE m.paid_through_month BETWEEN :x - :arrears_hi AND :x - :arrears_lo"
            + exact
            + " AND "
            + _LATEST
        )
    if on.day == policy.reacquire_day:
        parts.append(
            "SELECT m.participant_id, m.id AS membership_id, 'reacquire' AS kind, :x AS month,"
            " 1 AS months, NULL AS code, NULL AS code_amount, NULL AS valid_until,"
            " 4 AS priority, 0 AS step FROM membership m"
            " WHERE m.paid_through_month = :x - 4 AND " + _LATEST
        )
    if policy.unpaid_code_days:
        windows = []
        for i, n in enumerate(policy.unpaid_code_days):
            lo, hi = f"lo{i}", f"hi{i}"
            params[lo] = _start_of(on - timedelta(days=n))
            params[hi] = _start_of(on - timedelta(days=n - 1))
            binds += [bindparam(lo, type_=AwareDateTime()), bindparam(hi, type_=AwareDateTime())]
            windows.append((f"(pc.issued_at >= :{lo} AND pc.issued_at < :{hi})", n))
        step = "CASE " + " ".join(f"WHEN {cond} THEN {n}" for cond, n in windows) + " END"
        parts.append(
            "SELECT pc.participant_id, pc.membership_id, 'unpaid_code' AS kind,"
            " pc.first_month AS month, pc.months AS months, pc.code AS code,"
            f" pc.amount AS code_amount, pc.valid_until AS valid_until, 1 AS priority, {step} AS step"
            " FROM payment_code pc JOIN membership m ON m.id = pc.membership_id"
            " WHERE pc.payment_id IS NULL AND pc.valid_until >= :d"
            f" AND ({' OR '.join(cond for cond, _ in windows)})"
            " AND (m.paid_through_month IS NULL OR m.paid_through_month < pc.first_month)"
            " AND " + _LATEST
        )
    if not parts:
        return "", params, binds
    sql = (
        "WITH cand AS (" + " UNION ALL ".join(parts) + ")"
        " SELECT r.participant_id, r.membership_id, r.kind, r.month, r.months, r.code,"
        " r.code_amount, r.valid_until, r.step, r.rn, p.nik, p.name AS participant_name,"
        " p.reported_income, p.programs, p.sector, p.funding, rp.channel AS preferred_channel,"
        " a.name AS agent_name, au.work_phone AS agent_phone, ou.full_name AS officer_name,"
        " ou.work_phone AS officer_phone"
        " FROM (SELECT cand.*, ROW_NUMBER() OVER (PARTITION BY cand.participant_id"
        "  ORDER BY cand.priority, cand.month) AS rn FROM cand) r"
        " JOIN participant p ON p.id = r.participant_id"
        " LEFT JOIN reminder_preference rp ON rp.participant_id = r.participant_id"
        " LEFT JOIN partner a ON a.code = p.agent_code"
        # the agent's number: the work phone of the agent's own (active) user account
        ' LEFT JOIN (SELECT agent_code, MIN(work_phone) AS work_phone FROM "user"'
        "  WHERE role = 'agent' AND active = TRUE AND work_phone IS NOT NULL"
        "  GROUP BY agent_code) au ON au.agent_code = p.agent_code"
        # the officer who follows the participant up (the retention workbench's owner)
        " LEFT JOIN retention_owner ro ON ro.participant_id = r.participant_id"
        ' LEFT JOIN "user" ou ON ou.username = ro.owner AND ou.active = TRUE'
        # opted out: an anti-join (a filter on the outer-joined column made PostgreSQL expect
        # a few rows and loop over the participants' index)
        " WHERE p.funding = 'self' AND p.phone <> '' AND NOT EXISTS (SELECT 1 FROM"
        "  reminder_preference ro2 WHERE ro2.participant_id = r.participant_id"
        "  AND ro2.opted_out_at IS NOT NULL)"
        " AND r.rn <= :cap"
    )
    params["cap"] = policy.daily_cap
    return sql, params, binds


def active_experiments(session: Session, on: date) -> list[Experiment]:
    """Experiments running on ``on`` (start and end dates inclusive)."""
    return list(
        session.scalars(
            select(Experiment)
            .where(Experiment.starts_on <= on, Experiment.ends_on >= on)
            .order_by(Experiment.id)
        )
    )


def _dedupe_key(
    kind: str, participant_id: int, membership_id: int, month: Month, step: int, code: str | None
) -> str:
    if kind == "due_before":
        return f"due_before:{participant_id}:{month}:{step}"
    if kind == "unpaid_code":
        return f"unpaid_code:{code}:{step}"
    if kind == "arrears":
        return f"arrears:{membership_id}:{step}"
    return f"reacquire:{membership_id}"


class _Amounts:
    """Contribution amounts per (terms, first month, months): a million participants share a
    few thousand distinct terms, so each is priced once."""

    def __init__(self, book: PolicyBook) -> None:
        self.book = book
        self.cache: dict[tuple[Any, ...], int] = {}

    def of(self, terms: tuple[Any, Any, Any, Any], first: Month, months: int) -> int:
        """``terms``: (reported income, programs, sector, funding)."""
        key = (*terms, first.index, months)
        amount = self.cache.get(key)
        if amount is None:
            income, programs, sector, funding = terms
            amount = sum(
                self.book.monthly_total(
                    income=int(income),
                    programs=programs,
                    month=first + i,
                    sector=sector,
                    funding=funding,
                )
                for i in range(months)
            )
            self.cache[key] = amount
        return amount


def plan_day(
    session: Session,
    on: date,
    *,
    policy: ReminderPolicy | None = None,
    book: PolicyBook | None = None,
) -> Iterator[PlannedReminder]:
    """The reminders due on ``on`` that are not queued yet: at most the daily cap per
    participant (counting what is already queued for that day), none to an opted-out
    participant, one paid from public funds (APBN/APBD), or one in an experiment's holdout."""
    policy = policy or policy_on(on)
    sql, params, binds = _candidates_sql(policy, on)
    if not sql:
        return
    amounts = _Amounts(book or load_policy_book(session))
    experiments = active_experiments(session, on)
    already: dict[int, int] = {}
    keys: set[str] = set()
    for participant_id, key in session.execute(
        select(Reminder.participant_id, Reminder.dedupe_key).where(Reminder.planned_for == on)
    ):
        already[participant_id] = already.get(participant_id, 0) + 1
        keys.add(key)
    send_after = next_window_start(policy, on)
    statement = text(sql).bindparams(*binds) if binds else text(sql)
    taken: dict[int, int] = {}
    month_of: dict[int, Month] = {}
    cap = policy.daily_cap
    for (
        participant_id,
        membership_id,
        kind,
        month_index,
        months,
        code,
        code_amount,
        valid_until,
        step,
        _rank,
        nik,
        name,
        income,
        programs,
        sector,
        funding,
        preferred_channel,
        agent_name,
        agent_phone,
        officer_name,
        officer_phone,
    ) in session.execute(statement, params):
        month = month_of.get(month_index)
        if month is None:
            month = month_of[month_index] = Month.from_index(int(month_index))
        step = int(step)
        key = _dedupe_key(kind, participant_id, membership_id, month, step, code)
        if key in keys:
            continue
        if already.get(participant_id, 0) + taken.get(participant_id, 0) >= cap:
            continue
        channel = preferred_channel or policy.default_channel
        experiment_id: int | None = None
        arm: str | None = None
        for experiment in experiments:
            names = [str(a["name"]) for a in experiment.arms]
            arm = arm_for(participant_id, experiment.id, names, experiment.holdout_share)
            experiment_id = experiment.id
            if arm != "holdout":
                spec = next(a for a in experiment.arms if a["name"] == arm)
                channel = str(spec.get("channel") or channel)
                days = spec.get("due_before_days")
                if kind == "due_before" and isinstance(days, list) and step not in days:
                    arm = "holdout-step"  # this arm does not send this step
            break
        if arm in ("holdout", "holdout-step"):
            continue
        months = int(months)
        amount = (
            int(code_amount)
            if code_amount is not None
            else amounts.of((income, programs, sector, funding), month, months)
        )
        taken[participant_id] = taken.get(participant_id, 0) + 1
        if valid_until is not None and not isinstance(valid_until, date):
            valid_until = date.fromisoformat(str(valid_until))
        yield PlannedReminder(
            participant_id=participant_id,
            membership_id=membership_id,
            nik=nik,
            name=name,
            kind=kind,
            channel=channel,
            month=month,
            months=months,
            amount=amount,
            payment_code=code,
            valid_until=valid_until,
            step=step,
            planned_for=on,
            send_after=send_after,
            dedupe_key=key,
            contact_name=officer_name or agent_name,
            contact_phone=officer_phone if officer_name else agent_phone,
            contact_role="officer" if officer_name else ("agent" if agent_name else None),
            experiment_id=experiment_id,
            arm=arm,
        )

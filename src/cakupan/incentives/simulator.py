"""The scheme simulator: replays the ledger's registrations and payments under each scheme, as
if every registering partner or agent had held that scheme, and reports what each scheme would
have cost and how many of the participants it paid for were still paying at months 3, 6 and 12
of their episode (domain.md section 5: buy retention, not volume).

Cohort: membership episodes registered in the window through a partner or agent. Cost: every
line the scheme's rules give for the cohort (milestones, commissions, acquisitions, shares, the
parent's override, office thresholds) over all of the cohort's non-reversed payments, whenever
paid; transaction fees are paid by participants and are not a cost. Retention: the episode has
month n paid (not reversed) as the ledger stands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from cakupan.dates import Month
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.incentives.definition import (
    AgreementParameters,
    RegistrationCounting,
    SchemeDefinition,
)
from cakupan.incentives.engine import (
    Counts,
    LedgerPayment,
    ledger_payment_query,
    load_facts,
    program_set,
    raw_month,
    registration_counts,
)
from cakupan.incentives.queries import SchemeRecord, scheme_version, schemes
from cakupan.incentives.rules import (
    PaymentFact,
    acquisition_line,
    paid_acquisition_line,
    payment_lines,
    qualifies,
)
from cakupan.money import percent_of, round_half_up
from cakupan.partners.models import Partner
from cakupan.partners.queries import month_index_sql
from cakupan.registry.models import (
    Membership,
    Participant,
    ParticipantTerms,
    Payment,
    PaymentReversal,
)

RETENTION_MONTHS = (3, 6, 12)


@dataclass(frozen=True)
class SimulationResult:
    scheme: str
    version: int
    total_cost: int
    cost_by_kind: dict[str, int]
    registrations: int
    still_paying: dict[int, int]

    def cost_per_retained(self, month: int) -> int | None:
        retained = self.still_paying[month]
        return None if retained == 0 else round_half_up(Decimal(self.total_cost) / retained)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scheme": self.scheme,
            "version": self.version,
            "total_cost": self.total_cost,
            "cost_by_kind": dict(sorted(self.cost_by_kind.items())),
            "registrations": self.registrations,
        }
        for month in RETENTION_MONTHS:
            out[f"still_paying_month_{month}"] = self.still_paying[month]
        for month in (6, 12):
            out[f"cost_per_retained_month_{month}"] = self.cost_per_retained(month)
        out["cost_per_registration"] = (
            None
            if self.registrations == 0
            else round_half_up(Decimal(self.total_cost) / self.registrations)
        )
        return out


def resolve_scheme(session: Session, text: str) -> SchemeRecord:
    """``name`` (its latest version) or ``name@version``."""
    name, _, version = text.strip().partition("@")
    if version:
        if not version.isdigit():
            raise invalid("schemes", t(f"versi tidak valid: {text}", f"invalid version: {text}"))
        return scheme_version(session, name, int(version))
    versions = schemes(session, name)
    if not versions:
        raise invalid("schemes", t(f"skema {name} tidak dikenal", f"unknown scheme {name}"))
    return versions[-1]


def simulate(
    session: Session,
    scheme_texts: list[str],
    first: Month,
    last: Month,
    parameters: AgreementParameters | None = None,
) -> dict[str, Any]:
    """Replay the cohort registered in ``first..last`` under each scheme. ``parameters`` stand
    for the agreement (a commission rate, a Pos threshold); a commission scheme without one uses
    its minimum rate."""
    if last < first:
        raise invalid("to", t("akhir periode sebelum awalnya", "the period ends before it starts"))
    records = [resolve_scheme(session, text) for text in scheme_texts]
    if not records:
        raise invalid("schemes", t("sebutkan minimal satu skema", "name at least one scheme"))
    registrar = func.coalesce(Membership.agent_code, Membership.partner_code)
    window = Membership.registered_on.between(first.first_day, last.last_day)
    cohort = select(Membership.id).where(window, registrar.is_not(None))
    episodes = session.execute(
        select(
            Membership.id,
            Membership.participant_id,
            Membership.episode_no,
            raw_month(Membership.start_month),
            month_index_sql(session, Membership.registered_on),
            registrar,
            Membership.months_paid,
            Participant.nik,
            Membership.registered_on,
            Membership.first_paid_on,
        )
        .join(Participant, Participant.id == Membership.participant_id)
        .where(window, registrar.is_not(None))
    ).all()
    still_paying = {n: sum(1 for e in episodes if e[6] >= n) for n in RETENTION_MONTHS}
    # Registrations per registrar and month that count under each reading (all episodes; and
    # first episodes = new to BPU), computed once per reading.
    counted: dict[RegistrationCounting, Counts] = {}

    def counts_for(counting: RegistrationCounting) -> Counts:
        if counting not in counted:
            counted[counting] = registration_counts(session, counting, registrar)
        return counted[counting]

    not_reversed = ~exists().where(PaymentReversal.payment_id == Payment.id)
    payment_ids = select(Payment.id).where(Payment.membership_id.in_(cohort), not_reversed)
    rows = [
        LedgerPayment(*row)
        for row in session.execute(
            ledger_payment_query(session, registrar)
            .where(Payment.id.in_(payment_ids))
            .order_by(Payment.id)
        )
    ]
    facts = load_facts(session, rows, payment_ids)
    terms: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for participant_id, effective, programs in session.execute(
        select(
            ParticipantTerms.participant_id,
            raw_month(ParticipantTerms.effective_month),
            ParticipantTerms.programs,
        )
        .where(
            ParticipantTerms.participant_id.in_(
                select(Membership.participant_id).where(Membership.id.in_(cohort))
            )
        )
        .order_by(ParticipantTerms.participant_id, ParticipantTerms.effective_month)
    ):
        terms[participant_id].append((effective, programs))
    parents = dict(session.execute(select(Partner.code, Partner.parent_code)).all())

    results = []
    for record in records:
        params = parameters or AgreementParameters()
        own = record.definition.counting
        other = (
            RegistrationCounting(rule="registered")
            if own.rule == "first_month_paid"
            else RegistrationCounting(rule="first_month_paid")
        )
        readings = {}
        for counting in (own, other):
            definition = record.definition.model_copy(update={"registration_counts": counting})
            readings[counting.rule] = _simulate_one(
                definition,
                params,
                counts_for(counting),
                rows,
                facts,
                episodes,
                terms,
                parents,
                first,
                last,
            )
        result = SimulationResult(
            scheme=record.name,
            version=record.version,
            total_cost=sum(readings[own.rule].values()),
            cost_by_kind=readings[own.rule],
            registrations=len(episodes),
            still_paying=still_paying,
        ).as_json()
        result["registration_counts"] = own.model_dump(mode="json")
        result["readings"] = {
            rule: {
                key: value
                for key, value in SimulationResult(
                    scheme=record.name,
                    version=record.version,
                    total_cost=sum(by_kind.values()),
                    cost_by_kind=by_kind,
                    registrations=len(episodes),
                    still_paying=still_paying,
                )
                .as_json()
                .items()
                if key.startswith("cost") or key == "total_cost"
            }
            for rule, by_kind in sorted(readings.items())
        }
        results.append(result)
    return {"from": str(first), "to": str(last), "schemes": results}


def _simulate_one(
    definition: SchemeDefinition,
    parameters: AgreementParameters,
    counts: Counts,
    rows: list[LedgerPayment],
    facts: dict[int, PaymentFact],
    episodes: Sequence[Any],
    terms: dict[int, list[tuple[int, str]]],
    parents: dict[str, str | None],
    first: Month,
    last: Month,
) -> dict[str, int]:
    """The cost by kind of one scheme under one reading of what counts as a registration."""
    params = parameters
    if (
        definition.commission is not None
        and definition.commission.rate_percent is None
        and params.commission_rate_percent is None
    ):
        params = params.model_copy(
            update={"commission_rate_percent": definition.commission.min_rate_percent}
        )
    by_kind: dict[str, int] = defaultdict(int)
    per_registrar: dict[str, int] = defaultdict(int)
    qualification = definition.milestones.qualification if definition.milestones else None
    for row in rows:
        total, new = counts.get((row.beneficiary, row.registered_month), (0, 0))
        qualified = qualifies(
            new if qualification and qualification.new_to_bpu_only else total, qualification
        )
        fact = facts[row.payment_id]
        lines = payment_lines(fact, definition, params, registrar_qualified=qualified)
        acquisition = paid_acquisition_line(
            definition,
            fact,
            registered_on=row.registered_on,
            paid_on=row.paid_on,
            new_to_bpu=row.episode_no == 1,
            counts=(total, new),
        )
        if acquisition is not None:
            lines.append(acquisition)
        for line in lines:
            by_kind[line.kind if not line.kind.startswith("milestone") else "milestone"] += (
                line.amount
            )
            per_registrar[row.beneficiary] += line.amount
    rule = definition.acquisition
    if rule is not None and definition.counting.rule == "registered":
        for _id, participant_id, episode_no, start_month, index, code, _paid, nik, *_ in episodes:
            if rule.qualification.new_to_bpu_only and episode_no != 1:
                continue
            total, new = counts.get((code, int(index)), (0, 0))
            if not qualifies(
                new if rule.qualification.new_to_bpu_only else total, rule.qualification
            ):
                continue
            history = terms.get(participant_id, [])
            programs = program_set(
                next(
                    (p for m, p in reversed(history) if m <= start_month),
                    history[0][1] if history else "JKK+JKM",
                )
            )
            line = acquisition_line(nik, programs, rule, "")
            by_kind["acquisition"] += line.amount
            per_registrar[code] += line.amount
    if definition.office_threshold is not None:
        rule_t = definition.office_threshold
        minimum = rule_t.min_registrations or params.threshold_registrations
        amount = rule_t.amount if rule_t.amount is not None else params.threshold_amount
        if minimum is not None and amount is not None:
            for (_code, index), (total, _new) in counts.items():
                if first.index <= index <= last.index and total >= minimum:
                    by_kind["threshold"] += amount
    if definition.override is not None:
        for code, total in per_registrar.items():
            if parents.get(code):
                by_kind["override"] += percent_of(total, definition.override.rate_percent)
    return dict(by_kind)

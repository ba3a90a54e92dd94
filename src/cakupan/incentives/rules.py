"""Pure rules of the incentive schemes: agreement parameters against a scheme definition, and
(with the ledger) milestones, commissions, thresholds, shares, overrides and clawbacks.
No database, no clock."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from cakupan.i18n import Text, t
from cakupan.incentives.definition import (
    AcquisitionRule,
    AgreementParameters,
    ContributionShareRule,
    MilestoneRule,
    OverrideRule,
    ProgramSet,
    Qualification,
    RegistrationCounting,
    SchemeDefinition,
)
from cakupan.money import percent_of, round_half_up


def agreement_parameter_problems(
    definition: SchemeDefinition, parameters: AgreementParameters, kind: str | None = None
) -> list[tuple[str, Text]]:
    """``[(field, message)]`` for an agreement's parameters under a scheme: a commission rate is
    required when the scheme leaves it to the agreement and must lie within the scheme's bounds;
    parameters the scheme does not use are refused; the partner kind must be one the scheme
    applies to. Office thresholds left to the agreement may be set later (the statement then
    shows no threshold line until they are)."""
    problems: list[tuple[str, Text]] = []
    if kind is not None and kind not in definition.applies_to:
        problems.append(
            (
                "scheme",
                t(
                    "skema ini untuk jenis {a}, bukan {k}",
                    "this scheme applies to kinds {a}, not {k}",
                ).format(a=", ".join(definition.applies_to), k=kind),
            )
        )
    commission = definition.commission
    rate = parameters.commission_rate_percent
    if commission is None or commission.rate_percent is not None:
        if rate is not None:
            problems.append(
                (
                    "commission_rate",
                    t(
                        "skema ini tidak memakai tarif komisi dari perjanjian; kosongkan",
                        "this scheme takes no commission rate from the agreement; leave it empty",
                    ),
                )
            )
    elif rate is None:
        problems.append(
            (
                "commission_rate",
                t(
                    "tarif komisi wajib diisi ({lo}%-{hi}%)",
                    "a commission rate is required ({lo}%-{hi}%)",
                ).format(lo=commission.min_rate_percent, hi=commission.max_rate_percent),
            )
        )
    elif not commission.min_rate_percent <= rate <= commission.max_rate_percent:
        problems.append(
            (
                "commission_rate",
                t(
                    "tarif komisi harus antara {lo}% dan {hi}%, ditemukan {r}%",
                    "the commission rate must be between {lo}% and {hi}%, got {r}%",
                ).format(lo=commission.min_rate_percent, hi=commission.max_rate_percent, r=rate),
            )
        )
    office = definition.office_threshold
    uses_threshold = office is not None and (
        office.min_registrations is None or office.amount is None
    )
    if not uses_threshold and (
        parameters.threshold_registrations is not None or parameters.threshold_amount is not None
    ):
        problems.append(
            (
                "threshold",
                t(
                    "skema ini tidak memakai ambang dari perjanjian",
                    "this scheme takes no threshold from the agreement",
                ),
            )
        )
    return problems


# -- the monthly run: pure line computation ---------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """One line of a statement: what earned it (``kind``), for whom (``nik``), how much
    (whole rupiah, negative for a clawback) and the payment or registration it traces to."""

    nik: str | None
    kind: str
    amount: int
    reference: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "nik": self.nik,
            "kind": self.kind,
            "amount": self.amount,
            "reference": self.reference,
        }


@dataclass(frozen=True)
class PaymentFact:
    """A contribution payment as the incentive rules see it. ``first_ordinal`` is the ordinal,
    within its membership episode, of the first month the payment covers (1 = the episode's
    first month); ``month_amounts`` are the contributions of the covered months, in order;
    ``programs`` the program set of each covered month."""

    reference: str
    nik: str
    amount: int
    first_ordinal: int
    month_amounts: tuple[int, ...]
    programs: tuple[ProgramSet, ...]

    @property
    def ordinals(self) -> range:
        return range(self.first_ordinal, self.first_ordinal + len(self.month_amounts))


def milestones_reached(
    first_ordinal: int, months: int, milestone_months: Iterable[int]
) -> list[int]:
    """The milestone months a payment covering ordinals ``first_ordinal .. first_ordinal +
    months - 1`` of its episode reaches (the episode reaches n paid months with it). A
    multi-month payment can reach several."""
    last = first_ordinal + months - 1
    return sorted(n for n in set(milestone_months) if first_ordinal <= n <= last)


def qualifies(registrations_in_month: int, qualification: Qualification | None) -> bool:
    """Whether a registrar qualifies in a month: no qualification, or at least the minimum
    number of registrations that month (24 does not qualify for 25)."""
    return (
        qualification is None or registrations_in_month >= qualification.min_registrations_in_month
    )


def milestone_lines(fact: PaymentFact, rule: MilestoneRule) -> list[Line]:
    """The milestone lines a payment earns: one per milestone reached, with the amount for the
    program set of the milestone month."""
    amounts = {m.paid_months: m.amounts for m in rule.milestones}
    lines = []
    for n in milestones_reached(fact.first_ordinal, len(fact.month_amounts), amounts):
        programs = fact.programs[n - fact.first_ordinal]
        lines.append(Line(fact.nik, f"milestone_{n}", amounts[n][programs], fact.reference))
    return lines


def commission_line(fact: PaymentFact, rate_percent: Decimal) -> Line:
    """The commission on one payment: ``rate_percent`` of its amount, half up to whole rupiah
    (per payment, not per month)."""
    return Line(fact.nik, "commission", percent_of(fact.amount, rate_percent), fact.reference)


def share_rate(ordinal: int, rule: ContributionShareRule) -> Decimal:
    """The share rate of membership month ``ordinal`` (0 outside every band)."""
    for band in rule.bands:
        if band.from_month <= ordinal <= band.to_month:
            return band.rate_percent
    return Decimal(0)


def contribution_share_line(fact: PaymentFact, rule: ContributionShareRule) -> Line | None:
    """The share of a payment's contributions by membership month (perisai-2022: 15% of months
    1-24, 5% of months 25-60), summed exactly and rounded half up once per payment; None when
    every covered month is outside the bands."""
    exact = sum(
        (
            Decimal(amount) * share_rate(ordinal, rule)
            for ordinal, amount in zip(fact.ordinals, fact.month_amounts, strict=True)
        ),
        Decimal(0),
    )
    if exact == 0:
        return None
    return Line(fact.nik, "contribution_share", round_half_up(exact / 100), fact.reference)


def acquisition_line(nik: str, programs: ProgramSet, rule: AcquisitionRule, reference: str) -> Line:
    """The acquisition incentive for one new participant (the registrar qualified that month)."""
    return Line(nik, "acquisition", rule.amounts[programs], reference)


def registration_counts_as(
    counting: RegistrationCounting, registered_on: date, first_paid_on: date | None
) -> bool:
    """Whether a registration counts under ``counting``: always when ``registered``; when
    ``first_month_paid``, once its first month is paid, within ``within_days`` of the
    registration date when the scheme sets it (a payment 30 days after registration counts for
    ``within_days`` 30, 31 days does not)."""
    if counting.rule == "registered":
        return True
    if first_paid_on is None:
        return False
    return counting.within_days is None or (first_paid_on - registered_on).days <= (
        counting.within_days
    )


def paid_acquisition_line(
    definition: SchemeDefinition,
    fact: PaymentFact,
    *,
    registered_on: date,
    paid_on: date,
    new_to_bpu: bool,
    counts: tuple[int, int],
) -> Line | None:
    """The acquisition a payment earns under a scheme counting ``first_month_paid``: the payment
    pays the episode's first month, within the scheme's days of the registration, and the
    registrar qualified in the registration month (``counts`` = (registrations, NIKs new to
    BPU) of that month that count). Reference = the payment's, so a reversal claws it back."""
    rule = definition.acquisition
    counting = definition.counting
    if rule is None or counting.rule != "first_month_paid" or fact.first_ordinal != 1:
        return None
    if not registration_counts_as(counting, registered_on, paid_on):
        return None
    if rule.qualification.new_to_bpu_only and not new_to_bpu:
        return None
    total, new = counts
    if not qualifies(new if rule.qualification.new_to_bpu_only else total, rule.qualification):
        return None
    return acquisition_line(fact.nik, fact.programs[0], rule, fact.reference)


def payable(total: int) -> int:
    """What a statement pays out (issue 19): its total, never less than zero. A negative total
    (clawbacks above the period's earnings) is carried, as it is, into the next period's
    statement of the same partner and scheme as a ``carried_forward`` line."""
    return max(total, 0)


def override_line(agent_code: str, agent_total: int, rule: OverrideRule) -> Line | None:
    """The parent's override on one agent's period total (net of clawbacks), half up; None when
    the agent earned nothing."""
    if agent_total == 0:
        return None
    return Line(None, "override", percent_of(agent_total, rule.rate_percent), agent_code)


def threshold_line(
    registrations: int, min_registrations: int | None, amount: int | None, reference: str
) -> Line | None:
    """The office incentive when the month's registrations reach the threshold (None when the
    agreement has not set the threshold or the amount, or the count is below it)."""
    if min_registrations is None or amount is None or registrations < min_registrations:
        return None
    return Line(None, "threshold", amount, reference)


def clawback_line(earned: Sequence[Line], reference: str, nik: str | None) -> Line | None:
    """The negative line for a reversed payment: minus everything it earned (None if nothing)."""
    total = sum(line.amount for line in earned)
    if total == 0:
        return None
    return Line(nik, "clawback", -total, reference)


def adjustment_line(earned: Sequence[Line], reference: str, nik: str | None) -> Line | None:
    """What a payment earned for a period whose statement was already closed without it, carried
    into the period the payment was posted in (``reference`` = ``YYYY-MM:<payment reference>``)."""
    total = sum(line.amount for line in earned)
    if total == 0:
        return None
    return Line(nik, "adjustment", total, reference)


def payment_lines(
    fact: PaymentFact,
    definition: SchemeDefinition,
    parameters: AgreementParameters,
    *,
    registrar_qualified: bool,
) -> list[Line]:
    """Every line one payment earns under one scheme and agreement: milestones (when the
    registrar qualified in the registration month, if the scheme asks), commission (the
    agreement's rate, else the scheme's) and the contribution share."""
    lines: list[Line] = []
    if definition.milestones is not None and registrar_qualified:
        lines += milestone_lines(fact, definition.milestones)
    if definition.commission is not None:
        rate = definition.commission.rate_percent or parameters.commission_rate_percent
        if rate is not None:
            lines.append(commission_line(fact, rate))
    if definition.contribution_share is not None:
        share = contribution_share_line(fact, definition.contribution_share)
        if share is not None:
            lines.append(share)
    return lines


# -- contests (D-6) ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContestEntry:
    """A contestant's figures over a contest period."""

    partner_code: str
    registrations_first_month_paid: int
    contributions_collected: int


@dataclass(frozen=True)
class RankedEntry:
    rank: int
    entry: ContestEntry
    #: True when the next or previous entry has the same figures (the order among them is by code).
    tied: bool

    def as_json(self) -> dict[str, object]:
        return {
            "rank": self.rank,
            "partner_code": self.entry.partner_code,
            "registrations_first_month_paid": self.entry.registrations_first_month_paid,
            "contributions_collected": self.entry.contributions_collected,
            "tied": self.tied,
        }


def rank_contest(entries: Iterable[ContestEntry]) -> list[RankedEntry]:
    """D-6: rank by participants registered in the period whose first month is paid, ties broken
    by contributions collected; entries still equal share a rank (listed by code). Contestants
    with nothing are not ranked."""
    ordered = sorted(
        (e for e in entries if e.registrations_first_month_paid or e.contributions_collected),
        key=lambda e: (
            -e.registrations_first_month_paid,
            -e.contributions_collected,
            e.partner_code,
        ),
    )

    def score(e: ContestEntry) -> tuple[int, int]:
        return (e.registrations_first_month_paid, e.contributions_collected)

    ranked: list[RankedEntry] = []
    for position, entry in enumerate(ordered, start=1):
        same_as_previous = bool(ranked) and score(ranked[-1].entry) == score(entry)
        rank = ranked[-1].rank if same_as_previous else position
        tied = same_as_previous or (
            position < len(ordered) and score(ordered[position]) == score(entry)
        )
        ranked.append(RankedEntry(rank, entry, tied))
    return ranked

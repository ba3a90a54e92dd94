"""The incentive scheme definition: declarative, versioned data validated with pydantic.

A scheme file (``presets/*.json`` or one a user imports) names the scheme, its version, validity
dates and source, and a :class:`SchemeDefinition` made of optional rule blocks. Amounts are whole
rupiah (``int``); rates are exact decimal percentages written as strings (``"2.5"``). A value
left ``null`` where the block says "from the agreement" is set per agreement
(:class:`AgreementParameters`). See ``docs/incentives.md``.
"""

from __future__ import annotations

import itertools
import re
from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cakupan.partners.models import PartnerKind

ProgramSet = Literal["JKK+JKM", "JKK+JKM+JHT"]
PROGRAM_SETS: tuple[ProgramSet, ...] = ("JKK+JKM", "JKK+JKM+JHT")

Amount = Annotated[int, Field(ge=0)]
Percent = Annotated[Decimal, Field(ge=Decimal(0), le=Decimal(100))]
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,58}[a-z0-9]$")


class _Block(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Qualification(_Block):
    """A registrar qualifies in a calendar month (Asia/Jakarta) when it registered at least
    ``min_registrations_in_month`` participants that month (only NIKs new to BPU when
    ``new_to_bpu_only``)."""

    min_registrations_in_month: Annotated[int, Field(ge=1)]
    new_to_bpu_only: bool = False


class Milestone(_Block):
    """An amount per program set earned when the episode reaches ``paid_months`` paid months."""

    paid_months: Annotated[int, Field(ge=1, le=120)]
    amounts: dict[ProgramSet, Amount]

    @field_validator("amounts")
    @classmethod
    def _every_program_set(cls, value: dict[ProgramSet, int]) -> dict[ProgramSet, int]:
        missing = [p for p in PROGRAM_SETS if p not in value]
        if missing:
            raise ValueError(f"an amount is required for every program set; missing {missing}")
        return value


class MilestoneRule(_Block):
    """Milestone incentives per participant the beneficiary registered; each paid once per
    episode, earned in the month of the ``paid_on`` of the payment that reached it."""

    milestones: list[Milestone]
    #: When set, only participants registered in a month in which the registrar qualified.
    qualification: Qualification | None = None

    @field_validator("milestones")
    @classmethod
    def _distinct_months(cls, value: list[Milestone]) -> list[Milestone]:
        months = [m.paid_months for m in value]
        if not value:
            raise ValueError("at least one milestone is required")
        if len(set(months)) != len(months):
            raise ValueError(f"milestone months must be distinct, got {months}")
        return sorted(value, key=lambda m: m.paid_months)


class CommissionRule(_Block):
    """A percentage of every contribution payment made by participants the beneficiary
    registered, rounded half up to whole rupiah per payment. ``rate_percent`` null: the
    agreement sets it, within ``[min_rate_percent, max_rate_percent]``."""

    rate_percent: Percent | None = None
    min_rate_percent: Percent
    max_rate_percent: Percent

    @model_validator(mode="after")
    def _bounds(self) -> CommissionRule:
        if self.min_rate_percent > self.max_rate_percent:
            raise ValueError("min_rate_percent must not exceed max_rate_percent")
        if self.rate_percent is not None and not (
            self.min_rate_percent <= self.rate_percent <= self.max_rate_percent
        ):
            raise ValueError("rate_percent must lie within [min_rate_percent, max_rate_percent]")
        return self


class AcquisitionRule(_Block):
    """An amount per new participant, by program set, earned in the registration month when the
    registrar qualified that month."""

    amounts: dict[ProgramSet, Amount]
    qualification: Qualification

    @field_validator("amounts")
    @classmethod
    def _every_program_set(cls, value: dict[ProgramSet, int]) -> dict[ProgramSet, int]:
        return Milestone._every_program_set(value)  # same requirement


class ShareBand(_Block):
    """``rate_percent`` of the contribution of membership months ``from_month..to_month``
    (ordinal months of the episode, inclusive)."""

    from_month: Annotated[int, Field(ge=1)]
    to_month: Annotated[int, Field(ge=1)]
    rate_percent: Percent

    @model_validator(mode="after")
    def _ordered(self) -> ShareBand:
        if self.to_month < self.from_month:
            raise ValueError("to_month must not be before from_month")
        return self


class ContributionShareRule(_Block):
    """A share of the contributions received, by membership month of the episode; rounded half
    up per payment. Months outside every band earn nothing."""

    bands: list[ShareBand]

    @field_validator("bands")
    @classmethod
    def _no_overlap(cls, value: list[ShareBand]) -> list[ShareBand]:
        ordered = sorted(value, key=lambda b: b.from_month)
        for left, right in itertools.pairwise(ordered):
            if right.from_month <= left.to_month:
                raise ValueError(
                    f"bands overlap: {left.from_month}-{left.to_month} and "
                    f"{right.from_month}-{right.to_month}"
                )
        if not ordered:
            raise ValueError("at least one band is required")
        return ordered


class OverrideRule(_Block):
    """The beneficiary's parent (its Wadah) receives ``rate_percent`` of the beneficiary's
    statement total for the period, rounded half up per agent."""

    recipient: Literal["parent"] = "parent"
    rate_percent: Percent


class TransactionFees(_Block):
    """Fees the participant pays the collecting agent; reported on the statement, not paid by the
    agency (excluded from the total)."""

    registration: Amount
    payment: Amount
    paid_by: Literal["participant"] = "participant"


class OfficeThresholdRule(_Block):
    """An amount to an office when its registrations in the calendar month reach the threshold
    (a regional office counts the registrations of every office under it). Null values come from
    the agreement (``threshold_registrations``, ``threshold_amount``)."""

    min_registrations: Annotated[int, Field(ge=1)] | None = None
    amount: Amount | None = None


class ContestRule(_Block):
    """A contest: ranking over a period and scope, with a prize (D-6)."""

    name: str
    period: Literal["quarter", "full_period"]
    scope: Literal["national", "regional"]
    prize: str
    winners: Annotated[int, Field(ge=1)] = 1
    ranking: list[Literal["registrations_first_month_paid", "contributions_collected"]]


class TerminationRule(_Block):
    """An agent is due for termination after ``idle_months`` consecutive calendar months without
    acquisition or transaction, at risk after ``at_risk_months``."""

    idle_months: Annotated[int, Field(ge=1)]
    at_risk_months: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _ordered(self) -> TerminationRule:
        if self.at_risk_months >= self.idle_months:
            raise ValueError("at_risk_months must be less than idle_months")
        return self


class RegistrationCounting(_Block):
    """What counts as a registration for acquisitions, qualifications ("at least 25 in a month")
    and office thresholds (issue 19). ``registered``: the registration itself (an acquisition is
    earned at registration and clawed back when the registration turns void, D-3);
    ``first_month_paid``: the registration counts, in its registration month, once its first
    month is paid within ``within_days`` days of the registration date (null: any time before it
    turns void); an acquisition is then earned by the payment that paid the first month (in that
    payment's period, clawed back with it when reversed)."""

    rule: Literal["registered", "first_month_paid"] = "registered"
    within_days: Annotated[int, Field(ge=0, le=366)] | None = None

    @model_validator(mode="after")
    def _days_only_when_paid(self) -> RegistrationCounting:
        if self.rule == "registered" and self.within_days is not None:
            raise ValueError("within_days applies only to the rule first_month_paid")
        return self


class SchemeDefinition(_Block):
    """The rules of one scheme version. Every block is optional; a scheme has at least one."""

    applies_to: list[PartnerKind]
    milestones: MilestoneRule | None = None
    commission: CommissionRule | None = None
    acquisition: AcquisitionRule | None = None
    contribution_share: ContributionShareRule | None = None
    override: OverrideRule | None = None
    transaction_fees: TransactionFees | None = None
    office_threshold: OfficeThresholdRule | None = None
    contests: list[ContestRule] = Field(default_factory=list)
    termination: TerminationRule | None = None
    #: What counts as a registration (absent: ``registered``, the reading of version-1 presets;
    #: null rather than a default so that stored version-1 definitions keep their exact content).
    registration_counts: RegistrationCounting | None = None
    #: Incentives of a month are paid by this day of the next month (informational).
    payout_day_of_next_month: Annotated[int, Field(ge=1, le=28)] | None = None

    @property
    def counting(self) -> RegistrationCounting:
        """``registration_counts``, or the ``registered`` reading when the scheme is silent."""
        return self.registration_counts or RegistrationCounting()

    @model_validator(mode="after")
    def _has_a_rule(self) -> SchemeDefinition:
        if not self.applies_to:
            raise ValueError("applies_to must name at least one partner kind")
        if not any(
            (
                self.milestones,
                self.commission,
                self.acquisition,
                self.contribution_share,
                self.transaction_fees,
                self.office_threshold,
                self.contests,
            )
        ):
            raise ValueError("a scheme needs at least one rule block")
        return self


class LocalizedText(_Block):
    id: Annotated[str, Field(min_length=1)]
    en: Annotated[str, Field(min_length=1)]


class SchemeVersion(_Block):
    """One version of a scheme as shipped or imported: the record of ``incentive_scheme``."""

    name: str
    version: Annotated[int, Field(ge=1)]
    title: LocalizedText
    valid_from: date
    valid_to: date | None = None
    source: Annotated[str, Field(min_length=3)]
    definition: SchemeDefinition

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError("name must be lower-case letters, digits and dashes (3-60 chars)")
        return value

    @model_validator(mode="after")
    def _dates(self) -> SchemeVersion:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class AgreementParameters(_Block):
    """The numbers an agreement sets for its scheme (null: not set by this agreement)."""

    commission_rate_percent: Percent | None = None
    threshold_registrations: Annotated[int, Field(ge=1)] | None = None
    threshold_amount: Amount | None = None

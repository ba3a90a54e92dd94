"""The monthly incentive computation: ledger facts loaded with a fixed number of set-based
queries (no query per participant or payment), turned into statement lines by the pure rules of
:mod:`cakupan.incentives.rules`.

Attribution (domain.md section 5): an incentive belongs to the party that registered the
participant's membership episode: its agent when the agent holds an agreement, else its
partner. A partner that only collected a payment earns that payment's transaction fee (reported
on the statement, not part of its total). The Wadah override goes to the agent's parent.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Integer, Select, String, case, cast, false, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from cakupan.dates import JAKARTA, Month
from cakupan.db import is_postgres
from cakupan.incentives.definition import (
    AgreementParameters,
    ProgramSet,
    RegistrationCounting,
    SchemeDefinition,
)
from cakupan.incentives.models import IncentiveStatement
from cakupan.incentives.queries import scheme_version
from cakupan.incentives.rules import (
    Line,
    PaymentFact,
    acquisition_line,
    adjustment_line,
    clawback_line,
    override_line,
    paid_acquisition_line,
    payable,
    payment_lines,
    qualifies,
    registration_counts_as,
    threshold_line,
)
from cakupan.partners.models import Agreement, Partner
from cakupan.partners.queries import month_index_sql
from cakupan.registry.models import (
    CoveredMonth,
    Membership,
    Participant,
    ParticipantTerms,
    Payment,
    PaymentReversal,
)
from cakupan.registry.rules import VOID_AFTER_MONTHS

#: How far back (posting months before the period) a run looks for late payments to carry.
LATE_LOOK_BACK_MONTHS = 12


@dataclass
class Statement:
    """A statement being computed: one partner, one scheme, one period."""

    partner_code: str
    scheme: str
    scheme_version: int
    lines: list[Line] = field(default_factory=list)
    fees: dict[str, int] | None = None

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "partner_code": self.partner_code,
            "scheme": self.scheme,
            "scheme_version": self.scheme_version,
            "total": self.total,
            "payable": payable(self.total),
            "lines": [line.as_json() for line in self.lines],
        }
        if self.fees is not None:
            out["fees"] = dict(self.fees)
        return out


@dataclass(frozen=True)
class _Agreement:
    partner_code: str
    scheme: str
    version: int
    parameters: AgreementParameters
    valid_from: date
    valid_to: date | None

    def in_force_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def overlaps(self, first: date, last: date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or self.valid_to >= first)


class _Context:
    """Agreements, scheme definitions and the hierarchy, loaded once per run."""

    def __init__(self, session: Session) -> None:
        self.agreements: dict[str, list[_Agreement]] = defaultdict(list)
        parsed: dict[str, AgreementParameters] = {}
        for row in _core(session).execute(
            select(
                Agreement.partner_code,
                Agreement.scheme_name,
                Agreement.scheme_version,
                # the JSON text as stored: most agreements share a handful of parameter sets,
                # each parsed once
                cast(Agreement.parameters, String),
                Agreement.valid_from,
                Agreement.valid_to,
            ).where(Agreement.status == "active")
        ):
            key = row[3]
            if key not in parsed:
                parsed[key] = AgreementParameters.model_validate(json.loads(key))
            self.agreements[row[0]].append(
                _Agreement(row[0], row[1], row[2], parsed[key], row[4], row[5])
            )
        self._definitions: dict[tuple[str, int], SchemeDefinition] = {}
        self._session = session
        rows = _core(session).execute(select(Partner.code, Partner.parent_code)).all()
        self.parent: dict[str, str | None] = {row[0]: row[1] for row in rows}

    def definition(self, agreement: _Agreement) -> SchemeDefinition:
        key = (agreement.scheme, agreement.version)
        if key not in self._definitions:
            self._definitions[key] = scheme_version(self._session, *key).definition
        return self._definitions[key]

    def in_force(self, code: str | None, day: date) -> list[_Agreement]:
        if code is None:
            return []
        return [a for a in self.agreements.get(code, ()) if a.in_force_on(day)]


def _core(session: Session) -> Any:
    """The session's connection: bulk reads run as Core statements (plain rows, no ORM
    result processing: a national run reads millions of rows), in the session's transaction."""
    return session.connection()


def _beneficiary() -> Any:
    """The registrar of an episode: its agent when the agent holds an agreement, else its
    partner (SQL expression)."""
    holders = select(Agreement.partner_code)
    return case(
        (Membership.agent_code.in_(holders), Membership.agent_code), else_=Membership.partner_code
    )


@dataclass(frozen=True)
class LedgerPayment:
    payment_id: int
    reference: str
    amount: int
    paid_on: date
    first_month: int  # month index (``Month.index``)
    months: int
    participant_id: int
    start_month: int  # month index
    registered_month: int
    beneficiary: str
    nik: str
    membership_id: int
    registered_on: date
    episode_no: int


def ledger_payment_query(session: Session, beneficiary: Any) -> Select[Any]:
    """The columns of :class:`LedgerPayment` (in its field order) with ``beneficiary`` as its
    beneficiary column: the statement run and the simulator read payments the same way."""
    return (
        select(
            Payment.id,
            Payment.reference,
            Payment.amount,
            Payment.paid_on,
            raw_month(Payment.first_month),
            Payment.months,
            Payment.participant_id,
            raw_month(Membership.start_month),
            month_index_sql(session, Membership.registered_on),
            beneficiary,
            Participant.nik,
            Payment.membership_id,
            Membership.registered_on,
            Membership.episode_no,
        )
        .join(Membership, Membership.id == Payment.membership_id)
        .join(Participant, Participant.id == Payment.participant_id)
    )


def _payment_query(session: Session) -> Select[Any]:
    ben = _beneficiary()
    return ledger_payment_query(session, ben).where(ben.is_not(None))


def _load_payments(session: Session, query: Select[Any]) -> list[LedgerPayment]:
    return [
        LedgerPayment(*row)
        for row in _core(session).execute(query.order_by(Payment.paid_on, Payment.id))
    ]


def load_facts(
    session: Session, rows: list[LedgerPayment], id_query: Select[Any]
) -> dict[int, PaymentFact]:
    """Payment facts with covered-month amounts and program sets (three queries)."""
    months: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for payment_id, month, amount in _core(session).execute(
        select(CoveredMonth.payment_id, raw_month(CoveredMonth.month), CoveredMonth.amount)
        .where(CoveredMonth.payment_id.in_(id_query))
        .order_by(CoveredMonth.payment_id, CoveredMonth.month)
    ):
        months[payment_id].append((month, amount))
    participant_ids = select(Payment.participant_id).where(Payment.id.in_(id_query))
    terms: dict[int, list[tuple[int, ProgramSet]]] = defaultdict(list)
    for participant_id, effective, programs in _core(session).execute(
        select(
            ParticipantTerms.participant_id,
            raw_month(ParticipantTerms.effective_month),
            ParticipantTerms.programs,
        )
        .where(ParticipantTerms.participant_id.in_(participant_ids))
        .order_by(ParticipantTerms.participant_id, ParticipantTerms.effective_month)
    ):
        terms[participant_id].append((effective, program_set(programs)))
    starts = _starts_when_paid(session, rows)
    facts = {}
    for row in rows:
        covered = months.get(row.payment_id) or [
            (row.first_month + i, 0) for i in range(row.months)
        ]
        history = terms.get(row.participant_id, [])
        start = starts.get(row.payment_id, row.start_month)
        facts[row.payment_id] = PaymentFact(
            reference=row.reference,
            nik=row.nik,
            amount=row.amount,
            first_ordinal=row.first_month - start + 1,
            month_amounts=tuple(amount for _, amount in covered),
            programs=(history[0][1],) * len(covered)
            if len(history) == 1  # one set of terms (most participants): no search
            else tuple(_programs_in(history, month) for month, _ in covered),
        )
    return facts


def _starts_when_paid(session: Session, rows: list[LedgerPayment]) -> dict[int, int]:
    """The episode's start month (index) as it stood when each payment was made, for the
    payments of episodes that have a reversed payment (elsewhere the episode's start never
    moved). When the payment that opened a re-acquisition episode is reversed and the
    participant pays again later, the registry moves the start to the new payment's month; the
    reversed payment still earned (and gives back) its milestones from its own start.

    Reversals are last-in first-out within an episode, so an earlier payment P had already been
    reversed when X was made exactly when P is reversed and X is not, or P was reversed before
    X. X's start is the first month of the earliest payment of the episode not reversed before X.
    One query over the (few) episodes with a reversal."""
    wanted = {row.membership_id for row in rows}
    if not wanted:
        return {}
    reversed_memberships = (
        select(Payment.membership_id)
        .join(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .distinct()
    )
    chains: dict[int, list[tuple[int, int, int | None]]] = defaultdict(list)
    for membership_id, payment_id, first_month, reversal_id in _core(session).execute(
        select(
            Payment.membership_id, Payment.id, raw_month(Payment.first_month), PaymentReversal.id
        )
        .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
        .where(Payment.membership_id.in_(reversed_memberships))
        .order_by(Payment.membership_id, Payment.id)
    ):
        if membership_id in wanted:
            chains[membership_id].append((payment_id, int(first_month), reversal_id))
    starts: dict[int, int] = {}
    for row in rows:
        chain = chains.get(row.membership_id)
        if not chain:
            continue
        own = next((r for p, _, r in chain if p == row.payment_id), None)
        live = [
            first
            for payment_id, first, reversal in chain
            if payment_id == row.payment_id
            or (
                payment_id < row.payment_id
                and (reversal is None or (own is not None and reversal > own))
            )
        ]
        if live:
            starts[row.payment_id] = min(live)
    return starts


def _closed_references(
    session: Session, rows: list[LedgerPayment]
) -> dict[tuple[str, str, int], set[str]]:
    """For the closed statements of the registrars and months of ``rows``: the payment
    references their lines name, keyed by (partner, scheme, month index). Filtered by month in
    SQL (a handful) and by registrar here: a national list of codes would exceed SQLite's
    limit on bound parameters."""
    from cakupan.incentives.models import IncentiveLine, IncentiveStatement

    codes = {row.beneficiary for row in rows}
    months = sorted({Month.of(row.paid_on).index for row in rows})
    closed: dict[tuple[str, str, int], set[str]] = {}
    for code, scheme, month, reference in _core(session).execute(
        select(
            IncentiveStatement.partner_code,
            IncentiveStatement.scheme_name,
            raw_month(IncentiveStatement.period),
            IncentiveLine.reference,
        )
        .outerjoin(IncentiveLine, IncentiveLine.statement_id == IncentiveStatement.id)
        .where(
            IncentiveStatement.status != "draft",
            raw_month(IncentiveStatement.period).in_(months),
        )
    ):
        if code not in codes:
            continue
        references = closed.setdefault((code, scheme, int(month)), set())
        if reference is not None:
            references.add(reference)
    return closed


def _closed_months(period: Month) -> Select[Any]:
    """The months before ``period`` (within the look-back) that have closed statements."""
    from cakupan.incentives.models import IncentiveStatement

    month = raw_month(IncentiveStatement.period)
    return (
        select(month)
        .where(
            IncentiveStatement.status != "draft",
            month < period.index,
            month >= (period + -(LATE_LOOK_BACK_MONTHS + 1)).index,
        )
        .distinct()
        .order_by(month)
    )


def _carried_elsewhere(session: Session, period: Month) -> set[tuple[str, str, str | None]]:
    """(partner, scheme, reference) of the adjustment lines stored on the statements of other
    periods than ``period`` (draft or closed): late payments already carried. Adjustments are
    rare; one query."""
    from cakupan.incentives.models import IncentiveLine, IncentiveStatement

    return {
        (code, scheme, reference)
        for code, scheme, reference in _core(session).execute(
            select(
                IncentiveStatement.partner_code,
                IncentiveStatement.scheme_name,
                IncentiveLine.reference,
            )
            .join(IncentiveLine, IncentiveLine.statement_id == IncentiveStatement.id)
            .where(IncentiveLine.kind == "adjustment", IncentiveStatement.period != period)
        )
    }


def jakarta_month_index_sql(session: Session, column: Any) -> Any:
    """``year * 12 + month - 1`` of an instant column's Asia/Jakarta date, on both engines
    (SQLite keeps instants as UTC text; Jakarta is UTC+7 without daylight saving)."""
    from cakupan.db import is_postgres

    year: Any
    month: Any
    if is_postgres(session):
        local = func.timezone("Asia/Jakarta", column)
        year, month = func.extract("year", local), func.extract("month", local)
    else:
        year = func.strftime("%Y", column, "+7 hours")
        month = func.strftime("%m", column, "+7 hours")
    return cast(year, Integer) * 12 + cast(month, Integer) - 1


def program_set(text: str) -> ProgramSet:
    return "JKK+JKM+JHT" if text == "JKK+JKM+JHT" else "JKK+JKM"


def raw_month(column: Any) -> Any:
    """A ``MonthType`` column read as its integer index (no ``Month`` object per row)."""
    return type_coerce(column, Integer)


def _programs_in(history: list[tuple[int, ProgramSet]], month: int) -> ProgramSet:
    """The program set in force for ``month`` (the first terms when the month precedes them)."""
    if not history:
        return "JKK+JKM"
    index = bisect.bisect_right([m for m, _ in history], month) - 1
    return history[max(index, 0)][1]


Counts = dict[tuple[str, int], tuple[int, int]]


def _days_between_sql(session: Session, later: Any, earlier: Any) -> Any:
    """Whole days from ``earlier`` to ``later`` (DATE columns), on both engines."""
    if is_postgres(session):
        return later - earlier
    return cast(func.julianday(later) - func.julianday(earlier), Integer)


def registration_counts(
    session: Session, counting: RegistrationCounting, beneficiary: Any | None = None
) -> Counts:
    """Registrations per registrar and calendar month of registration that count under
    ``counting``: (all episodes, first episodes = NIKs new to BPU). ``registered``: every
    registration; ``first_month_paid``: those whose first month was paid by a payment made
    within ``within_days`` of the registration (any time when not set). A payment reversed later
    still counted its registration for the month's qualification (the reversed payment's own
    lines are clawed back): the count of a month never drops, so what the other registrations
    of the month earned stays earned. One grouped query."""
    ben = _beneficiary() if beneficiary is None else beneficiary
    month = month_index_sql(session, Membership.registered_on)
    new = func.sum(case((Membership.episode_no == 1, 1), else_=0))
    query = select(ben, month, func.count(), new).where(ben.is_not(None))
    if counting.rule == "first_month_paid":
        first_paid = (
            select(Payment.membership_id, func.min(Payment.paid_on).label("paid_on"))
            .join(Membership, Membership.id == Payment.membership_id)
            .where(Payment.first_month == Membership.start_month)
            .group_by(Payment.membership_id)
            .subquery()
        )
        query = query.join(first_paid, first_paid.c.membership_id == Membership.id)
        if counting.within_days is not None:
            query = query.where(
                _days_between_sql(session, first_paid.c.paid_on, Membership.registered_on)
                <= counting.within_days
            )
    counts: Counts = {}
    for code, index, total, first in _core(session).execute(query.group_by(ben, month)):
        counts[(code, int(index))] = (int(total), int(first or 0))
    return counts


def compute_period(session: Session, period: Month) -> list[Statement]:
    """Every statement of ``period`` computed from the ledger as it stands: statements of every
    partner with an agreement in force during the period (empty when nothing was earned), plus
    the statements that receive clawbacks and overrides. Deterministic order."""
    first_day, last_day = period.first_day, period.last_day
    context = _Context(session)
    statements: dict[tuple[str, str], Statement] = {}

    def statement(code: str, agreement: _Agreement) -> Statement:
        key = (code, agreement.scheme)
        if key not in statements:
            statements[key] = Statement(code, agreement.scheme, agreement.version)
        return statements[key]

    for code in sorted(context.agreements):
        for agreement in sorted(context.agreements[code], key=lambda a: a.valid_from):
            if agreement.overlaps(first_day, last_day):
                statement(code, agreement).scheme_version = agreement.version

    # One grouped query per reading of "registration" among the agreements' schemes (a fixed
    # number, whatever the ledger).
    counted: dict[RegistrationCounting, Counts] = {}
    for agreements in context.agreements.values():
        for agreement in agreements:
            counting = context.definition(agreement).counting
            if counting not in counted:
                counted[counting] = registration_counts(session, counting)

    def counts_for(definition: SchemeDefinition) -> Counts:
        key = definition.counting
        if key not in counted:
            counted[key] = registration_counts(session, key)
        return counted[key]

    def earned(row: LedgerPayment, fact: PaymentFact) -> list[tuple[_Agreement, list[Line]]]:
        out = []
        for agreement in context.in_force(row.beneficiary, row.paid_on):
            definition = context.definition(agreement)
            qualification = definition.milestones.qualification if definition.milestones else None
            count = counts_for(definition).get((row.beneficiary, row.registered_month), (0, 0))
            qualified = qualifies(
                count[1] if qualification and qualification.new_to_bpu_only else count[0],
                qualification,
            )
            lines = payment_lines(
                fact, definition, agreement.parameters, registrar_qualified=qualified
            )
            acquisition = paid_acquisition_line(
                definition,
                fact,
                registered_on=row.registered_on,
                paid_on=row.paid_on,
                new_to_bpu=row.episode_no == 1,
                counts=counts_for(definition).get((row.beneficiary, row.registered_month), (0, 0)),
            )
            if acquisition is not None:
                lines.append(acquisition)
            if lines:
                out.append((agreement, lines))
        return out

    # Payments made in the period earn milestones, commissions and shares.
    base = _payment_query(session)
    earning = base.where(Payment.paid_on.between(first_day, last_day))
    earning_rows = _load_payments(session, earning)
    earning_ids = select(Payment.id).where(Payment.paid_on.between(first_day, last_day))
    facts = load_facts(session, earning_rows, earning_ids)
    for row in earning_rows:
        for agreement, lines in earned(row, facts[row.payment_id]):
            statement(row.beneficiary, agreement).lines.extend(lines)

    # Payments reversed in the period give back what they earned (in the reversal's period).
    reversed_ids = select(PaymentReversal.payment_id).where(
        PaymentReversal.reversed_on.between(first_day, last_day)
    )
    clawing_rows = _load_payments(session, base.where(Payment.id.in_(reversed_ids)))
    clawing_facts = load_facts(session, clawing_rows, reversed_ids)
    for row in clawing_rows:
        fact = clawing_facts[row.payment_id]
        for agreement, lines in earned(row, fact):
            line = clawback_line(lines, row.reference, row.nik)
            if line is not None:
                statement(row.beneficiary, agreement).lines.append(line)

    # Late payments: posted after the month of their ``paid_on`` (from the posting month on,
    # within LATE_LOOK_BACK_MONTHS) whose earning period's statement was already closed
    # (approved, paid or disputed) without them. What they earn is carried, once, by the first
    # run that finds them carried by no other statement (draft or closed) -- the run of their
    # posting period, or a later one when that period was closed before it could carry them.
    start = datetime.combine((period + -LATE_LOOK_BACK_MONTHS).first_day, time.min, tzinfo=JAKARTA)
    end = datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=JAKARTA)
    # Only payments earned in a month that has closed statements can be late in this sense.
    closed_months = [
        Month.from_index(int(index))
        for index in _core(session).execute(_closed_months(period)).scalars()
    ]
    late_ids = select(Payment.id).where(
        Payment.posted_at >= start,
        Payment.posted_at < end,
        or_(false(), *(Payment.paid_on.between(m.first_day, m.last_day) for m in closed_months)),
        jakarta_month_index_sql(session, Payment.posted_at)
        > month_index_sql(session, Payment.paid_on),
    )
    late_rows = (
        _load_payments(session, base.where(Payment.id.in_(late_ids))) if closed_months else []
    )
    if late_rows:
        closed = _closed_references(session, late_rows)
        carried = _carried_elsewhere(session, period)
        late_facts = load_facts(session, late_rows, late_ids)
        for row in late_rows:
            earned_month = Month.of(row.paid_on)
            reference = f"{earned_month}:{row.reference}"
            for agreement, lines in earned(row, late_facts[row.payment_id]):
                closed_key = (row.beneficiary, agreement.scheme, earned_month.index)
                if closed_key not in closed or row.reference in closed[closed_key]:
                    continue  # earned (or to be earned) in its own period
                if (row.beneficiary, agreement.scheme, reference) in carried:
                    continue  # another period's statement carries it already
                line = adjustment_line(lines, reference, row.nik)
                if line is not None:
                    statement(row.beneficiary, agreement).lines.append(line)

    _acquisitions(session, context, period, counts_for, statement)
    _thresholds(session, context, period, statements)
    _fees(session, context, period, statements)

    # Overrides: the parent receives a share of each agent's net total under the agent's scheme.
    for (code, scheme), agent_statement in sorted(statements.items()):
        parent = context.parent.get(code)
        agreements = [a for a in context.agreements.get(code, ()) if a.scheme == scheme]
        if parent is None or not agreements:
            continue
        rule = context.definition(agreements[0]).override
        if rule is None:
            continue
        line = override_line(code, agent_statement.total, rule)
        if line is not None:
            key = (parent, scheme)
            if key not in statements:
                statements[key] = Statement(parent, scheme, agent_statement.scheme_version)
            statements[key].lines.append(line)

    # Netting: a statement of the period before that closed below zero is carried forward.
    previous = period + -1
    for code, scheme, version, total in _core(session).execute(
        select(
            IncentiveStatement.partner_code,
            IncentiveStatement.scheme_name,
            IncentiveStatement.scheme_version,
            IncentiveStatement.total,
        ).where(IncentiveStatement.period == previous, IncentiveStatement.total < 0)
    ):
        key = (code, scheme)
        if key not in statements:
            statements[key] = Statement(code, scheme, version)
        statements[key].lines.append(Line(None, "carried_forward", int(total), str(previous)))
    return [statements[key] for key in sorted(statements)]


def _acquisitions(
    session: Session,
    context: _Context,
    period: Month,
    counts_for: Callable[[SchemeDefinition], Counts],
    statement: Any,
) -> None:
    """Acquisition incentives of schemes that count a registration when it is made
    (``registered``): earned for registrations in the period by qualified registrars, and given
    back (``clawback``, reference ``void:<registration date>``) in the period in which a
    registration with nothing paid turns void (D-3: the first day of its start month + 3).
    Schemes counting ``first_month_paid`` earn theirs with the payment (``earned``)."""
    ben = _beneficiary()
    void_month = period + -VOID_AFTER_MONTHS
    columns = (
        Membership.id,
        Membership.participant_id,
        Membership.registered_on,
        Membership.episode_no,
        raw_month(Membership.start_month),
        ben,
        Participant.nik,
    )
    registered_now = Membership.registered_on.between(period.first_day, period.last_day)
    turned_void = (
        (Membership.start_month == void_month)
        & Membership.paid_through_month.is_(None)
        & Membership.first_paid_on.is_(None)
    )
    rows = (
        _core(session)
        .execute(
            select(*columns, case((registered_now, 1), else_=-1))
            .join(Participant, Participant.id == Membership.participant_id)
            .where(or_(registered_now, turned_void), ben.is_not(None))
            .order_by(Membership.registered_on, Membership.id)
        )
        .all()
    )
    if not rows:
        return
    terms: dict[int, list[tuple[int, ProgramSet]]] = defaultdict(list)
    participant_ids = [row[1] for row in rows]
    for participant_id, effective, programs in _core(session).execute(
        select(
            ParticipantTerms.participant_id,
            raw_month(ParticipantTerms.effective_month),
            ParticipantTerms.programs,
        )
        .where(ParticipantTerms.participant_id.in_(sorted(set(participant_ids))))
        .order_by(ParticipantTerms.participant_id, ParticipantTerms.effective_month)
    ):
        terms[participant_id].append((effective, program_set(programs)))
    for _id, participant_id, registered_on, episode_no, start_month, code, nik, sign in rows:
        for agreement in context.in_force(code, registered_on):
            definition = context.definition(agreement)
            rule = definition.acquisition
            if rule is None or definition.counting.rule != "registered":
                continue
            if rule.qualification.new_to_bpu_only and episode_no != 1:
                continue
            total, new = counts_for(definition).get((code, start_month), (0, 0))
            if not qualifies(
                new if rule.qualification.new_to_bpu_only else total, rule.qualification
            ):
                continue
            programs = _programs_in(terms.get(participant_id, []), start_month)
            line = acquisition_line(
                nik, programs, rule, f"registration:{registered_on.isoformat()}"
            )
            if sign < 0:
                line = Line(nik, "clawback", -line.amount, f"void:{registered_on.isoformat()}")
            statement(code, agreement).lines.append(line)


def _thresholds(
    session: Session, context: _Context, period: Month, statements: dict[tuple[str, str], Statement]
) -> None:
    """Office incentives: registrations of the office and everything under it, within the
    agreement's validity in the period, against the agreement's threshold."""
    offices = [
        (code, agreement)
        for code, agreements in context.agreements.items()
        for agreement in agreements
        if agreement.overlaps(period.first_day, period.last_day)
        and context.definition(agreement).office_threshold is not None
    ]
    if not offices:
        return
    office_codes = {code for code, _ in offices}
    chains: dict[str, list[str]] = {}

    def offices_above(code: str) -> list[str]:
        """The code itself and its ancestors that hold an office agreement (memoised)."""
        if code not in chains:
            parent = context.parent.get(code)
            above = offices_above(parent) if parent and parent != code else []
            chains[code] = ([code] if code in office_codes else []) + above
        return chains[code]

    # One pass over the period's registrations: each counts once for every office above it.
    per_office: dict[str, list[tuple[date, date | None]]] = defaultdict(list)
    for partner_code, agent_code, registered_on, first_paid_on in _core(session).execute(
        select(
            Membership.partner_code,
            Membership.agent_code,
            Membership.registered_on,
            Membership.first_paid_on,
        ).where(Membership.registered_on.between(period.first_day, period.last_day))
    ):
        hit: set[str] = set()
        for code in (partner_code, agent_code):
            if code is not None:
                hit.update(offices_above(code))
        for office in hit:
            per_office[office].append((registered_on, first_paid_on))
    for code, agreement in sorted(offices, key=lambda item: (item[0], item[1].valid_from)):
        definition = context.definition(agreement)
        rule = definition.office_threshold
        assert rule is not None
        count = sum(
            1
            for day, first_paid in per_office.get(code, ())
            if agreement.in_force_on(day)
            and registration_counts_as(definition.counting, day, first_paid)
        )
        minimum = rule.min_registrations or agreement.parameters.threshold_registrations
        amount = rule.amount if rule.amount is not None else agreement.parameters.threshold_amount
        line = threshold_line(count, minimum, amount, f"registrations:{period}:{count}")
        if line is not None:
            key = (code, agreement.scheme)
            statements.setdefault(
                key, Statement(code, agreement.scheme, agreement.version)
            ).lines.append(line)


def _fees(
    session: Session, context: _Context, period: Month, statements: dict[tuple[str, str], Statement]
) -> None:
    """Transaction fees (paid by participants to the agent; reported, not in the total):
    registrations the partner made and payments it collected while its agreement was in force."""
    holders = {
        (code, agreement.scheme): agreement
        for code, agreements in context.agreements.items()
        for agreement in agreements
        if agreement.overlaps(period.first_day, period.last_day)
        and context.definition(agreement).transaction_fees is not None
    }
    if not holders:
        return
    ben = _beneficiary()
    registrations: dict[str, list[date]] = defaultdict(list)
    for code, day in _core(session).execute(
        select(ben, Membership.registered_on).where(
            Membership.registered_on.between(period.first_day, period.last_day), ben.is_not(None)
        )
    ):
        registrations[code].append(day)
    collector = func.coalesce(Payment.agent_code, Payment.partner_code)
    payments: dict[str, list[date]] = defaultdict(list)
    for code, day in _core(session).execute(
        select(collector, Payment.paid_on).where(
            Payment.paid_on.between(period.first_day, period.last_day), collector.is_not(None)
        )
    ):
        payments[code].append(day)
    for (code, scheme), agreement in sorted(holders.items()):
        fees = context.definition(agreement).transaction_fees
        assert fees is not None
        n_reg = sum(1 for day in registrations.get(code, ()) if agreement.in_force_on(day))
        n_pay = sum(1 for day in payments.get(code, ()) if agreement.in_force_on(day))
        target = statements.setdefault((code, scheme), Statement(code, scheme, agreement.version))
        target.fees = {
            "registrations": n_reg,
            "payments": n_pay,
            "amount": n_reg * fees.registration + n_pay * fees.payment,
        }

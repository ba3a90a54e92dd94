"""The retention workbench's read side: the four worklists as of a date, scoped like every
other participant read (branch, assigned accounts for ar/ark, partner and its agents, agent),
with amounts due, lapse-risk scores, owners, last contacts and follow-ups.

Phones (and NIKs) are shown in clear to the people who call: the row's owner, and on the rows of
their scope ``kabid``, ``ark``/``ar``, the participant's partner and agent, the operator
(``system``) and the roles that see them everywhere; every page of revealed values is one audit
row. Everyone else (head office, regional) sees them masked.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, exists, func, literal, select
from sqlalchemy.orm import Session, aliased

from cakupan.access import mask_nik, mask_phone, participant_scope_for, sees_unmasked
from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.contributions import PolicyBook, load_policy_book
from cakupan.contributions.models import ContributionPolicy
from cakupan.dashboard.models import ContactAction
from cakupan.dates import Month
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.registry.models import Membership, Participant, PaymentCode
from cakupan.registry.rules import (
    ARREARS_MONTHS,
    VOID_AFTER_MONTHS,
    payment_code_valid_until,
)
from cakupan.reminders import last_reminders
from cakupan.retention.ledger import end_of, episode_rows, month_int
from cakupan.retention.models import RetentionOwner, RetentionScore
from cakupan.retention.rules import (
    CLOSED_RECENT_MONTHS,
    DUE_DAY,
    LISTS,
    closes_on,
    months_to_pay,
    outcome_label,
    reason_text,
    wa_phone,
    whatsapp_message,
)

#: Roles that call participants: phones in clear on the rows of their scope.
CALLING_ROLES = frozenset(
    {Role.KABID, Role.ARK, Role.AR, Role.PARTNER, Role.AGENT, Role.SYSTEM, Role.ADMIN}
)
#: Roles that read the workbench (the others get nothing: fail closed by scope).
READING_ROLES = CALLING_ROLES | {Role.HEAD_OFFICE, Role.REGIONAL, Role.AUDITOR, Role.PAP}
#: Risk bands of the filter: [low, high) bounds.
RISK_BANDS: dict[str, tuple[float, float]] = {
    "high": (0.5, 1.01),
    "medium": (0.2, 0.5),
    "low": (0.0, 0.2),
}


def _scope(session: Session, actor: Actor, **columns: Any) -> Any:
    """:func:`cakupan.access.participant_scope_for` on the given columns."""
    return participant_scope_for(session, actor, **columns)


def check_list(name: str) -> str:
    """``name`` if it is one of the four lists, else an INVALID error naming them."""
    if name not in LISTS:
        raise invalid(
            "list",
            t(
                f"salah satu dari {', '.join(LISTS)}, bukan {name!r}",
                f"one of {', '.join(LISTS)}, got {name!r}",
            ),
        )
    return name


@dataclass(frozen=True)
class WorklistFilters:
    """Filters of a worklist (all optional). ``partner`` matches the registering partner or
    agent code; ``not_contacted`` keeps rows with no contact since they entered the list;
    ``include_snoozed`` also shows rows whose follow-up date is still ahead."""

    branch: str | None = None
    partner: str | None = None
    owner: str | None = None
    village: str | None = None
    occupation: str | None = None
    risk_band: str | None = None
    not_contacted: bool = False
    include_snoozed: bool = False

    def __post_init__(self) -> None:
        if self.risk_band is not None and self.risk_band not in RISK_BANDS:
            raise invalid(
                "risk",
                t(
                    f"salah satu dari {', '.join(RISK_BANDS)}, bukan {self.risk_band!r}",
                    f"one of {', '.join(RISK_BANDS)}, got {self.risk_band!r}",
                ),
            )

    def as_params(self) -> dict[str, str]:
        """The filters as URL query parameters (empty ones left out)."""
        out = {
            k: v
            for k, v in (
                ("branch", self.branch),
                ("partner", self.partner),
                ("owner", self.owner),
                ("village", self.village),
                ("occupation", self.occupation),
                ("risk", self.risk_band),
            )
            if v
        }
        if self.not_contacted:
            out["not_contacted"] = "1"
        if self.include_snoozed:
            out["snoozed"] = "1"
        return out


@dataclass
class WorkRow:
    """One row of a worklist before masking (internal)."""

    participant_id: int
    nik: str
    name: str
    phone: str
    branch_code: str | None
    village_code: str | None
    occupation: str
    channel: str
    partner_code: str | None
    agent_code: str | None
    start_month: Month
    registered_on: date
    paid_through: Month | None
    months_paid: int
    code_valid_until: date | None
    code_amount: int | None
    owner: str | None
    risk: float | None
    reasons: list[str]
    amount_due: int = 0
    contact: ContactAction | None = None
    terms: tuple[int, str, str, str] = (0, "", "", "")


def _window_start(list_name: str, row: WorkRow) -> date:
    """From when a contact counts for the row's current stay on its list."""
    if list_name == "unpaid_registration" or row.paid_through is None:
        return row.registered_on
    if list_name == "closed_recent":
        return closes_on(row.paid_through)
    return (row.paid_through + 1).first_day


def _conditions(list_name: str, month: Month, through: Any) -> list[Any]:
    m = month.index
    if list_name == "unpaid_registration":
        return [
            through.is_(None),
            month_int(Membership.start_month) > m - VOID_AFTER_MONTHS,
        ]
    if list_name == "due":
        return [through == m - 1]
    if list_name == "arrears":
        return [through.between(m - ARREARS_MONTHS, m - 2)]
    return [through.between(m - ARREARS_MONTHS - CLOSED_RECENT_MONTHS, m - ARREARS_MONTHS - 1)]


def ledger_settled_by(session: Session, as_of: date) -> bool:
    """Whether nothing in the ledger is dated after ``as_of``: no payment made, no payment
    reversed and nobody registered after it (the usual case: a worklist as of today). Then the
    episodes' paid-through projection (``membership.paid_through_month``/``months_paid``, kept
    by every posting and reversal) *is* the ledger as of ``as_of``, and a worklist reads it by
    index instead of totalling payments. Three index probes."""
    from cakupan.registry.models import Payment, PaymentReversal

    later = (
        select(Payment.id).where(Payment.paid_on > as_of).limit(1),
        select(PaymentReversal.id).where(PaymentReversal.reversed_on > as_of).limit(1),
        select(Participant.id).where(Participant.registered_on > as_of).limit(1),
        select(Membership.id).where(Membership.registered_on > as_of).limit(1),
    )
    return all(session.scalar(query) is None for query in later)


def _latest_by_projection(list_name: str, as_of: date) -> tuple[Any, Any, Any, Any, Any, Any]:
    """The latest episode of each participant read from the paid-through projection (valid
    when :func:`ledger_settled_by`): ``(base, paid_through, months_paid, code_valid_until,
    code_amount, code_issued_at)``. The kode penetapan is joined for unpaid registrations only
    (the other lists do not show it)."""
    later = aliased(Membership, name="later")
    base = (
        select()
        .select_from(Membership)
        .where(
            Membership.registered_on <= as_of,
            ~exists().where(
                later.participant_id == Membership.participant_id,
                later.episode_no > Membership.episode_no,
            ),
        )
    )
    through = month_int(Membership.paid_through_month)
    if list_name != "unpaid_registration":
        none = literal(None)
        return base, through, Membership.months_paid, none, none, none
    code_id = (
        select(func.max(PaymentCode.id))
        .where(PaymentCode.membership_id == Membership.id)
        .correlate(Membership)
        .scalar_subquery()
    )
    base = base.outerjoin(PaymentCode, PaymentCode.id == code_id)
    return (
        base,
        through,
        Membership.months_paid,
        PaymentCode.valid_until,
        PaymentCode.amount,
        PaymentCode.issued_at,
    )


def _narrowed(session: Session, actor: Actor, filters: WorklistFilters) -> Any:
    """A SELECT of the ids of the participants that may be on the actor's filtered list: the
    scope and the filters on any of their episodes (a superset: the exact conditions on the
    latest episode apply again after the aggregation). Applied *before* the ledger is totalled,
    so a branch's list reads that branch's payments only."""
    query = (
        select(Membership.participant_id)
        .join(Participant, Participant.id == Membership.participant_id)
        .where(
            _scope(
                session,
                actor,
                branch_code=Participant.branch_code,
                partner_code=Membership.partner_code,
                agent_code=Membership.agent_code,
                participant_id=Participant.id,
            )
        )
    )
    if filters.branch:
        query = query.where(Participant.branch_code == filters.branch)
    if filters.partner:
        query = query.where(
            (Membership.partner_code == filters.partner)
            | (Membership.agent_code == filters.partner)
        )
    if filters.village:
        query = query.where(Participant.village_code == filters.village)
    if filters.occupation:
        query = query.where(Participant.occupation == filters.occupation)
    if filters.owner:
        query = query.where(
            Membership.participant_id.in_(
                select(RetentionOwner.participant_id).where(RetentionOwner.owner == filters.owner)
            )
        )
    return query


def _candidates(
    session: Session,
    actor: Actor,
    list_name: str,
    as_of: date,
    filters: WorklistFilters,
    projection: bool | None = None,
) -> list[WorkRow]:
    """The scoped, filtered rows of a list (unsorted, unpriced). ``projection``: read the
    paid-through projection (True), total the ledger as of the date (False), or the projection
    whenever :func:`ledger_settled_by` (None: the default; the two agree, tested)."""
    month = Month.of(as_of)
    fast = ledger_settled_by(session, as_of) if projection is None else projection
    if fast:
        base, through, months_paid, valid_until, code_amount, issued_at = _latest_by_projection(
            list_name, as_of
        )
    else:
        # one CTE read by the three aggregations (PostgreSQL materializes it once)
        scoped = _narrowed(session, actor, filters).cte("scoped")
        _latest, paid, code, base = episode_rows(as_of, select(scoped.c.participant_id))
        through, months_paid = paid.c.paid_through, paid.c.months_paid
        valid_until, code_amount = code.c.code_valid_until, code.c.code_amount
        issued_at = code.c.code_issued_at
    query = (
        base.add_columns(
            Participant.id,
            Participant.nik,
            Participant.name,
            Participant.phone,
            Participant.branch_code,
            Participant.village_code,
            Participant.occupation,
            Participant.reported_income,
            Participant.programs,
            Participant.sector,
            Participant.funding,
            Membership.channel,
            Membership.partner_code,
            Membership.agent_code,
            Membership.start_month,
            Membership.registered_on,
            through.label("paid_through"),
            months_paid.label("months_paid"),
            valid_until.label("code_valid_until"),
            code_amount.label("code_amount"),
            issued_at.label("code_issued_at"),
            RetentionOwner.owner,
            RetentionScore.risk,
            RetentionScore.reasons,
        )
        .join(Participant, Participant.id == Membership.participant_id)
        .outerjoin(RetentionOwner, RetentionOwner.participant_id == Participant.id)
        .outerjoin(
            RetentionScore,
            and_(
                RetentionScore.participant_id == Participant.id,
                RetentionScore.month == month,
            ),
        )
        .where(
            *_conditions(list_name, month, through),
            _scope(
                session,
                actor,
                branch_code=Participant.branch_code,
                partner_code=Membership.partner_code,
                agent_code=Membership.agent_code,
                participant_id=Participant.id,
            ),
        )
    )
    if filters.branch:
        query = query.where(Participant.branch_code == filters.branch)
    if filters.partner:
        query = query.where(
            (Membership.partner_code == filters.partner)
            | (Membership.agent_code == filters.partner)
        )
    if filters.owner:
        query = query.where(RetentionOwner.owner == filters.owner)
    if filters.village:
        query = query.where(Participant.village_code == filters.village)
    if filters.occupation:
        query = query.where(Participant.occupation == filters.occupation)
    if filters.risk_band:
        low, high = RISK_BANDS[filters.risk_band]
        query = query.where(RetentionScore.risk >= low, RetentionScore.risk < high)
    rows: list[WorkRow] = []
    for r in session.execute(query):
        through = None if r.paid_through is None else Month.from_index(int(r.paid_through))
        rows.append(
            WorkRow(
                participant_id=r.id,
                nik=r.nik,
                name=r.name,
                phone=r.phone,
                branch_code=r.branch_code,
                village_code=r.village_code,
                occupation=r.occupation,
                channel=r.channel,
                partner_code=r.partner_code,
                agent_code=r.agent_code,
                start_month=r.start_month,
                registered_on=r.registered_on,
                paid_through=through,
                months_paid=int(r.months_paid or 0),
                code_valid_until=r.code_valid_until
                if r.code_issued_at is None or r.code_issued_at.date() <= as_of
                # a code stamped after the as-of day (imported past registration): the code
                # the registration was given on its day
                else payment_code_valid_until(r.registered_on),
                code_amount=None if r.code_amount is None else int(r.code_amount),
                owner=r.owner,
                risk=None if r.risk is None else float(r.risk),
                reasons=[c for c in (r.reasons or "").split(",") if c],
                terms=(int(r.reported_income), r.programs, r.sector, r.funding),
            )
        )
    return rows


def _amount(book: PolicyBook, list_name: str, month: Month, row: WorkRow) -> int:
    if list_name == "unpaid_registration" and row.code_amount is not None:
        return row.code_amount
    income, programs, sector, funding = row.terms
    return sum(
        book.monthly_total(
            income=income, programs=programs, month=due, sector=sector, funding=funding
        )
        for due in months_to_pay(list_name, month, row.paid_through, row.start_month)
    )


#: Policy books per database, keyed by the policy table's fingerprint (see cached_policy_book).
_BOOKS: dict[str, tuple[tuple[int, int], PolicyBook]] = {}
_BOOKS_LOCK = threading.Lock()


def cached_policy_book(session: Session) -> PolicyBook:
    """The database's :class:`PolicyBook`, built once per process and reused (with its price
    cache) across requests. Policies are append-only (an import adds versions, never edits a
    row), so ``(count, max id)`` of ``contribution_policy`` changes with every reload of the
    reference: one cheap query per request, and a reload in any process invalidates it."""
    count, top = session.execute(
        select(func.count(), func.max(ContributionPolicy.id)).select_from(ContributionPolicy)
    ).one()
    fingerprint = (int(count), int(top or 0))
    key = str(session.get_bind().engine.url)
    with _BOOKS_LOCK:
        held = _BOOKS.get(key)
        if held is not None and held[0] == fingerprint:
            return held[1]
    book = load_policy_book(session)
    with _BOOKS_LOCK:
        _BOOKS[key] = (fingerprint, book)
    return book


def _last_contacts(
    session: Session, ids: Sequence[int], as_of: date
) -> dict[int, list[ContactAction]]:
    out: dict[int, list[ContactAction]] = {}
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        for contact in session.scalars(
            select(ContactAction)
            .where(ContactAction.participant_id.in_(chunk), ContactAction.at < end_of(as_of))
            .order_by(ContactAction.at, ContactAction.id)
        ):
            out.setdefault(contact.participant_id, []).append(contact)
    return out


def unmasked_for(actor: Actor, row_branch: str | None, owner: str | None) -> bool:
    """Whether ``actor`` sees a (scoped) worklist row's phone and NIK in clear."""
    if owner is not None and owner == actor.name:
        return True
    return actor.role in CALLING_ROLES or sees_unmasked(actor, row_branch)


def worklist(
    session: Session,
    actor: Actor,
    list_name: str,
    as_of: date,
    filters: WorklistFilters | None = None,
    *,
    limit: int | None = None,
    offset: int = 0,
    book: PolicyBook | None = None,
    projection: bool | None = None,
) -> dict[str, Any]:
    """One worklist as of ``as_of`` within the actor's scope: rows whose follow-up day has come
    first (earliest first), then by risk x amount due (highest first; rows without a score
    after those with one), then by name. Rows whose follow-up day is still ahead are left out
    unless ``include_snoozed``. ``total`` counts every matching row; ``rows`` holds
    ``limit`` of them from ``offset``. ``projection``: see :func:`_candidates` (tests)."""
    check_list(list_name)
    filters = filters or WorklistFilters()
    if limit is not None and limit < 1:
        raise invalid("limit", t(f"paling sedikit 1, bukan {limit}", f"at least 1, got {limit}"))
    if actor.role not in READING_ROLES:
        rows: list[WorkRow] = []
    else:
        rows = _candidates(session, actor, list_name, as_of, filters, projection)
    month = Month.of(as_of)
    book = book or cached_policy_book(session)
    contacts = _last_contacts(session, [r.participant_id for r in rows], as_of)
    kept: list[WorkRow] = []
    for row in rows:
        since = _window_start(list_name, row)
        within = [c for c in contacts.get(row.participant_id, []) if c.at.date() >= since]
        row.contact = within[-1] if within else None
        if filters.not_contacted and row.contact is not None:
            continue
        follow = None if row.contact is None else row.contact.follow_up_on
        if follow is not None and follow > as_of and not filters.include_snoozed:
            continue
        row.amount_due = _amount(book, list_name, month, row)
        kept.append(row)

    def order(row: WorkRow) -> tuple[int, date, int, float, str, int]:
        follow = None if row.contact is None else row.contact.follow_up_on
        due_follow_up = follow is not None and follow <= as_of
        stake = (row.risk or 0.0) * row.amount_due
        return (
            0 if due_follow_up else 1,
            follow if due_follow_up and follow is not None else date.min,
            0 if row.risk is not None else 1,
            -stake,
            row.name,
            row.participant_id,
        )

    kept.sort(key=order)
    page = kept[offset : None if limit is None else offset + limit]
    return {
        "list": list_name,
        "as_of": as_of.isoformat(),
        "month": str(month),
        "total": len(kept),
        "rows": _shown(session, actor, list_name, as_of, page),
    }


def _shown(
    session: Session, actor: Actor, list_name: str, as_of: date, rows: Sequence[WorkRow]
) -> list[dict[str, Any]]:
    month = Month.of(as_of)
    revealed: list[str] = []
    out: list[dict[str, Any]] = []
    reminded, opted_out = last_reminders(
        session, {row.participant_id: _window_start(list_name, row) for row in rows}, as_of
    )
    for row in rows:
        clear = unmasked_for(actor, row.branch_code, row.owner)
        last = reminded.get(row.participant_id)
        if clear:
            revealed.append(f"participant:{row.participant_id}")
        phone = row.phone if clear else mask_phone(row.phone)
        contact = row.contact
        message = whatsapp_message(row.name, list_name, row.amount_due, month)
        item: dict[str, Any] = {
            "nik": row.nik if clear else mask_nik(row.nik),
            "name": row.name,
            "phone": phone,
            "paid_through": None if row.paid_through is None else str(row.paid_through),
            "months_paid": row.months_paid,
            "amount_due": row.amount_due,
            "risk": None if row.risk is None else round(row.risk, 4),
            "reasons": [reason_text(code).render() for code in row.reasons],
            "owner": row.owner,
            "last_contact": None if contact is None else contact.at.date().isoformat(),
            "follow_up": None
            if contact is None or contact.follow_up_on is None
            else contact.follow_up_on.isoformat(),
            "participant_id": row.participant_id,
            "list": list_name,
            "phone_visible": clear,
            "last_outcome": None if contact is None else contact.outcome,
            "last_outcome_label": None
            if contact is None
            else outcome_label(contact.outcome).render(),
            "promised_on": None
            if contact is None or contact.promised_on is None
            else contact.promised_on.isoformat(),
            "branch_code": row.branch_code,
            "village_code": row.village_code,
            "occupation": row.occupation,
            "channel": row.channel,
            "partner_code": row.partner_code,
            "agent_code": row.agent_code,
            "reason_codes": list(row.reasons),
            # the latest reminder sent in this stay on the list (the row is on it: not paid)
            "last_reminder": None if last is None else last.as_json(as_of),
            "reminders_opted_out": row.participant_id in opted_out,
        }
        if list_name == "unpaid_registration":
            valid = row.code_valid_until
            item["code_valid_until"] = None if valid is None else valid.isoformat()
            item["days_left"] = None if valid is None else (valid - as_of).days
            item["void_on"] = (row.start_month + VOID_AFTER_MONTHS).first_day.isoformat()
        if list_name == "due":
            item["due_by"] = month.first_day.replace(day=DUE_DAY).isoformat()
            item["after_due_day"] = as_of.day > DUE_DAY
        if list_name == "arrears" and row.paid_through is not None:
            item["closes_on"] = closes_on(row.paid_through).isoformat()
            item["unpaid_months"] = month - row.paid_through
        if list_name == "closed_recent" and row.paid_through is not None:
            item["closed_on"] = closes_on(row.paid_through).isoformat()
        if clear:
            item["tel"] = f"tel:{row.phone}"
            item["whatsapp"] = f"https://wa.me/{wa_phone(row.phone)}?text={quote(message)}"
        item["whatsapp_message"] = message
        out.append(item)
    if revealed:
        record_audit(
            session,
            actor,
            "personal_data.unmask",
            "participant",
            revealed[0].split(":")[1] if len(revealed) == 1 else None,
            after={
                "count": len(revealed),
                "fields": [f"{r}:phone" for r in revealed],
                "purpose": "retention.worklist",
            },
        )
    return out


def participant_in_scope(session: Session, actor: Actor, nik: str) -> int | None:
    """The id of the participant with ``nik`` if the actor's scope holds it (its current branch,
    its latest episode's partner/agent, assigned accounts), else None."""
    found: int | None = session.scalar(
        select(Participant.id).where(
            Participant.nik == nik,
            _scope(
                session,
                actor,
                branch_code=Participant.branch_code,
                partner_code=Participant.partner_code,
                agent_code=Participant.agent_code,
                participant_id=Participant.id,
            ),
        )
    )
    return found


#: Days after the snapshot within which a payment counts (the report's two horizons).
OUTCOME_HORIZONS = (14, 30)


def _tally(
    groups: dict[str, dict[str, int]], group: str, got: tuple[date, int] | None, end14: date
) -> None:
    g = groups.setdefault(group, {"rows": 0, "paid_14": 0, "paid_30": 0, "rupiah_30": 0})
    g["rows"] += 1
    if got is not None:
        g["paid_30"] += 1
        g["rupiah_30"] += got[1]
        if got[0] <= end14:
            g["paid_14"] += 1


def outcomes_report(session: Session, actor: Actor, snapshot: date) -> dict[str, Any]:
    """Did contacting help? For each list as of ``snapshot`` (in the actor's scope): the rows
    contacted within 14 days after it (by their first outcome then), and the rows not contacted
    within 30 days, with how many of each paid within 14 and 30 days of the snapshot, the rupiah
    they paid in those 30 days, and (``closed_recent``) how many were re-acquired. Per owner,
    contacting user, agent and partner too. Not a controlled comparison: callers choose whom to
    call (the reminders issue adds randomized holdouts)."""
    from cakupan.registry.models import Payment, PaymentReversal

    end14, end30 = (snapshot + timedelta(days=d) for d in OUTCOME_HORIZONS)
    lists: list[dict[str, Any]] = []
    by_person: dict[tuple[str, str], dict[str, int]] = {}
    for list_name in LISTS:
        rows = (
            _candidates(session, actor, list_name, snapshot, WorklistFilters())
            if actor.role in READING_ROLES
            else []
        )
        ids = [r.participant_id for r in rows]
        first_contact: dict[int, ContactAction] = {}
        paid: dict[int, tuple[date, int]] = {}
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            for contact in session.scalars(
                select(ContactAction)
                .where(
                    ContactAction.participant_id.in_(chunk),
                    ContactAction.at >= end_of(snapshot - timedelta(days=1)),
                    ContactAction.at < end_of(end30 - timedelta(days=1)),
                )
                .order_by(ContactAction.at, ContactAction.id)
            ):
                first_contact.setdefault(contact.participant_id, contact)
            for pid, first_paid, amount in session.execute(
                select(Payment.participant_id, func.min(Payment.paid_on), func.sum(Payment.amount))
                .outerjoin(PaymentReversal, PaymentReversal.payment_id == Payment.id)
                .where(
                    Payment.participant_id.in_(chunk),
                    Payment.paid_on > snapshot,
                    Payment.paid_on <= end30,
                    PaymentReversal.id.is_(None),
                )
                .group_by(Payment.participant_id)
            ):
                paid[int(pid)] = (first_paid, int(amount or 0))
        groups: dict[str, dict[str, int]] = {}

        for row in rows:
            first = first_contact.get(row.participant_id)
            got = paid.get(row.participant_id)
            if first is not None and first.at.date() <= end14:
                _tally(groups, f"outcome:{first.outcome}", got, end14)
                _tally(groups, "contacted", got, end14)
                for kind, who in (
                    ("caller", first.actor),
                    ("owner", row.owner),
                    ("agent", row.agent_code),
                    ("partner", row.partner_code),
                ):
                    if who:
                        person = by_person.setdefault(
                            (kind, who),
                            {"contacted": 0, "paid_30": 0, "rupiah_30": 0},
                        )
                        person["contacted"] += 1
                        if got is not None:
                            person["paid_30"] += 1
                            person["rupiah_30"] += got[1]
            elif first is None:
                _tally(groups, "not_contacted", got, end14)
        lists.append(
            {
                "list": list_name,
                "rows": len(rows),
                "contacted": groups.get("contacted"),
                "not_contacted": groups.get("not_contacted"),
                "by_outcome": {
                    key.split(":", 1)[1]: value
                    for key, value in sorted(groups.items())
                    if key.startswith("outcome:")
                },
                "reacquired": sum(1 for r in rows if r.participant_id in paid)
                if list_name == "closed_recent"
                else None,
            }
        )
    return {
        "snapshot": snapshot.isoformat(),
        "horizons_days": list(OUTCOME_HORIZONS),
        "controlled": False,
        "note": t(
            "Bukan perbandingan terkendali: petugas memilih siapa yang dihubungi.",
            "Not a controlled comparison: callers choose whom to contact.",
        ).render(),
        "lists": lists,
        "by_person": [
            {"kind": kind, "who": who, **figures}
            for (kind, who), figures in sorted(by_person.items())
        ],
    }

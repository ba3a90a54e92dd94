"""The registry's domain rules, as pure functions over plain values (no database, no clock).

* :func:`status_on`: D-3, the status of an episode on a date from its start and paid-through month.
* :func:`allocate_payment`: D-2 and D-4, which months a payment buys (or why it is refused).
* :func:`check_reversal`: which payment of an episode may be reversed (the latest one only).
* :func:`eligibility_problem`: age under 65 at registration.
* :func:`kode_penetapan` / :func:`card_number`: the deterministic identifiers we issue.
* :func:`payment_fingerprint`: what makes two postings of one reference "the same payment".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from functools import cache
from typing import Protocol

from cakupan.dates import Month

#: Most months one payment may buy (D-2).
MAX_MONTHS_PER_PAYMENT = 12
#: Months after its start month at which an unpaid registration becomes void (D-3: R+3).
VOID_AFTER_MONTHS = 3
#: Months after the paid-through month M during which the episode is in arrears (M+1..M+3).
ARREARS_MONTHS = 3
#: Age (whole years, at the registration date) from which a registration is refused.
MAX_AGE_AT_REGISTRATION = 65
#: A kode penetapan is valid through this many calendar days after its issue date (Asia/Jakarta).
PAYMENT_CODE_VALID_DAYS = 7

#: The one range of every rupiah input (payment amounts, reported income) on every path (CSV,
#: XLSX, API, pages, CLI): 0 .. Rp 10.000.000.000 (issue 21: a larger number overflowed the
#: database's BIGINT and ended an import with exit 3).
MAX_RUPIAH = 10_000_000_000

PROGRAMS = ("JKK+JKM", "JKK+JKM+JHT")
SECTORS = ("transport", "other")
FUNDINGS = ("self", "apbn", "apbd")
REGISTRATION_CHANNELS = ("branch", "online", "agent", "partner")
#: Payment channel codes have this shape; the channels themselves are a controlled list (data:
#: ``registry/data/payment_channels.csv``, :func:`payment_channels`), issue 21: an unknown slug
#: (a typo) would make the same reference post twice under two channels.
PAYMENT_CHANNEL_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,19}$")


@cache
def payment_channels() -> frozenset[str]:
    """The payment channels cakupan accepts (shipped data; add a row to the file to add one)."""
    import csv
    from importlib import resources

    text = (
        resources.files("cakupan.registry").joinpath("data/payment_channels.csv").read_text("utf-8")
    )
    return frozenset(row["code"] for row in csv.DictReader(text.splitlines()))


DEFAULT_PAYMENT_CHANNEL = "branch"


_MONTHS: dict[int, Month] = {}


def month_at(index: int) -> Month:
    """The :class:`Month` of an index, cached: ledgers shift months millions of times and a
    ``Month`` is immutable, so one object per month is enough."""
    month = _MONTHS.get(index)
    if month is None:
        month = _MONTHS[index] = Month.from_index(index)
    return month


def month_of(day: date) -> Month:
    """The (cached) month a date falls in."""
    return month_at(day.year * 12 + day.month - 1)


class Status(StrEnum):
    """D-3 statuses of a membership episode on a date."""

    PENDING = "pending"
    ACTIVE = "active"
    ARREARS = "arrears"
    CLOSED = "closed"
    VOID = "void"


def status_on(day: date, start_month: Month, paid_through: Month | None) -> Status:
    """D-3: the status on ``day`` of an episode that starts in ``start_month`` and whose last
    covered month (counting only payments made and not reversed by ``day``) is ``paid_through``.

    ``pending`` until the first payment, ``void`` from the first day of start + 3 without one;
    ``active`` while the day's month <= M, ``arrears`` for M+1..M+3, ``closed`` from M+4.
    """
    month = day.year * 12 + day.month - 1
    if paid_through is None:
        return Status.VOID if month >= start_month.index + VOID_AFTER_MONTHS else Status.PENDING
    through = paid_through.index
    if month <= through:
        return Status.ACTIVE
    if month <= through + ARREARS_MONTHS:
        return Status.ARREARS
    return Status.CLOSED


def month_transitions(
    e1: int, status1: str, e0: int | None, status0: str | None
) -> tuple[str, ...]:
    """The lifecycle transitions of a month (docs/lifecycle.md) for a participant whose episode
    in force at the month end is ``e1`` with ``status1``, and at the end of the month before
    ``e0`` with ``status0`` (None: not registered yet). At most one of ``new``, ``reacquired``,
    ``lapsed_to_arrears``, ``closed_by_system``, ``voided`` for the episode in force; plus
    ``closed_by_system`` for the previous episode when it was paying and another episode replaced
    it within the month (closed on the 1st and re-acquired or registered again in the same month)."""
    paying = ("active", "arrears")
    same = e0 is not None and e0 == e1
    kinds: list[str] = []
    if status1 in paying and not (same and status0 in paying):
        kinds.append("new" if e1 == 1 else "reacquired")
    elif status1 == "arrears" and same and status0 == "active":
        kinds.append("lapsed_to_arrears")
    elif status1 == "closed" and same and status0 in paying:
        kinds.append("closed_by_system")
    elif status1 == "void" and not (same and status0 == "void"):
        kinds.append("voided")
    if e0 is not None and e0 != e1 and status0 in paying:
        kinds.append("closed_by_system")
    return tuple(kinds)


@dataclass(frozen=True)
class EpisodeState:
    """What the allocation needs to know of a participant's latest episode.

    ``reacquisition`` marks an episode opened by a payment of a closed participant (D-4) rather
    than by a registration; ``registered_on`` is its registration date (or the creating payment's
    date for a re-acquisition).
    """

    episode_no: int
    start_month: Month
    registered_on: date
    paid_through: Month | None
    months_paid: int
    reacquisition: bool = False

    def status_on(self, day: date) -> Status:
        return status_on(day, self.start_month, self.paid_through)


class EpisodeView(Protocol):
    """What :func:`allocate_payment` reads of an episode: an :class:`EpisodeState`, or the posting
    engine's own mutable episode (no copy per payment)."""

    @property
    def episode_no(self) -> int: ...
    @property
    def start_month(self) -> Month: ...
    @property
    def registered_on(self) -> date: ...
    @property
    def paid_through(self) -> Month | None: ...
    @property
    def months_paid(self) -> int: ...
    @property
    def reacquisition(self) -> bool: ...

    def status_on(self, day: date) -> Status: ...


class EpisodeAction(StrEnum):
    """What a payment does to the participant's episodes."""

    CONTINUE = "continue"  # buys the next months of the current episode
    NEW_EPISODE = "new_episode"  # D-4: the participant was closed, a new episode starts
    REUSE_EPISODE = "reuse_episode"  # an emptied re-acquisition episode restarts at this payment


@dataclass(frozen=True)
class Allocation:
    """The months one payment buys: ``months`` whole months from ``first_month``, each with its
    contribution (``amounts``, summing to the payment's amount)."""

    first_month: Month
    amounts: tuple[int, ...]
    action: EpisodeAction
    episode_no: int
    start_month: Month

    @property
    def months(self) -> int:
        return len(self.amounts)

    @property
    def last_month(self) -> Month:
        return month_at(self.first_month.index + len(self.amounts) - 1)

    @property
    def covered(self) -> list[Month]:
        return [self.first_month + i for i in range(len(self.amounts))]


class RefusalReason(StrEnum):
    NOT_REGISTERED_YET = "payment.before_registration"
    VOID = "payment.registration_void"
    AMOUNT = "payment.amount_mismatch"


@dataclass(frozen=True)
class Refusal:
    """Why a payment cannot be posted. ``expected`` lists, for AMOUNT, the exact amounts for
    1..12 months from ``first_month``."""

    reason: RefusalReason
    first_month: Month | None = None
    expected: tuple[int, ...] = ()
    status: Status | None = None


def allocate_payment(
    episode: EpisodeView,
    paid_on: date,
    amount: int,
    amount_for_month: Callable[[Month], int],
) -> Allocation | Refusal:
    """D-2 / D-4: the months ``amount`` paid on ``paid_on`` buys for a participant whose latest
    episode is ``episode``, with ``amount_for_month(m)`` the contribution due for month ``m``.

    The state is taken as of ``paid_on``: pending -> from the start month; active or arrears ->
    from M+1 (arrears pay oldest first); closed -> a new episode starting at month(paid_on), old
    months never collected; void -> refused (register again), unless the episode is an emptied
    re-acquisition, which is re-used from month(paid_on). The amount must equal exactly the sum
    of 1..12 consecutive months, else the refusal lists the expected amounts.
    """
    pay_month = month_of(paid_on)
    if paid_on < episode.registered_on and episode.months_paid == 0:
        return Refusal(RefusalReason.NOT_REGISTERED_YET)
    status = episode.status_on(paid_on)
    action = EpisodeAction.CONTINUE
    episode_no, start = episode.episode_no, episode.start_month
    if status is Status.PENDING:
        first = episode.start_month
    elif status in (Status.ACTIVE, Status.ARREARS):
        assert episode.paid_through is not None
        first = month_at(episode.paid_through.index + 1)
    elif status is Status.CLOSED:
        action, episode_no, start, first = (
            EpisodeAction.NEW_EPISODE,
            episode.episode_no + 1,
            pay_month,
            pay_month,
        )
    elif episode.reacquisition:
        action, start, first = EpisodeAction.REUSE_EPISODE, pay_month, pay_month
    else:
        return Refusal(RefusalReason.VOID, status=status)

    amounts: list[int] = []
    total = 0
    for offset in range(MAX_MONTHS_PER_PAYMENT):
        due = amount_for_month(month_at(first.index + offset))
        amounts.append(due)
        total += due
        if total == amount:
            return Allocation(first, tuple(amounts), action, episode_no, start)
        if total > amount:
            break
    return Refusal(
        RefusalReason.AMOUNT,
        first_month=first,
        expected=expected_amounts(first, amount_for_month),
        status=status,
    )


def expected_amounts(
    first: Month, amount_for_month: Callable[[Month], int], months: int = MAX_MONTHS_PER_PAYMENT
) -> tuple[int, ...]:
    """The exact amounts that pay 1, 2, ... ``months`` months from ``first``."""
    totals: list[int] = []
    total = 0
    for offset in range(months):
        total += amount_for_month(first + offset)
        totals.append(total)
    return tuple(totals)


@dataclass(frozen=True)
class PaymentEntry:
    """A payment of an episode as the reversal rule sees it."""

    payment_id: int
    reference: str
    first_month: Month
    months: int
    reversed: bool = False


@dataclass(frozen=True)
class ReversalCheck:
    """``allowed`` or the references that must be reversed first (latest first)."""

    allowed: bool
    reverse_first: tuple[str, ...] = field(default=())
    already_reversed: bool = False


def check_reversal(
    payment: PaymentEntry, episode_payments: Sequence[PaymentEntry]
) -> ReversalCheck:
    """Only the latest non-reversed payment of an episode may be reversed (last in, first out):
    otherwise the later payments' references are returned, latest first."""
    if payment.reversed:
        return ReversalCheck(False, already_reversed=True)
    later = sorted(
        (
            p
            for p in episode_payments
            if not p.reversed and p.payment_id != payment.payment_id and _after(p, payment)
        ),
        key=lambda p: (p.first_month, p.payment_id),
        reverse=True,
    )
    if later:
        return ReversalCheck(False, reverse_first=tuple(p.reference for p in later))
    return ReversalCheck(True)


def _after(p: PaymentEntry, other: PaymentEntry) -> bool:
    return (p.first_month, p.payment_id) > (other.first_month, other.payment_id)


@dataclass(frozen=True)
class Projection:
    """The paid-through projection of an episode (``membership`` columns)."""

    paid_through: Month | None
    months_paid: int
    first_paid_on: date | None
    last_paid_on: date | None


def project(payments: Sequence[tuple[Month, int, date]]) -> Projection:
    """The projection from the non-reversed payments ``(first_month, months, paid_on)`` of an
    episode (paid-through = the last covered month)."""
    if not payments:
        return Projection(None, 0, None, None)
    return Projection(
        paid_through=max(first + (months - 1) for first, months, _ in payments),
        months_paid=sum(months for _, months, _ in payments),
        first_paid_on=min(paid_on for _, _, paid_on in payments),
        last_paid_on=max(paid_on for _, _, paid_on in payments),
    )


def age_on(birth_date: date, day: date) -> int:
    """Whole years of age on ``day``."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def eligibility_problem(birth_date: date, registered_on: date) -> int | None:
    """The age when it makes a registration ineligible (65 or over, or born after the
    registration date), else None."""
    age = age_on(birth_date, registered_on)
    if age >= MAX_AGE_AT_REGISTRATION or birth_date > registered_on:
        return age
    return None


def luhn_check_digit(digits: str) -> str:
    """The Luhn (mod 10) check digit of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:  # doubled: the digit next to the check digit, then every other
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """Whether the last digit of ``number`` is the Luhn check digit of the rest."""
    return number.isdigit() and len(number) > 1 and luhn_check_digit(number[:-1]) == number[-1]


def kode_penetapan(issued_on: date, sequence: int) -> str:
    """The kode penetapan of the ``sequence``-th code (the code's row id, globally unique) issued
    on ``issued_on``: ``KP`` + ``YYMMDD`` + sequence on at least 9 digits + Luhn check digit over
    the digits, e.g. ``KP2611260000000174``."""
    digits = f"{issued_on:%y%m%d}{sequence:09d}"
    return f"KP{digits}{luhn_check_digit(digits)}"


def payment_code_valid_until(issued_on: date) -> date:
    """The last day (inclusive) on which a kode penetapan issued on ``issued_on`` may be paid."""
    return issued_on + timedelta(days=PAYMENT_CODE_VALID_DAYS)


def card_number(first_paid_on: date, membership_id: int) -> str:
    """The membership card number issued at an episode's first payment (D-2): the 2-digit year
    of that payment + the membership id on at least 8 digits + a Luhn check digit (11 digits)."""
    digits = f"{first_paid_on:%y}{membership_id:08d}"
    return digits + luhn_check_digit(digits)


def payment_fingerprint(
    nik: str, amount: int, paid_on: date, partner_code: str | None, agent_code: str | None
) -> str:
    """SHA-256 of the posted content of a payment: two postings of one (channel, reference)
    with the same fingerprint are the same payment (a duplicate), otherwise a conflict."""
    content = f"{nik}|{amount}|{paid_on.isoformat()}|{partner_code or ''}|{agent_code or ''}"
    return hashlib.sha256(content.encode()).hexdigest()

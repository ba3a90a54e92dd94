"""The claims area's domain rules, as pure functions over plain values (no database, no clock).

* :class:`BenefitBook`: the dated benefit records (``data/benefits.toml``) with their sources.
* :func:`quote_claim`: eligibility on the event date and the benefit amount (JHT, JKM, JKK).
* :func:`jht_balance`: JHT contributions plus their returns up to the event month.
* :func:`check_transition`: the workflow (who may move a claim from which state to which).
* :func:`required_documents`: the document checklist of a claim type, cause and claimant.
* :func:`sniff_content_type`: a document's type from its first bytes (never its name).
* :class:`WorkingCalendar`: Indonesian working days (``holidays``: national holidays and
  *cuti bersama*, plus the dates the agency adds) and the JKK service-level deadline.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from importlib.resources import files
from typing import Any

import holidays

from cakupan.dates import Month
from cakupan.i18n import Text, t
from cakupan.money import format_rupiah, round_half_up
from cakupan.registry.rules import Status


class ClaimType(StrEnum):
    JHT = "jht"
    JKM = "jkm"
    JKK = "jkk"


class Cause(StrEnum):
    """What happened on the event date (JKM is death only; JKK is an accident, fatal or not)."""

    DEATH = "death"
    ACCIDENT = "accident"


class JhtReason(StrEnum):
    """Why JHT is claimed (the JHT "event")."""

    RETIREMENT_AGE = "retirement_age"
    DEATH = "death"
    PERMANENT_DISABILITY = "permanent_disability"
    LEAVING_INDONESIA = "leaving_indonesia"
    MEMBERSHIP_ENDED = "membership_ended"


class Relation(StrEnum):
    """The claimant's relation to the participant (controlled list; ``self`` = the participant)."""

    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDCHILD = "grandchild"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    PARENT_IN_LAW = "parent_in_law"


class ClaimState(StrEnum):
    SUBMITTED = "submitted"
    VERIFIED = "verified"
    APPROVED = "approved"
    REJECTED = "rejected"
    PAID = "paid"


class Channel(StrEnum):
    """Where a claim was taken in."""

    BRANCH = "branch"
    PARTNER = "partner"
    AGENT = "agent"
    API = "api"
    ONLINE = "online"


class DocumentKind(StrEnum):
    DEATH_CERTIFICATE = "death_certificate"
    HEIR_LETTER = "heir_letter"
    KTP = "ktp"
    FAMILY_CARD = "family_card"
    MEMBERSHIP_CARD = "membership_card"
    MARRIAGE_BOOK = "marriage_book"
    BANK_BOOK = "bank_book"
    JKK_FORM = "jkk_form"
    ACCIDENT_CHRONOLOGY = "accident_chronology"


DOCUMENT_LABELS: Mapping[DocumentKind, Text] = {
    DocumentKind.DEATH_CERTIFICATE: t("Akta kematian", "Death certificate"),
    DocumentKind.HEIR_LETTER: t("Surat keterangan ahli waris", "Heir letter"),
    DocumentKind.KTP: t("KTP pemohon", "Claimant's KTP"),
    DocumentKind.FAMILY_CARD: t("Kartu Keluarga (KK)", "Family card (KK)"),
    DocumentKind.MEMBERSHIP_CARD: t("Kartu peserta", "Membership card"),
    DocumentKind.MARRIAGE_BOOK: t("Buku nikah", "Marriage book"),
    DocumentKind.BANK_BOOK: t("Buku tabungan", "Bank book"),
    DocumentKind.JKK_FORM: t("Formulir JKK", "JKK form"),
    DocumentKind.ACCIDENT_CHRONOLOGY: t("Kronologi kecelakaan", "Accident chronology"),
}

STATE_LABELS: Mapping[ClaimState, Text] = {
    ClaimState.SUBMITTED: t("Diajukan", "Submitted"),
    ClaimState.VERIFIED: t("Diverifikasi", "Verified"),
    ClaimState.APPROVED: t("Disetujui", "Approved"),
    ClaimState.REJECTED: t("Ditolak", "Rejected"),
    ClaimState.PAID: t("Dibayar", "Paid"),
}

#: Largest document accepted (bytes).
MAX_DOCUMENT_BYTES = 5 * 1024 * 1024
#: Content types accepted, recognised by their first bytes.
ACCEPTED_CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")
#: An approved JKK claim is "at risk" when this many working days or fewer remain.
AT_RISK_WORKING_DAYS = 2


# --- benefit records ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BenefitRecord:
    """One dated benefit figure with its legal source."""

    code: str
    kind: str
    valid_from: date
    source: str
    valid_to: date | None = None
    amount: int | None = None
    months: int | None = None
    multiple: int | None = None
    days: int | None = None
    percent: Decimal | None = None
    assumption: bool = False

    def in_force(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def cited(self) -> str:
        """``code: source`` (marked when the figure is an assumption), for ``sources``."""
        return f"{self.code}: {self.source}"


@dataclass(frozen=True)
class BenefitBook:
    """The benefit records; :meth:`get` gives the one of a kind in force on a day."""

    records: tuple[BenefitRecord, ...]

    @classmethod
    def from_mappings(cls, values: Iterable[Mapping[str, Any]]) -> BenefitBook:
        records = []
        for item in values:
            records.append(
                BenefitRecord(
                    code=str(item["code"]),
                    kind=str(item["kind"]),
                    valid_from=date.fromisoformat(str(item["valid_from"])),
                    valid_to=(
                        date.fromisoformat(str(item["valid_to"])) if "valid_to" in item else None
                    ),
                    source=str(item["source"]),
                    amount=_int_or_none(item.get("amount")),
                    months=_int_or_none(item.get("months")),
                    multiple=_int_or_none(item.get("multiple")),
                    days=_int_or_none(item.get("days")),
                    percent=Decimal(str(item["percent"])) if "percent" in item else None,
                    assumption=bool(item.get("assumption", False)),
                )
            )
        return cls(tuple(records))

    def get(self, kind: str, day: date) -> BenefitRecord:
        """The record of ``kind`` in force on ``day`` (the latest started); LookupError if none."""
        found = [r for r in self.records if r.kind == kind and r.in_force(day)]
        if not found:
            raise LookupError(f"no {kind} benefit record in force on {day.isoformat()}")
        return max(found, key=lambda r: r.valid_from)

    def rates(self, kind: str) -> list[BenefitRecord]:
        """Every record of ``kind``, oldest first."""
        return sorted((r for r in self.records if r.kind == kind), key=lambda r: r.valid_from)


def _int_or_none(value: object) -> int | None:
    return None if value is None else int(str(value))


@lru_cache(maxsize=1)
def shipped_benefit_book() -> BenefitBook:
    """The benefit records shipped in ``cakupan/claims/data/benefits.toml``."""
    text = files("cakupan.claims").joinpath("data/benefits.toml").read_text(encoding="utf-8")
    return BenefitBook.from_mappings(tomllib.loads(text)["benefit"])


# --- eligibility and amount -----------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerFacts:
    """What the registry's ledger says of a participant on the event date (None: not registered
    by then). ``status``/``start_month`` are those of the episode in force; ``base_income`` is
    the base income of the band of the terms in force in the event month; ``has_jht`` whether
    those terms include JHT; ``jht_contributions`` the JHT line of every month paid (by the
    event date, not reversed) over every episode."""

    status: Status
    start_month: Month
    paid_through: Month | None
    base_income: int | None
    band_policy: str | None
    has_jht: bool
    jht_contributions: tuple[tuple[Month, int], ...] = ()


@dataclass(frozen=True)
class ClaimQuote:
    """Eligibility and amount on the event date (the ``claims quote --json`` document)."""

    claim_type: ClaimType
    nik: str
    event_date: date
    cause: Cause | None
    eligible: bool
    amount: int | None
    reasons: tuple[Text, ...]
    sources: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "type": str(self.claim_type),
            "nik": self.nik,
            "event_date": self.event_date.isoformat(),
            "eligible": self.eligible,
            "amount": self.amount,
            "reasons": [reason.render() for reason in self.reasons],
            "sources": list(self.sources),
        }


def default_cause(claim_type: ClaimType) -> Cause | None:
    """JKM is a death; JKK an accident unless told it was fatal; JHT has a reason, not a cause."""
    if claim_type is ClaimType.JKM:
        return Cause.DEATH
    if claim_type is ClaimType.JKK:
        return Cause.ACCIDENT
    return None


def membership_months(start_month: Month, event_date: date) -> int:
    """Whole months of membership on ``event_date``, counted from the first day of the
    episode's start month (coverage starts with that month): 2026-01 -> 2026-03-31 is 2,
    2026-04-01 is 3."""
    return Month.of(event_date) - start_month


def jht_balance(
    contributions: Sequence[tuple[Month, int]], event_month: Month, rates: Sequence[BenefitRecord]
) -> tuple[int, int]:
    """(contributions, returns) of a JHT balance on ``event_month``.

    Each month's JHT contribution earns, as simple interest, the yearly rate in force on the
    first day of each later month before ``event_month`` (rate / 12 per whole month held); the
    returns are summed exactly and rounded half up once."""
    total = sum(amount for _, amount in contributions)
    returns = Fraction(0)
    for covered, amount in contributions:
        held = covered + 1
        while held < event_month:
            rate = _rate_on(rates, held.first_day)
            returns += Fraction(amount) * rate / 100 / 12
            held = held + 1
    return total, round_half_up(returns)


def _rate_on(rates: Sequence[BenefitRecord], day: date) -> Fraction:
    in_force = [r for r in rates if r.in_force(day)]
    if not in_force:
        return Fraction(0)
    return Fraction(max(in_force, key=lambda r: r.valid_from).percent or 0)


def quote_claim(
    *,
    claim_type: ClaimType,
    nik: str,
    event_date: date,
    cause: Cause | None,
    facts: LedgerFacts | None,
    book: BenefitBook,
    not_registered: Text | None = None,
) -> ClaimQuote:
    """Eligibility at ``event_date`` from the ledger ``facts`` and the benefit in force then.

    JKK and JKM need a covered (paid) month on the event date (D-3 ``active``). JKM pays the
    lump sum, or the short-membership amount when the episode is younger than its months; JKK
    death pays ``multiple`` x the base income of the band in force (amount null for a non-fatal
    accident: care as medically needed); JHT pays contributions plus returns. ``facts`` None
    means the NIK was not registered by then (``not_registered`` says why)."""
    cause = cause or default_cause(claim_type)
    reasons: list[Text] = []
    sources: list[str] = []

    def refuse(reason: Text) -> ClaimQuote:
        return ClaimQuote(
            claim_type, nik, event_date, cause, False, None, (*reasons, reason), tuple(sources)
        )

    if facts is None:
        return refuse(
            not_registered
            or t("NIK {n} tidak terdaftar", "NIK {n} is not registered").format(n=nik)
        )

    if claim_type is ClaimType.JHT:
        rates = book.rates("jht_return_rate")
        contributions = facts.jht_contributions
        paid, returns = jht_balance(contributions, Month.of(event_date), rates)
        sources.extend(r.cited for r in rates)
        if paid == 0:
            return refuse(
                t(
                    "tidak ada iuran JHT yang dibayar sampai {d}",
                    "no JHT contribution was paid up to {d}",
                ).format(d=event_date.isoformat())
            )
        reasons.append(
            t(
                "saldo JHT: iuran {p} dalam {k} bulan + hasil pengembangan {r}",
                "JHT balance: contributions {p} over {k} months + returns {r}",
            ).format(p=format_rupiah(paid), k=len(contributions), r=format_rupiah(returns))
        )
        if any(r.assumption for r in rates):
            reasons.append(
                t(
                    "tingkat hasil pengembangan adalah asumsi terdokumentasi",
                    "the returns rate is a documented assumption",
                )
            )
        return ClaimQuote(
            claim_type, nik, event_date, cause, True, paid + returns, tuple(reasons), tuple(sources)
        )

    if facts.status is not Status.ACTIVE:
        through = "-" if facts.paid_through is None else str(facts.paid_through)
        return refuse(
            t(
                "bulan {m} tidak tercakup: status {s} pada {d} (iuran lunas sampai {p})",
                "month {m} is not covered: status {s} on {d} (paid through {p})",
            ).format(m=str(Month.of(event_date)), s=str(facts.status), d=event_date, p=through)
        )
    reasons.append(
        t(
            "bulan {m} tercakup (iuran lunas sampai {p})",
            "month {m} is covered (paid through {p})",
        ).format(m=str(Month.of(event_date)), p=str(facts.paid_through))
    )

    if claim_type is ClaimType.JKM:
        lump = book.get("jkm_lump_sum", event_date)
        short = book.get("jkm_short_membership", event_date)
        months = membership_months(facts.start_month, event_date)
        if months < (short.months or 0):
            sources.append(short.cited)
            reasons.append(
                t(
                    "masa kepesertaan {k} bulan (< {n} bulan sejak {s}): {a}",
                    "membership {k} months (< {n} months since {s}): {a}",
                ).format(
                    k=months,
                    n=short.months,
                    s=str(facts.start_month),
                    a=format_rupiah(short.amount or 0),
                )
            )
            amount = short.amount
        else:
            sources.append(lump.cited)
            reasons.append(
                t(
                    "masa kepesertaan {k} bulan (>= {n} bulan): {a}",
                    "membership {k} months (>= {n} months): {a}",
                ).format(k=months, n=short.months, a=format_rupiah(lump.amount or 0))
            )
            amount = lump.amount
        return ClaimQuote(
            claim_type, nik, event_date, cause, True, amount, tuple(reasons), tuple(sources)
        )

    # JKK
    if cause is Cause.DEATH:
        rule = book.get("jkk_death_multiple", event_date)
        sources.append(rule.cited)
        if facts.band_policy:
            sources.append(facts.band_policy)
        base = facts.base_income or 0
        amount = (rule.multiple or 0) * base
        reasons.append(
            t(
                "{x} x penghasilan dasar {b} = {a}",
                "{x} x base income {b} = {a}",
            ).format(x=rule.multiple, b=format_rupiah(base), a=format_rupiah(amount))
        )
        return ClaimQuote(
            claim_type, nik, event_date, cause, True, amount, tuple(reasons), tuple(sources)
        )
    care = book.get("jkk_care", event_date)
    sources.append(care.cited)
    reasons.append(
        t(
            "perawatan sesuai kebutuhan medis: jumlah ditetapkan saat verifikasi",
            "care as medically needed: the amount is set at verification",
        )
    )
    return ClaimQuote(
        claim_type, nik, event_date, cause, True, None, tuple(reasons), tuple(sources)
    )


# --- claimant and documents -----------------------------------------------------------------------


def is_death_claim(
    claim_type: ClaimType, cause: Cause | None, jht_reason: JhtReason | None
) -> bool:
    """Whether the claim is paid because the participant died (claimed by heirs)."""
    if claim_type is ClaimType.JHT:
        return jht_reason is JhtReason.DEATH
    return cause is Cause.DEATH


def claimant_problem(
    claim_type: ClaimType, cause: Cause | None, jht_reason: JhtReason | None, relation: Relation
) -> Text | None:
    """Why ``relation`` cannot claim this (None when it can): a death is claimed by heirs,
    anything else by the participant."""
    death = is_death_claim(claim_type, cause, jht_reason)
    if death and relation is Relation.SELF:
        return t(
            "klaim kematian diajukan oleh ahli waris, bukan 'self'",
            "a death claim is made by an heir, not 'self'",
        )
    if not death and relation is not Relation.SELF:
        return t(
            "klaim ini diajukan oleh peserta sendiri (relation 'self'), diterima {r!r}",
            "this claim is made by the participant (relation 'self'), got {r!r}",
        ).format(r=str(relation))
    return None


def required_documents(
    claim_type: ClaimType, cause: Cause | None, jht_reason: JhtReason | None, relation: Relation
) -> tuple[DocumentKind, ...]:
    """The checklist (seed 000): heirs bring the death certificate, heir letter, their KTP, the
    KK, the membership card, the bank book and, for a spouse, the marriage book; JKK adds the
    form and the accident chronology; a living participant brings KTP, card and bank book."""
    docs: list[DocumentKind] = []
    if claim_type is ClaimType.JKK:
        docs += [DocumentKind.JKK_FORM, DocumentKind.ACCIDENT_CHRONOLOGY]
    if is_death_claim(claim_type, cause, jht_reason):
        docs += [
            DocumentKind.DEATH_CERTIFICATE,
            DocumentKind.HEIR_LETTER,
            DocumentKind.KTP,
            DocumentKind.FAMILY_CARD,
            DocumentKind.MEMBERSHIP_CARD,
        ]
        if relation is Relation.SPOUSE:
            docs.append(DocumentKind.MARRIAGE_BOOK)
    else:
        docs += [DocumentKind.KTP, DocumentKind.MEMBERSHIP_CARD]
    docs.append(DocumentKind.BANK_BOOK)
    return tuple(docs)


def missing_documents(
    required: Sequence[DocumentKind], uploaded: Iterable[DocumentKind]
) -> list[DocumentKind]:
    """The required kinds not uploaded yet, in checklist order."""
    have = set(uploaded)
    return [kind for kind in required if kind not in have]


def sniff_content_type(data: bytes) -> str | None:
    """The content type of a document from its magic bytes (PDF, JPEG, PNG), None otherwise."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


# --- workflow -------------------------------------------------------------------------------------

#: (from, to) -> roles allowed (admin and system may take any step). PAP takes claims in and
#: verifies them, the branch's kabid approves or rejects, PAP records the payment.
TRANSITIONS: Mapping[tuple[ClaimState, ClaimState], frozenset[str]] = {
    (ClaimState.SUBMITTED, ClaimState.VERIFIED): frozenset({"pap"}),
    (ClaimState.SUBMITTED, ClaimState.REJECTED): frozenset({"pap", "kabid"}),
    (ClaimState.VERIFIED, ClaimState.APPROVED): frozenset({"kabid"}),
    (ClaimState.VERIFIED, ClaimState.REJECTED): frozenset({"kabid"}),
    (ClaimState.APPROVED, ClaimState.PAID): frozenset({"pap", "kabid"}),
}
ANY_STEP_ROLES = frozenset({"admin", "system"})
#: Roles that may take a claim in (partner and agent: for their own participants only).
SUBMIT_ROLES = frozenset({"pap", "kabid", "partner", "agent", "admin", "system"})


def check_transition(state: ClaimState, to: ClaimState, role: str) -> Text | None:
    """Why ``role`` may not move a claim from ``state`` to ``to`` (None when it may)."""
    allowed = TRANSITIONS.get((state, to))
    if allowed is None:
        nexts = sorted(str(b) for a, b in TRANSITIONS if a is state)
        return t(
            "klaim berstatus {s} tidak bisa menjadi {to}; yang mungkin: {n}",
            "a claim in state {s} cannot move to {to}; possible: {n}",
        ).format(s=str(state), to=str(to), n=", ".join(nexts) or "-")
    if role not in allowed and role not in ANY_STEP_ROLES:
        return t(
            "peran {r} tidak boleh mengubah klaim dari {s} ke {to} (boleh: {a})",
            "role {r} may not move a claim from {s} to {to} (allowed: {a})",
        ).format(r=role, s=str(state), to=str(to), a=", ".join(sorted(allowed)))
    return None


# --- working calendar and service level ----------------------------------------------------------


@dataclass(frozen=True)
class WorkingCalendar:
    """Indonesian working days: Monday-Friday except national holidays and *cuti bersama* (the
    ``holidays`` package, categories ``public`` and ``government``) and ``extra_days_off`` (dates
    the agency adds, e.g. a *cuti bersama* decided after the package's release)."""

    extra_days_off: frozenset[date] = frozenset()
    _cache: dict[int, frozenset[date]] = field(default_factory=dict, repr=False, compare=False)

    def days_off(self, year: int) -> frozenset[date]:
        cached = self._cache.get(year)
        if cached is None:
            table = holidays.country_holidays("ID", years=year, categories=("public", "government"))
            cached = self._cache[year] = frozenset(table.keys())
        return cached

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and day not in self.days_off(day.year)
            and day not in self.extra_days_off
        )

    def add_working_days(self, start: date, days: int) -> date:
        """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count


@dataclass(frozen=True)
class ServiceLevel:
    """The JKK payment deadline of one claim and where it stands."""

    deadline: date
    working_days_left: int | None  # None once paid
    on_time: bool | None  # None while unpaid
    at_risk: bool


def service_level(
    *, approved_on: date, paid_on: date | None, today: date, calendar: WorkingCalendar, days: int
) -> ServiceLevel:
    """The deadline (``days`` working days after approval), whether a paid claim made it, and
    whether an unpaid one is at risk (deadline passed or at most
    :data:`AT_RISK_WORKING_DAYS` working days left)."""
    deadline = calendar.add_working_days(approved_on, days)
    if paid_on is not None:
        return ServiceLevel(deadline, None, paid_on <= deadline, False)
    left = calendar.working_days_between(today, deadline)
    return ServiceLevel(deadline, left, None, left <= AT_RISK_WORKING_DAYS)


# --- benefit stories -------------------------------------------------------------------------------

#: How the claimant's consent to a story was recorded.
CONSENT_METHODS = ("written", "recorded_call", "in_app")
_LONG_NUMBER = re.compile(r"\d[\d .-]{8,}\d")


def story_problem(text: str) -> Text | None:
    """Why a story's text may not be published (None when it may): it must carry no NIK, phone
    or account number (no run of 10 digits or more, spaces, dots and dashes included)."""
    found = _LONG_NUMBER.search(text)
    if found is not None and sum(ch.isdigit() for ch in found.group(0)) >= 10:
        return t(
            "kisah tidak boleh memuat NIK, nomor telepon atau rekening (ditemukan {v!r})",
            "a story must not carry a NIK, phone or account number (found {v!r})",
        ).format(v=found.group(0)[:4] + "…")
    return None


def story_code(story_id: int) -> str:
    """``KISAH-0007``: what campaigns cite."""
    return f"KISAH-{story_id:04d}"

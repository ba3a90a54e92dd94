"""Contribution rules for BPU participants: pure, no database, no clock, no I/O.

Every number (band table, rate, flat amount, discount) comes from a :class:`PolicyRecord`: a dated,
versioned record with its legal source, valid for a range of *contribution months*. A
:class:`PolicyBook` is the immutable set of records in force; it prices a month's contribution
(:meth:`PolicyBook.quote`, :meth:`PolicyBook.monthly_total`) with a cache per
(band, programs, month, sector, funding), so that the ledger can call it millions of times.

How one program line is priced (see ``docs/contributions.md``):

1. the base income is the base of the income band ``[lower, next lower)`` the reported income
   falls in, from the band table in force for the month;
2. the full line is computed exactly (a :class:`~fractions.Fraction`): ``base * rate / 100`` for a
   rate, the amount itself for a flat amount;
3. the discount in force for the line's program, sector and funding (if any) multiplies it by
   ``(100 - discount percent) / 100``, still exactly;
4. the result is rounded half up to whole rupiah, once per line. The total is the sum of lines.

Which record is in force: for a month, the records whose validity contains the month and whose
scope (program, sector, funding; empty = any) matches; among several, the one with the latest
``valid_from`` wins, then the more specific scope. Of a record ``code``, only its highest version
counts (a correction is a new version; a new regulation is a new code).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from fractions import Fraction
from typing import Any, TypeVar

from cakupan.dates import Month
from cakupan.errors import CakupanError, FieldProblem, invalid
from cakupan.i18n import t
from cakupan.money import round_half_up


class Program(StrEnum):
    """A BPU social-security program."""

    JKK = "JKK"  # work accident (mandatory)
    JKM = "JKM"  # death (mandatory)
    JHT = "JHT"  # old-age savings (optional for BPU)


class ProgramSet(StrEnum):
    """The only valid program combinations for a BPU participant (JKK and JKM are mandatory).

    Members are strings (``"JKK+JKM"``), so a value read from the database works as a key too.
    """

    JKK_JKM = "JKK+JKM"
    JKK_JKM_JHT = "JKK+JKM+JHT"

    @property
    def programs(self) -> tuple[Program, ...]:
        """The programs of the set, in statement order (JKK, JKM, JHT)."""
        return _PROGRAMS_OF[self.value]


_PROGRAMS_OF: dict[str, tuple[Program, ...]] = {
    "JKK+JKM": (Program.JKK, Program.JKM),
    "JKK+JKM+JHT": (Program.JKK, Program.JKM, Program.JHT),
}


class Sector(StrEnum):
    """The participant's sector, which decides some discount windows (PP 50/2025)."""

    TRANSPORT = "transport"
    OTHER = "other"


class Funding(StrEnum):
    """Who pays the contribution: the participant, or the state budget (APBN) or a region's (APBD)."""

    SELF = "self"
    APBN = "apbn"
    APBD = "apbd"


class PolicyKind(StrEnum):
    """What a policy record sets."""

    BANDS = "bands"  # the income band table (income -> base income)
    RATE = "rate"  # a program's contribution as a percent of base income
    FLAT = "flat"  # a program's contribution as a flat rupiah amount
    DISCOUNT = "discount"  # a percent taken off a program's full line


_E = TypeVar("_E", bound=StrEnum)

_CODE_RE = re.compile(r"^[a-z0-9][a-z0-9._:/-]{0,79}$")
_INCOME_RE = re.compile(r"^\d+$")


# --- parsing user input ---------------------------------------------------------------------


def parse_programs(text: str | ProgramSet) -> ProgramSet:
    """``"JKK,JKM"``, ``"JKK+JKM+JHT"``, ``"jkm jkk"`` ... -> the :class:`ProgramSet`.

    Separators may be ``,``, ``+`` or spaces, in any order and case. Raises an invalid-input
    :class:`CakupanError` on field ``programs`` for an unknown program, a repeated one, or a set
    other than JKK+JKM and JKK+JKM+JHT.
    """
    if isinstance(text, ProgramSet):
        return text
    expected = "JKK,JKM atau/or JKK,JKM,JHT"
    names = [part for part in re.split(r"[,+\s]+", str(text).strip().upper()) if part]
    if not names:
        raise invalid(
            "programs",
            t(
                f"program wajib diisi; yang sah: {expected}",
                f"programs are required; expected {expected}",
            ),
            code="invalid-programs",
        )
    unknown = [name for name in names if name not in Program.__members__]
    if unknown:
        raise invalid(
            "programs",
            t(
                f"program tidak dikenal {', '.join(unknown)}; yang sah: JKK, JKM, JHT",
                f"unknown program {', '.join(unknown)}; expected JKK, JKM, JHT",
            ),
            code="invalid-programs",
        )
    chosen = {Program(name) for name in names}
    if len(chosen) != len(names):
        raise invalid(
            "programs",
            t(
                f"program disebut lebih dari sekali: {text!s}",
                f"a program is repeated: {text!s}",
            ),
            code="invalid-programs",
        )
    for program_set in ProgramSet:
        if chosen == set(program_set.programs):
            return program_set
    raise invalid(
        "programs",
        t(
            f"kombinasi program tidak sah {'+'.join(sorted(chosen))}: JKK dan JKM wajib, JHT "
            f"pilihan; yang sah: JKK+JKM atau JKK+JKM+JHT",
            f"invalid program set {'+'.join(sorted(chosen))}: JKK and JKM are mandatory, JHT "
            f"optional; expected JKK+JKM or JKK+JKM+JHT",
        ),
        code="invalid-programs",
    )


def parse_income(text: str | int) -> int:
    """A reported monthly income in whole rupiah (digits only, >= 0) -> ``int``.

    Raises an invalid-input :class:`CakupanError` on field ``income`` for anything else
    (negative, decimal, thousands separators, letters).
    """
    if isinstance(text, int) and not isinstance(text, bool):
        value = text
    else:
        raw = str(text).strip()
        if not _INCOME_RE.match(raw):
            raise invalid(
                "income",
                t(
                    f"diharapkan bilangan bulat rupiah >= 0 (hanya angka, mis. 1500000), "
                    f"diterima {raw!r}",
                    f"expected a whole number of rupiah >= 0 (digits only, e.g. 1500000), "
                    f"got {raw!r}",
                ),
                code="invalid-income",
            )
        value = int(raw)
    if value < 0:
        raise invalid(
            "income",
            t(
                f"diharapkan bilangan bulat rupiah >= 0, diterima {value}",
                f"expected a whole number of rupiah >= 0, got {value}",
            ),
            code="invalid-income",
        )
    return value


def parse_month(text: str | Month, field_name: str = "month") -> Month:
    """``YYYY-MM`` -> :class:`Month`; an invalid-input error on ``field_name`` otherwise."""
    if isinstance(text, Month):
        return text
    try:
        return Month.parse(str(text))
    except ValueError:
        raise invalid(
            field_name,
            t(
                f"diharapkan bulan berformat YYYY-MM (mis. 2026-11), diterima {text!r}",
                f"expected a month as YYYY-MM (e.g. 2026-11), got {text!r}",
            ),
            code="invalid-month",
        ) from None


def parse_sector(text: str | Sector) -> Sector:
    """``transport`` / ``other`` -> :class:`Sector`; an invalid-input error on ``sector``."""
    return _parse_choice(text, Sector, "sector")


def parse_funding(text: str | Funding) -> Funding:
    """``self`` / ``apbn`` / ``apbd`` -> :class:`Funding`; an invalid-input error on ``funding``."""
    return _parse_choice(text, Funding, "funding")


def _parse_choice(text: str | _E, kind: type[_E], field_name: str) -> _E:
    if isinstance(text, kind):
        return text
    raw = str(text).strip().lower()
    try:
        return kind(raw)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise invalid(
            field_name,
            t(
                f"diharapkan salah satu dari {choices}, diterima {text!r}",
                f"expected one of {choices}, got {text!r}",
            ),
            code=f"invalid-{field_name}",
        ) from None


# --- policy records -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Band:
    """One income band: incomes from ``lower`` (inclusive) to the next band's lower (exclusive)
    contribute on ``base_income``."""

    lower: int
    base_income: int


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """One dated, versioned policy with its legal source.

    ``valid_from``/``valid_to`` are contribution months (inclusive; ``valid_to`` None = open).
    Scope fields left None apply to every value. ``percent`` is the rate (``rate``) or the part
    taken off (``discount``); ``amount`` the flat rupiah (``flat``); ``bands`` the band table.
    """

    code: str
    version: int
    kind: PolicyKind
    valid_from: Month
    valid_to: Month | None
    source: str
    title: str = ""
    program: Program | None = None
    sector: Sector | None = None
    funding: Funding | None = None
    percent: Decimal | None = None
    amount: int | None = None
    bands: tuple[Band, ...] = ()

    @property
    def ref(self) -> str:
        """How a quote names this record: ``code`` (with ``@version`` from version 2 on)."""
        return self.code if self.version == 1 else f"{self.code}@{self.version}"

    @property
    def specificity(self) -> int:
        """How many scope fields are set (sector, funding): the more specific wins a tie."""
        return (self.sector is not None) + (self.funding is not None)

    def in_force(self, month: Month) -> bool:
        """Whether ``month`` is within the record's validity."""
        return self.valid_from <= month and (self.valid_to is None or month <= self.valid_to)

    def applies_to(self, sector: Sector, funding: Funding) -> bool:
        """Whether the record's scope covers a participant of ``sector`` and ``funding``."""
        return (self.sector is None or self.sector == sector) and (
            self.funding is None or self.funding == funding
        )

    def describe_value(self) -> str:
        """The number the record sets, for lists and tables (``1%``, ``Rp 6.800``, ``33 bands``)."""
        from cakupan.money import format_rupiah

        if self.kind is PolicyKind.BANDS:
            return f"{len(self.bands)} bands"
        if self.kind is PolicyKind.FLAT:
            return format_rupiah(self.amount or 0)
        if self.kind is PolicyKind.DISCOUNT:
            return f"-{_plain(self.percent)}%"
        return f"{_plain(self.percent)}%"

    def as_dict(self) -> dict[str, Any]:
        """The record as plain values (JSON, audit, the policy file format)."""
        out: dict[str, Any] = {
            "code": self.code,
            "version": self.version,
            "kind": self.kind.value,
            "valid_from": str(self.valid_from),
            "valid_to": None if self.valid_to is None else str(self.valid_to),
            "source": self.source,
            "title": self.title,
            "program": None if self.program is None else self.program.value,
            "sector": None if self.sector is None else self.sector.value,
            "funding": None if self.funding is None else self.funding.value,
            "percent": None if self.percent is None else _plain(self.percent),
            "amount": self.amount,
        }
        if self.kind is PolicyKind.BANDS:
            out["bands"] = [[band.lower, band.base_income] for band in self.bands]
        return out


def _plain(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return text


def _charge_group(kind: PolicyKind) -> str:
    # A program's charge is either a rate or a flat amount: a newer record of either replaces
    # an older one of either (a regulation may turn a flat amount into a rate).
    return "charge" if kind in (PolicyKind.RATE, PolicyKind.FLAT) else kind.value


def record_from_mapping(values: Mapping[str, Any], *, label: str) -> PolicyRecord:
    """Build and check one record from plain values (a policy file entry, an API body).

    Raises an invalid-input :class:`CakupanError` listing every problem, each naming ``label``
    (e.g. ``policy 3 (pp50-2025/jkk-transport)``) and the field.
    """
    problems: list[FieldProblem] = []

    def problem(field_name: str, id_text: str, en_text: str) -> None:
        problems.append(FieldProblem(field=field_name, message=t(id_text, en_text), record=label))

    known = {
        "code",
        "version",
        "kind",
        "valid_from",
        "valid_to",
        "source",
        "title",
        "program",
        "sector",
        "funding",
        "percent",
        "amount",
        "bands",
    }
    for key in values:
        if key not in known:
            problem(
                str(key),
                f"kolom tidak dikenal; yang sah: {', '.join(sorted(known))}",
                f"unknown field; expected one of {', '.join(sorted(known))}",
            )

    code = values.get("code")
    if not isinstance(code, str) or not _CODE_RE.match(code):
        problem(
            "code",
            f"diharapkan kode huruf kecil/angka/._:/- (maks. 80), diterima {code!r}",
            f"expected a code of lower-case letters, digits and ._:/- (max 80), got {code!r}",
        )
    version = values.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problem(
            "version",
            f"diharapkan bilangan bulat >= 1, diterima {version!r}",
            f"expected a whole number >= 1, got {version!r}",
        )
        version = 1

    kind: PolicyKind | None = None
    try:
        kind = PolicyKind(str(values.get("kind", "")))
    except ValueError:
        choices = ", ".join(k.value for k in PolicyKind)
        problem(
            "kind",
            f"diharapkan salah satu dari {choices}, diterima {values.get('kind')!r}",
            f"expected one of {choices}, got {values.get('kind')!r}",
        )

    valid_from = _month_field(values, "valid_from", required=True, problem=problem)
    valid_to = _month_field(values, "valid_to", required=False, problem=problem)
    if valid_from and valid_to and valid_to < valid_from:
        problem(
            "valid_to",
            f"valid_to {valid_to} sebelum valid_from {valid_from}",
            f"valid_to {valid_to} is before valid_from {valid_from}",
        )

    source = values.get("source")
    if not isinstance(source, str) or not source.strip() or len(source) > 200:
        problem(
            "source",
            "diharapkan dasar hukum (mis. 'PP 44/2015 Lampiran II'), maks. 200 karakter",
            "expected the legal source (e.g. 'PP 44/2015 Lampiran II'), at most 200 characters",
        )
    title = values.get("title", "")
    if not isinstance(title, str) or len(title) > 300:
        problem(
            "title", "diharapkan teks maks. 300 karakter", "expected text of at most 300 characters"
        )
        title = ""

    program = _choice_field(values, "program", Program, problem)
    sector = _choice_field(values, "sector", Sector, problem)
    funding = _choice_field(values, "funding", Funding, problem)
    percent = _percent_field(values, problem)
    amount = values.get("amount")
    bands = _bands_field(values, problem)

    if kind is PolicyKind.BANDS:
        if program is not None or sector is not None or funding is not None:
            problem(
                "program",
                "tabel pita berlaku untuk semua program, sektor dan sumber dana",
                "a band table applies to every program, sector and funding; leave the scope empty",
            )
        if not bands and "bands" not in values:
            problem("bands", "tabel pita wajib diisi", "the band table is required")
        for name in ("percent", "amount"):
            if values.get(name) is not None:
                problem(name, "tidak dipakai untuk tabel pita", "not used by a band table")
    elif kind is not None:
        if program is None and "program" not in values:
            problem("program", "diharapkan JKK, JKM atau JHT", "expected JKK, JKM or JHT")
        if "bands" in values:
            problem("bands", "hanya untuk kind = bands", "only for kind = bands")
        if kind is PolicyKind.FLAT:
            if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
                problem(
                    "amount",
                    f"diharapkan rupiah bulat >= 0, diterima {amount!r}",
                    f"expected whole rupiah >= 0, got {amount!r}",
                )
            if values.get("percent") is not None:
                problem("percent", "tidak dipakai untuk kind = flat", "not used by kind = flat")
        else:
            if values.get("amount") is not None:
                problem(
                    "amount",
                    f"tidak dipakai untuk kind = {kind.value}",
                    f"not used by kind = {kind.value}",
                )
            if percent is None and "percent" not in values:
                problem(
                    "percent",
                    'diharapkan persen, mis. "1" atau "0.5"',
                    'expected a percent, e.g. "1" or "0.5"',
                )
            elif percent is not None and kind is PolicyKind.RATE and not 0 <= percent <= 100:
                problem(
                    "percent",
                    f"diharapkan 0..100, diterima {_plain(percent)}",
                    f"expected 0..100, got {_plain(percent)}",
                )
            elif percent is not None and kind is PolicyKind.DISCOUNT and not 0 <= percent <= 100:
                problem(
                    "percent",
                    f"diharapkan potongan 0..100, diterima {_plain(percent)}",
                    f"expected a discount of 0..100, got {_plain(percent)}",
                )

    if problems:
        raise CakupanError(
            title=t("Kebijakan iuran tidak valid", "Invalid contribution policy"),
            problems=problems,
            code="invalid-policy",
        )
    assert kind is not None
    assert valid_from is not None
    assert isinstance(code, str)
    return PolicyRecord(
        code=code,
        version=int(version),
        kind=kind,
        valid_from=valid_from,
        valid_to=valid_to,
        source=str(source).strip(),
        title=str(title).strip(),
        program=program,
        sector=sector,
        funding=funding,
        percent=percent if kind in (PolicyKind.RATE, PolicyKind.DISCOUNT) else None,
        amount=int(amount) if kind is PolicyKind.FLAT and isinstance(amount, int) else None,
        bands=bands if kind is PolicyKind.BANDS else (),
    )


def _month_field(
    values: Mapping[str, Any], name: str, *, required: bool, problem: Any
) -> Month | None:
    raw = values.get(name)
    if raw is None:
        if required:
            problem(name, "diharapkan bulan YYYY-MM", "expected a month as YYYY-MM")
        return None
    try:
        return Month.parse(raw) if isinstance(raw, str) else Month.parse(str(raw))
    except ValueError:
        problem(
            name,
            f"diharapkan bulan YYYY-MM, diterima {raw!r}",
            f"expected a month as YYYY-MM, got {raw!r}",
        )
        return None


def _choice_field(values: Mapping[str, Any], name: str, kind: type[_E], problem: Any) -> _E | None:
    raw = values.get(name)
    if raw is None or raw in ("", "*"):
        return None
    try:
        return kind(str(raw).strip().lower() if kind is not Program else str(raw).strip().upper())
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        problem(
            name,
            f"diharapkan salah satu dari {choices} (atau kosong = semua), diterima {raw!r}",
            f"expected one of {choices} (or empty = any), got {raw!r}",
        )
        return None


def _percent_field(values: Mapping[str, Any], problem: Any) -> Decimal | None:
    raw = values.get("percent")
    if raw is None:
        return None
    if isinstance(raw, bool):
        raw = "invalid"
    try:
        # A float from TOML is read through its shortest repr, so 0.24 stays 0.24 exactly.
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        problem(
            "percent",
            f'diharapkan angka persen, mis. "1" atau "0.5", diterima {raw!r}',
            f'expected a percent number, e.g. "1" or "0.5", got {raw!r}',
        )
        return None
    return value


def _bands_field(values: Mapping[str, Any], problem: Any) -> tuple[Band, ...]:
    raw = values.get("bands")
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        problem(
            "bands",
            "diharapkan daftar [batas_bawah, dasar_upah]",
            "expected a list of [lower_income, base_income] pairs",
        )
        return ()
    bands: list[Band] = []
    for position, entry in enumerate(raw, start=1):
        ok = (
            isinstance(entry, list | tuple)
            and len(entry) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in entry)
        )
        if not ok:
            problem(
                f"bands[{position}]",
                f"diharapkan [batas_bawah, dasar_upah] rupiah bulat >= 0, diterima {entry!r}",
                f"expected [lower_income, base_income] in whole rupiah >= 0, got {entry!r}",
            )
            continue
        bands.append(Band(lower=int(entry[0]), base_income=int(entry[1])))
    if len(bands) != len(raw):
        return ()
    if bands[0].lower != 0:
        problem(
            "bands[1]",
            f"pita pertama harus mulai dari 0, diterima {bands[0].lower}",
            f"the first band must start at 0, got {bands[0].lower}",
        )
    for position in range(1, len(bands)):
        previous, current = bands[position - 1], bands[position]
        if current.lower <= previous.lower:
            problem(
                f"bands[{position + 1}]", "batas bawah harus naik", "lower bounds must increase"
            )
        if current.base_income < previous.base_income:
            # A falling base would make a higher income pay less.
            problem(
                f"bands[{position + 1}]",
                "dasar upah tidak boleh turun",
                "base incomes must not decrease",
            )
    return tuple(bands)


def effective_records(records: Iterable[PolicyRecord]) -> list[PolicyRecord]:
    """The highest version of each code (older versions are superseded), sorted by code."""
    latest: dict[str, PolicyRecord] = {}
    for record in records:
        current = latest.get(record.code)
        if current is None or record.version > current.version:
            latest[record.code] = record
    return [latest[code] for code in sorted(latest)]


def find_ambiguities(records: Iterable[PolicyRecord]) -> list[FieldProblem]:
    """Pairs of effective records that would compete for the same line with nothing to tell them
    apart (same kind, program and ``valid_from``, overlapping scope, same specificity)."""
    problems: list[FieldProblem] = []
    by_key: dict[tuple[str, Program | None, Month], list[PolicyRecord]] = {}
    for record in effective_records(records):
        key = (_charge_group(record.kind), record.program, record.valid_from)
        by_key.setdefault(key, []).append(record)
    for group in by_key.values():
        for i, first in enumerate(group):
            for second in group[i + 1 :]:
                overlap = (
                    first.sector is None or second.sector is None or first.sector == second.sector
                ) and (
                    first.funding is None
                    or second.funding is None
                    or first.funding == second.funding
                )
                if overlap and first.specificity == second.specificity:
                    problems.append(
                        FieldProblem(
                            field="valid_from",
                            record=second.code,
                            code="ambiguous-policy",
                            message=t(
                                f"bersaing dengan {first.code}: jenis, program, lingkup dan "
                                f"valid_from {first.valid_from} sama; ubah valid_from atau "
                                f"lingkupnya, atau terbitkan versi baru dari {first.code}",
                                f"competes with {first.code}: same kind, program, scope and "
                                f"valid_from {first.valid_from}; change the valid_from or the "
                                f"scope, or publish a new version of {first.code}",
                            ),
                        )
                    )
    return problems


# --- quotes -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QuoteLine:
    """One program's contribution for one month, and the policies that set it."""

    program: Program
    amount: int
    policies: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "program": self.program.value,
            "amount": self.amount,
            "policies": list(self.policies),
        }


@dataclass(frozen=True, slots=True)
class Quote:
    """A month's contribution: base income, one line per program, total."""

    month: Month
    income: int
    band: int  # 1-based position in the band table
    base_income: int
    programs: ProgramSet
    sector: Sector
    funding: Funding
    lines: tuple[QuoteLine, ...]
    total: int

    def as_dict(self) -> dict[str, Any]:
        """The contract of ``cakupan contribution --json``."""
        return {
            "month": str(self.month),
            "base_income": self.base_income,
            "lines": [line.as_dict() for line in self.lines],
            "total": self.total,
        }


@dataclass(frozen=True, slots=True)
class BandTable:
    """A band table prepared for bisection."""

    record: PolicyRecord
    lowers: tuple[int, ...]
    bases: tuple[int, ...]

    def band_of(self, income: int) -> int:
        """0-based band index of ``income`` (``-1`` for a negative income)."""
        return bisect_right(self.lowers, income) - 1

    def upper_of(self, index: int) -> int | None:
        """The last income of band ``index`` (None for the open top band)."""
        return self.lowers[index + 1] - 1 if index + 1 < len(self.lowers) else None


@dataclass(frozen=True, slots=True)
class _PricedBand:
    base_income: int
    lines: tuple[QuoteLine, ...]
    total: int


@dataclass(frozen=True, slots=True)
class _PricedTable:
    # Every band of one (month, programs, sector, funding), arguments normalised once.
    month: Month
    programs: ProgramSet
    sector: Sector
    funding: Funding
    lowers: tuple[int, ...]
    bands: tuple[_PricedBand, ...]
    totals: tuple[int, ...]


def _price_band(
    base: int,
    band_record: PolicyRecord,
    rules: Sequence[tuple[Program, PolicyRecord, PolicyRecord | None]],
) -> _PricedBand:
    """Price one base income: full line exactly, times the discount factor, half up once."""
    lines: list[QuoteLine] = []
    for program, charge, discount in rules:
        if charge.kind is PolicyKind.RATE:
            full = Fraction(base) * Fraction(charge.percent or 0) / 100
            used = [band_record.ref, charge.ref]
        else:
            full = Fraction(charge.amount or 0)
            used = [charge.ref]
        if discount is not None:
            full = full * (100 - Fraction(discount.percent or 0)) / 100
            used.append(discount.ref)
        lines.append(QuoteLine(program=program, amount=round_half_up(full), policies=tuple(used)))
    return _PricedBand(base_income=base, lines=tuple(lines), total=sum(x.amount for x in lines))


def _refuse_income(income: object) -> None:
    """Raise the user-facing error for an income that is negative or not whole rupiah."""
    parse_income(income if isinstance(income, int) else str(income))
    raise invalid(
        "income",
        t(
            f"diharapkan bilangan bulat rupiah >= 0, diterima {income!r}",
            f"expected a whole number of rupiah >= 0, got {income!r}",
        ),
        code="invalid-income",
    )


@dataclass(frozen=True, eq=False)
class PolicyBook:
    """The policies in force, ready to price contributions. Immutable; caches are internal.

    Build it with :meth:`from_records` (the database: ``load_policy_book(session)``; the shipped
    data: ``shipped_policy_book()``).
    """

    records: tuple[PolicyRecord, ...]
    _effective: tuple[PolicyRecord, ...] = field(repr=False)
    _band_tables: tuple[BandTable, ...] = field(repr=False)
    _by_group: Mapping[tuple[str, Program], tuple[PolicyRecord, ...]] = field(repr=False)
    _tables_by_month: dict[object, BandTable] = field(default_factory=dict, repr=False)
    _tables: dict[tuple[object, object, object, object], _PricedTable] = field(
        default_factory=dict, repr=False
    )

    @classmethod
    def from_records(cls, records: Iterable[PolicyRecord]) -> PolicyBook:
        """A book over ``records`` (every version; only the highest of each code is used)."""
        all_records = tuple(sorted(records, key=lambda r: (r.code, r.version)))
        effective = tuple(effective_records(all_records))
        tables = tuple(
            BandTable(
                record=record,
                lowers=tuple(band.lower for band in record.bands),
                bases=tuple(band.base_income for band in record.bands),
            )
            for record in sorted(
                (r for r in effective if r.kind is PolicyKind.BANDS),
                key=lambda r: (r.valid_from, r.code),
                reverse=True,
            )
        )
        groups: dict[tuple[str, Program], list[PolicyRecord]] = {}
        for record in effective:
            if record.kind is not PolicyKind.BANDS and record.program is not None:
                groups.setdefault((_charge_group(record.kind), record.program), []).append(record)
        by_group = {
            key: tuple(
                # Latest valid_from first, then the more specific scope, then code (stable).
                sorted(group, key=lambda r: (-r.valid_from.index, -r.specificity, r.code))
            )
            for key, group in groups.items()
        }
        return cls(
            records=all_records, _effective=effective, _band_tables=tables, _by_group=by_group
        )

    @property
    def effective(self) -> tuple[PolicyRecord, ...]:
        """The records that count (the highest version of each code)."""
        return self._effective

    def in_force(self, month: Month) -> list[PolicyRecord]:
        """The effective records whose validity contains ``month``."""
        return [record for record in self._effective if record.in_force(month)]

    def band_table(self, month: Month | str) -> BandTable:
        """The band table in force for ``month``; an invalid-input error on ``month`` if none."""
        table = self._tables_by_month.get(month)
        if table is not None:
            return table
        parsed = parse_month(month)
        for candidate in self._band_tables:  # latest valid_from first
            if candidate.record.in_force(parsed):
                self._tables_by_month[month] = candidate
                return candidate
        covered = "; ".join(
            f"{r.record.code}: {r.record.valid_from}..{r.record.valid_to or ''}"
            for r in reversed(self._band_tables)
        )
        raise invalid(
            "month",
            t(
                f"tidak ada tabel pita upah yang berlaku untuk bulan iuran {parsed}; "
                f"tabel yang ada: {covered or 'tidak ada'}",
                f"no income band table is in force for contribution month {parsed}; "
                f"band tables: {covered or 'none'}",
            ),
            code="no-policy",
        )

    def monthly_total(
        self,
        *,
        income: int,
        programs: ProgramSet | str,
        month: Month | str,
        sector: Sector | str = Sector.OTHER,
        funding: Funding | str = Funding.SELF,
    ) -> int:
        """The whole month's contribution in rupiah: the fast path for the ledger.

        One dict lookup per (month, programs, sector, funding), then a bisection over the band
        lower bounds; plain strings such as ``"JKK+JKM"`` and ``"transport"`` work as well as the
        enums. Raises like :meth:`quote`.
        """
        priced = self._tables.get((month, programs, sector, funding))
        if priced is None:
            priced = self._price_table(month, programs, sector, funding)
        band = bisect_right(priced.lowers, income) - 1
        if band < 0 or income.__class__ is not int:
            _refuse_income(income)
        return priced.totals[band]

    def quote(
        self,
        *,
        income: int,
        programs: ProgramSet | str,
        month: Month | str,
        sector: Sector | str = Sector.OTHER,
        funding: Funding | str = Funding.SELF,
    ) -> Quote:
        """The month's contribution with its base income, lines and the policies applied.

        Raises an invalid-input :class:`CakupanError` naming the field for a negative or
        non-integer income, an invalid program set, sector or funding, or a month with no policy
        in force.
        """
        priced = self._tables.get((month, programs, sector, funding))
        if priced is None:
            priced = self._price_table(month, programs, sector, funding)
        band = bisect_right(priced.lowers, income) - 1
        if band < 0 or income.__class__ is not int:
            _refuse_income(income)
        line = priced.bands[band]
        return Quote(
            month=priced.month,
            income=income,
            band=band + 1,
            base_income=line.base_income,
            programs=priced.programs,
            sector=priced.sector,
            funding=priced.funding,
            lines=line.lines,
            total=line.total,
        )

    def band_quotes(
        self,
        *,
        programs: ProgramSet | str,
        month: Month | str,
        sector: Sector | str = Sector.OTHER,
        funding: Funding | str = Funding.SELF,
    ) -> list[Quote]:
        """One quote per band of the month's table, at the band's lower income (printed tables)."""
        table = self.band_table(month)
        return [
            self.quote(income=lower, programs=programs, month=month, sector=sector, funding=funding)
            for lower in table.lowers
        ]

    def _price_table(
        self,
        month: Month | str,
        programs: ProgramSet | str,
        sector: Sector | str,
        funding: Funding | str,
    ) -> _PricedTable:
        # Validate every argument first so that the error names the field given wrongly.
        program_set = parse_programs(programs)
        the_month = parse_month(month)
        the_sector = parse_sector(sector)
        the_funding = parse_funding(funding)
        table = self.band_table(the_month)
        rules: list[tuple[Program, PolicyRecord, PolicyRecord | None]] = []
        for program in program_set.programs:
            charge = self._resolve("charge", program, the_month, the_sector, the_funding)
            if charge is None:
                raise invalid(
                    "month",
                    t(
                        f"tidak ada tarif {program.value} yang berlaku untuk bulan iuran "
                        f"{the_month} (sektor {the_sector}, dana {the_funding})",
                        f"no {program.value} rate is in force for contribution month "
                        f"{the_month} (sector {the_sector}, funding {the_funding})",
                    ),
                    code="no-policy",
                )
            discount = self._resolve("discount", program, the_month, the_sector, the_funding)
            rules.append((program, charge, discount))
        bands = tuple(_price_band(base, table.record, rules) for base in table.bases)
        priced = _PricedTable(
            month=the_month,
            programs=program_set,
            sector=the_sector,
            funding=the_funding,
            lowers=table.lowers,
            bands=bands,
            totals=tuple(band.total for band in bands),
        )
        self._tables[(month, programs, sector, funding)] = priced
        return priced

    def _resolve(
        self, group: str, program: Program, month: Month, sector: Sector, funding: Funding
    ) -> PolicyRecord | None:
        for record in self._by_group.get((group, program), ()):
            if record.in_force(month) and record.applies_to(sector, funding):
                return record
        return None


def check_policy_set(records: Sequence[PolicyRecord]) -> None:
    """Raise a conflict-free invalid-input error if ``records`` hold competing policies."""
    problems = find_ambiguities(records)
    if problems:
        raise CakupanError(
            title=t("Kebijakan iuran saling bersaing", "Contribution policies compete"),
            problems=problems,
            code="ambiguous-policy",
        )

"""NIK (Nomor Induk Kependudukan) validation: a pure function over plain values (domain.md §3).

A NIK is 16 digits: ``PPRRDD`` the district (kecamatan) of first registration (province,
regency, district), ``DDMMYY`` the birth date with 40 added to the day for women, and a 4-digit
serial that is never ``0000``. The century is not written: the birth date is the most recent
date with that day, month and two-digit year that is not after ``today``.

:func:`check_nik` reports every problem it finds (not only the first) with a stable code, and
still returns what could be read from the valid parts: the district when it is known, the sex
when the day is in a possible range, the birth date when it is a real date.

Error codes: ``nik.not_digits``, ``nik.length``, ``nik.district_unknown``,
``nik.birth_date_invalid``, ``nik.serial_zero``. (No "future birth date" code: resolving the
century to the most recent past date makes a future date impossible by construction.)
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from cakupan.i18n import Lang, Text, t

Sex = Literal["M", "F"]

NIK_LENGTH = 16
#: Added to the day of birth of women (``DD + 40``).
WOMEN_DAY_OFFSET = 40

_DIGITS = re.compile(r"^[0-9]+$")
_NOT_DIGIT = re.compile(r"[^0-9]")

NOT_DIGITS = "nik.not_digits"
LENGTH = "nik.length"
DISTRICT_UNKNOWN = "nik.district_unknown"
BIRTH_DATE_INVALID = "nik.birth_date_invalid"
SERIAL_ZERO = "nik.serial_zero"

#: Every code :func:`check_nik` can return.
ERROR_CODES = (NOT_DIGITS, LENGTH, DISTRICT_UNKNOWN, BIRTH_DATE_INVALID, SERIAL_ZERO)


@dataclass(frozen=True)
class NikProblem:
    """One thing wrong with a NIK: a stable ``code`` and a bilingual message."""

    code: str
    message: Text

    def as_json(self, lang: Lang | None = None) -> dict[str, str]:
        return {"code": self.code, "message": self.message.render(lang)}


@dataclass(frozen=True)
class NikCheck:
    """The outcome of :func:`check_nik`.

    ``district_code`` (``PP.RR.DD``) is set only for a known district; ``sex`` when the day part is
    01-31 (men) or 41-71 (women); ``birth_date`` only when it is a real calendar date. Each is
    independent of the other parts' problems."""

    nik: str
    valid: bool
    errors: list[NikProblem] = field(default_factory=list)
    district_code: str | None = None
    birth_date: date | None = None
    sex: Sex | None = None

    @property
    def codes(self) -> list[str]:
        """The error codes, in the order found."""
        return [problem.code for problem in self.errors]

    def as_json(self, lang: Lang | None = None) -> dict[str, Any]:
        """The ``cakupan nik check --json`` document."""
        return {
            "nik": self.nik,
            "valid": self.valid,
            "errors": [problem.as_json(lang) for problem in self.errors],
            "district_code": self.district_code,
            "birth_date": None if self.birth_date is None else self.birth_date.isoformat(),
            "sex": self.sex,
        }


def check_nik(nik: str, *, known_districts: Container[str], today: date) -> NikCheck:
    """Check a NIK against the rules of domain.md §3; report every problem found.

    ``known_districts`` holds district codes as ``PP.RR.DD`` (e.g. the frozenset from
    :func:`cakupan.regions.district_codes`); ``today`` resolves the century of the birth date.
    Surrounding whitespace is ignored; anything else that is not an ASCII digit is a problem.
    """
    value = nik.strip()
    errors: list[NikProblem] = []
    if value and not _DIGITS.match(value):
        errors.append(_not_digits(value))
    if len(value) != NIK_LENGTH:
        errors.append(
            NikProblem(
                LENGTH,
                t(
                    "NIK harus {n} digit, ditemukan {k} karakter",
                    "a NIK must have {n} digits, got {k} characters",
                ).format(n=NIK_LENGTH, k=len(value)),
            )
        )
        # Without 16 characters the parts cannot be located: nothing more can be read.
        return NikCheck(value, False, errors)

    district_part, date_part, serial = value[0:6], value[6:12], value[12:16]
    district_code = None
    if _DIGITS.match(district_part):
        code = f"{district_part[0:2]}.{district_part[2:4]}.{district_part[4:6]}"
        if code in known_districts:
            district_code = code
        else:
            errors.append(
                NikProblem(
                    DISTRICT_UNKNOWN,
                    t(
                        "kode kecamatan {c} (digit 1-6) tidak dikenal",
                        "district code {c} (digits 1-6) is not a known district",
                    ).format(c=code),
                )
            )

    birth_date: date | None = None
    sex: Sex | None = None
    if _DIGITS.match(date_part):
        birth_date, sex, problem = _birth(date_part, today)
        if problem is not None:
            errors.append(problem)

    if serial == "0000":
        errors.append(
            NikProblem(
                SERIAL_ZERO,
                t(
                    "nomor urut (digit 13-16) tidak boleh 0000",
                    "the serial number (digits 13-16) must not be 0000",
                ),
            )
        )
    return NikCheck(value, not errors, errors, district_code, birth_date, sex)


def compose_nik(district_code: str, birth_date: date, sex: Sex, serial: int) -> str:
    """The NIK for these parts (the inverse of :func:`check_nik`; for test and demo data).

    ``district_code`` is ``PP.RR.DD``; ``serial`` is 1-9999."""
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1-9999, got {serial}")
    digits = district_code.replace(".", "")
    if len(digits) != 6 or not _DIGITS.match(digits):
        raise ValueError(f"expected a district code PP.RR.DD, got {district_code!r}")
    day = birth_date.day + (WOMEN_DAY_OFFSET if sex == "F" else 0)
    return f"{digits}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"


def _birth(part: str, today: date) -> tuple[date | None, Sex | None, NikProblem | None]:
    """Birth date and sex from ``DDMMYY``; a problem when it is not a real past date."""
    encoded_day, month, year2 = int(part[0:2]), int(part[2:4]), int(part[4:6])
    sex: Sex | None = None
    if 1 <= encoded_day <= 31:
        sex, day = "M", encoded_day
    elif WOMEN_DAY_OFFSET + 1 <= encoded_day <= WOMEN_DAY_OFFSET + 31:
        sex, day = "F", encoded_day - WOMEN_DAY_OFFSET
    else:
        return (
            None,
            None,
            _bad_date(
                part,
                t(
                    "hari {d:02d} harus 01-31 (laki-laki) atau 41-71 (perempuan)",
                    "day {d:02d} must be 01-31 (men) or 41-71 (women)",
                ).format(d=encoded_day),
            ),
        )
    if not 1 <= month <= 12:
        return (
            None,
            sex,
            _bad_date(
                part, t("bulan {m:02d} harus 01-12", "month {m:02d} must be 01-12").format(m=month)
            ),
        )
    # The most recent year ending in year2 that is not after this year; if the date would be
    # later than today in that year, or does not exist in it (29 February), a century earlier.
    latest = today.year - (today.year - year2) % 100
    for year in (latest, latest - 100):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate, sex, None
    return (
        None,
        sex,
        _bad_date(
            part,
            t(
                "tanggal {d:02d}-{m:02d} tidak ada pada tahun berakhiran {y:02d}",
                "day {d:02d} of month {m:02d} does not exist in a year ending in {y:02d}",
            ).format(d=day, m=month, y=year2),
        ),
    )


def _bad_date(part: str, reason: Text) -> NikProblem:
    return NikProblem(
        BIRTH_DATE_INVALID,
        Text(
            id=f"tanggal lahir {part} (digit 7-12, DDMMYY) tidak sah: {reason.id}",
            en=f"birth date {part} (digits 7-12, DDMMYY) is not valid: {reason.en}",
        ),
    )


def _not_digits(value: str) -> NikProblem:
    found = sorted({char for char in value if _NOT_DIGIT.match(char)})
    first = next(i for i, char in enumerate(value) if _NOT_DIGIT.match(char)) + 1
    shown = ", ".join(repr(char) for char in found[:5])
    return NikProblem(
        NOT_DIGITS,
        t(
            "NIK hanya boleh berisi angka 0-9; ditemukan {c} (pertama di posisi {p})",
            "a NIK may contain only digits 0-9; found {c} (first at position {p})",
        ).format(c=shown, p=first),
    )

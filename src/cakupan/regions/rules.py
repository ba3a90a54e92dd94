"""Pure rules of areas and offices: code shapes, how codes nest, and what an office row says.

No database here: callers pass what they know (existing offices, known codes) as plain values.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cakupan.i18n import Text, t

OfficeKind = Literal["region", "branch"]

PROVINCE_RE = re.compile(r"^\d{2}$")
REGENCY_RE = re.compile(r"^\d{2}\.\d{2}$")
DISTRICT_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}$")
VILLAGE_RE = re.compile(r"^\d{2}\.\d{2}\.\d{2}\.\d{4}$")
OFFICE_CODE_RE = re.compile(r"^[A-Z][A-Z0-9_-]{1,19}$")

_KINDS: dict[str, OfficeKind] = {
    "region": "region",
    "kanwil": "region",
    "branch": "branch",
    "cabang": "branch",
}
_CODE_SEPARATORS = re.compile(r"[\s,;|]+")

Problems = list[tuple[str, Text]]


def province_of(code: str) -> str:
    """The province code of any area code: ``"16.71.01.1001"`` -> ``"16"``."""
    return code[:2]


def regency_of(code: str) -> str:
    """The regency code of a regency, district or village code: ``"16.71.01"`` -> ``"16.71"``.

    Raises ``ValueError`` for a province code or a malformed code."""
    if not (REGENCY_RE.match(code[:5]) and (len(code) == 5 or code[5] == ".")):
        raise ValueError(f"expected a regency, district or village code, got {code!r}")
    return code[:5]


def district_of(code: str) -> str:
    """The district code of a district or village code: ``"16.71.01.1001"`` -> ``"16.71.01"``."""
    if not (DISTRICT_RE.match(code[:8]) and (len(code) == 8 or code[8] == ".")):
        raise ValueError(f"expected a district or village code, got {code!r}")
    return code[:8]


def split_codes(text: str) -> list[str]:
    """Codes listed in one cell, separated by spaces, commas, semicolons or ``|``."""
    return [code for code in _CODE_SEPARATORS.split(text.strip()) if code]


@dataclass(frozen=True)
class OfficeRow:
    """What one row of an offices file says about one office.

    ``covers`` holds province codes for a region and regency codes for a branch; it is the full
    coverage of that office (an import replaces the coverage it had)."""

    kind: OfficeKind
    code: str
    name: str
    parent_code: str | None
    covers: frozenset[str]


def parse_office_row(values: Mapping[str, str]) -> tuple[OfficeRow | None, Problems]:
    """Check the shape of one row (columns ``kind, code, name, parent_code, province_codes,
    regency_codes``) without looking anything up.

    Returns the row as read (``covers`` keeps only well-formed codes) and every problem found; the
    row is valid only when there are no problems. The row is None only when ``kind`` is unknown
    (nothing else can be checked then)."""
    problems: Problems = []
    kind_text = values.get("kind", "").strip().lower()
    kind = _KINDS.get(kind_text)
    if kind is None:
        problems.append(
            (
                "kind",
                t(
                    "diharapkan 'region' (kanwil) atau 'branch' (cabang), ditemukan {v!r}",
                    "expected 'region' (kanwil) or 'branch' (cabang), got {v!r}",
                ).format(v=kind_text),
            )
        )
    code = values.get("code", "").strip().upper()
    if not OFFICE_CODE_RE.match(code):
        problems.append(
            (
                "code",
                t(
                    "diharapkan kode 2-20 huruf/angka diawali huruf (mis. PLG), ditemukan {v!r}",
                    "expected a code of 2-20 letters/digits starting with a letter (e.g. PLG), got {v!r}",
                ).format(v=values.get("code", "")),
            )
        )
    name = " ".join(values.get("name", "").split())
    if not name or len(name) > 120:
        problems.append(
            (
                "name",
                t(
                    "diharapkan nama kantor 1-120 karakter, ditemukan {n} karakter",
                    "expected an office name of 1-120 characters, got {n}",
                ).format(n=len(name)),
            )
        )
    parent = values.get("parent_code", "").strip().upper() or None
    provinces = split_codes(values.get("province_codes", ""))
    regencies = split_codes(values.get("regency_codes", ""))
    covers: list[str] = []
    if kind == "region":
        covers = provinces
        if parent is not None:
            problems.append(
                (
                    "parent_code",
                    t(
                        "kantor wilayah tidak memiliki induk; kosongkan, ditemukan {v!r}",
                        "a regional office has no parent; leave it empty, got {v!r}",
                    ).format(v=parent),
                )
            )
        if regencies:
            problems.append(
                (
                    "regency_codes",
                    t(
                        "kantor wilayah mencakup provinsi (province_codes), bukan kabupaten/kota",
                        "a regional office covers provinces (province_codes), not regencies",
                    ),
                )
            )
        problems += _code_list_problems("province_codes", provinces, PROVINCE_RE, "16")
    elif kind == "branch":
        covers = regencies
        if parent is None or not OFFICE_CODE_RE.match(parent):
            problems.append(
                (
                    "parent_code",
                    t(
                        "kantor cabang memerlukan kode kantor wilayah induknya, ditemukan {v!r}",
                        "a branch needs the code of its regional office, got {v!r}",
                    ).format(v=parent or ""),
                )
            )
        if provinces:
            problems.append(
                (
                    "province_codes",
                    t(
                        "kantor cabang mencakup kabupaten/kota (regency_codes), bukan provinsi",
                        "a branch covers regencies (regency_codes), not provinces",
                    ),
                )
            )
        problems += _code_list_problems("regency_codes", regencies, REGENCY_RE, "16.71")
    if kind is None:
        return None, problems
    pattern = PROVINCE_RE if kind == "region" else REGENCY_RE
    well_formed = frozenset(code for code in covers if pattern.match(code))
    return OfficeRow(kind, code, name, parent, well_formed), problems


def _code_list_problems(
    field: str, codes: list[str], pattern: re.Pattern[str], example: str
) -> Problems:
    what = (
        t("provinsi", "province") if field == "province_codes" else t("kabupaten/kota", "regency")
    )
    if not codes:
        message = Text(
            id=f"diharapkan sedikitnya satu kode {what.id} (mis. {example}), ditemukan kosong",
            en=f"expected at least one {what.en} code (e.g. {example}), got nothing",
        )
        return [(field, message)]
    problems: Problems = []
    bad = [code for code in codes if not pattern.match(code)]
    if bad:
        message = Text(
            id=f"kode {what.id} harus berbentuk {example}, ditemukan {', '.join(bad)}",
            en=f"{what.en} codes must look like {example}, got {', '.join(bad)}",
        )
        problems.append((field, message))
    repeated = sorted({code for code in codes if codes.count(code) > 1})
    if repeated:
        message = Text(
            id=f"kode {what.id} berulang: {', '.join(repeated)}",
            en=f"repeated {what.en} codes: {', '.join(repeated)}",
        )
        problems.append((field, message))
    return problems

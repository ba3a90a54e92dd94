"""Pure rules of bundling offers: who pays a month under an offer's terms, whether an offer
applies to a registration (dates, areas), retention rates. No database, no clock."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cakupan.i18n import Text, t
from cakupan.money import round_half_up


def expected_payer(payer: str, partner_months: int | None, ordinal: int) -> str:
    """Who pays membership month ``ordinal`` (1 = the episode's first) under an offer whose
    terms say ``payer``: ``partner`` or ``participant`` for every month; ``split``: the partner
    pays months 1..``partner_months``, the participant the rest."""
    if payer == "split":
        return (
            "partner"
            if partner_months is not None and ordinal <= partner_months
            else ("participant")
        )
    return payer


def in_area(area_codes: list[str], regency_code: str | None) -> bool:
    """Whether a regency (``PP.RR``) lies in an offer's areas (province ``PP`` or regency codes;
    none = everywhere). A participant without a known regency is outside any limited offer."""
    if not area_codes:
        return True
    if regency_code is None:
        return False
    return regency_code in area_codes or regency_code.split(".")[0] in area_codes


def enrolment_problems(
    *,
    valid_from: date,
    valid_to: date | None,
    area_codes: list[str],
    offer_partner: str,
    registered_on: date,
    regency_code: str | None,
    registrars: tuple[str | None, ...],
) -> list[tuple[str, Text]]:
    """Why an episode cannot be enrolled in an offer: registered outside the offer's dates,
    outside its areas, or not through the offer's partner (nor one of its agents)."""
    problems: list[tuple[str, Text]] = []
    if registered_on < valid_from or (valid_to is not None and registered_on > valid_to):
        problems.append(
            (
                "offer",
                t(
                    "terdaftar {d}, di luar masa penawaran {f}..{u}",
                    "registered on {d}, outside the offer's dates {f}..{u}",
                ).format(d=registered_on, f=valid_from, u=valid_to or "-"),
            )
        )
    if not in_area(area_codes, regency_code):
        problems.append(
            (
                "offer",
                t(
                    "wilayah peserta {r} di luar wilayah penawaran {a}",
                    "the participant's regency {r} is outside the offer's areas {a}",
                ).format(r=regency_code or "-", a=" ".join(area_codes)),
            )
        )
    if offer_partner not in registrars:
        problems.append(
            (
                "offer",
                t(
                    "peserta tidak didaftarkan lewat mitra penawaran {p}",
                    "the participant was not registered through the offer's partner {p}",
                ).format(p=offer_partner),
            )
        )
    return problems


def rate(part: int, whole: int) -> Decimal | None:
    """``part / whole`` as a percentage with one decimal (half up); None when ``whole`` is 0."""
    if whole == 0:
        return None
    return (Decimal(round_half_up(Decimal(part) * 1000 / whole)) / 10).quantize(Decimal("0.1"))

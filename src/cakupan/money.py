"""The one money type: integer rupiah. Rounding is half up to whole rupiah; formatting is Indonesian."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

#: Money is whole rupiah everywhere: an ``int``. The alias documents intent in signatures.
Rupiah = int


def round_half_up(value: Fraction | Decimal | int) -> int:
    """Round to the nearest whole number, halves away from zero (so 0.5 -> 1, -0.5 -> -1)."""
    if isinstance(value, int):
        return value
    if isinstance(value, Fraction):
        value = Decimal(value.numerator) / Decimal(value.denominator)
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def percent_of(amount: int, rate_percent: Decimal) -> int:
    """``rate_percent`` % of ``amount`` rupiah, rounded half up to whole rupiah."""
    return round_half_up(Decimal(amount) * rate_percent / Decimal(100))


def ratio_percent(numerator: int, denominator: int, places: int = 1) -> float | None:
    """``numerator / denominator`` as a percentage rounded half up to ``places``; None when /0."""
    if denominator == 0:
        return None
    quantum = Decimal(1).scaleb(-places)
    value = (Decimal(numerator) * 100 / Decimal(denominator)).quantize(quantum, ROUND_HALF_UP)
    return float(value)


def format_rupiah(amount: int) -> str:
    """``Rp 1.234.567`` (negative: ``-Rp 1.234.567``)."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def format_number(value: int) -> str:
    """Indonesian thousands separator: ``1.234.567``."""
    return f"{value:,}".replace(",", ".")

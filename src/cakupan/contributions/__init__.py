"""BPU contributions: the dated policy registry and the calculator.

Other areas use :func:`load_policy_book` once per job and then
``book.monthly_total(income=, programs=, month=, sector=, funding=)`` (fast, cached) or
``book.quote(...)`` (with lines and the policies applied).
"""

from cakupan.contributions.policy_file import shipped_policy_book
from cakupan.contributions.queries import load_policy_book
from cakupan.contributions.rules import (
    Funding,
    PolicyBook,
    PolicyKind,
    PolicyRecord,
    Program,
    ProgramSet,
    Quote,
    QuoteLine,
    Sector,
    parse_funding,
    parse_income,
    parse_month,
    parse_programs,
    parse_sector,
)

__all__ = [
    "Funding",
    "PolicyBook",
    "PolicyKind",
    "PolicyRecord",
    "Program",
    "ProgramSet",
    "Quote",
    "QuoteLine",
    "Sector",
    "load_policy_book",
    "parse_funding",
    "parse_income",
    "parse_month",
    "parse_programs",
    "parse_sector",
    "shipped_policy_book",
]

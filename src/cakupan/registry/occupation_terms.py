"""What an occupation implies for the contribution terms: its PP 50/2025 sector and whether JHT
is mandatory (a business owner). Pure: the mapping is shipped data
(``data/occupation_terms.toml``) with its sources, read once."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class OccupationTerms:
    """The shipped mapping: transport occupations and business-owner occupations, with sources."""

    transport: frozenset[str]
    transport_source: str
    business_owners: frozenset[str]
    business_owner_source: str


@cache
def occupation_terms() -> OccupationTerms:
    """The mapping shipped in ``data/occupation_terms.toml``."""
    text = (
        resources.files("cakupan.registry")
        .joinpath("data/occupation_terms.toml")
        .read_text("utf-8")
    )
    data = tomllib.loads(text)
    return OccupationTerms(
        transport=frozenset(data["sector"]["transport"]),
        transport_source=str(data["sector"]["source"]),
        business_owners=frozenset(data["business_owner"]["occupations"]),
        business_owner_source=str(data["business_owner"]["source"]),
    )


def sector_for_occupation(occupation: str) -> str:
    """``transport`` for an occupation of the PP 50/2025 transport sector, else ``other``."""
    return "transport" if occupation in occupation_terms().transport else "other"


def jht_required(occupation: str) -> bool:
    """Whether JHT is mandatory for this occupation (a business owner, Permenaker 5/2021)."""
    return occupation in occupation_terms().business_owners

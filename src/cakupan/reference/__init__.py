"""Reference data shipped with cakupan: every loader, listed here and nowhere else, in the order
they run (areas before the offices that sit in them, occupations before the segments built on
them). Each area keeps its own ``reference.py`` with an ``..._loaded`` check and a ``load_...``
function; adding a kind of reference data means adding one line below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from cakupan.campaigns.reference import load_segments, segments_loaded
from cakupan.contributions.reference import load_policies, policies_loaded
from cakupan.incentives.reference import load_schemes, schemes_loaded
from cakupan.regions.reference import areas_loaded, load_areas, load_offices, offices_loaded
from cakupan.registry.reference import load_occupations, occupations_loaded


@dataclass(frozen=True)
class ReferenceLoader:
    """Loads one kind of shipped reference data; returns how many records it added."""

    name: str
    is_loaded: Callable[[Session], bool]
    load: Callable[[Session], int]


REFERENCE_LOADERS: tuple[ReferenceLoader, ...] = (
    ReferenceLoader("areas", areas_loaded, load_areas),
    ReferenceLoader("offices", offices_loaded, load_offices),
    ReferenceLoader("occupations", occupations_loaded, load_occupations),
    ReferenceLoader("segments", segments_loaded, load_segments),
    ReferenceLoader("contribution_policies", policies_loaded, load_policies),
    ReferenceLoader("incentive_schemes", schemes_loaded, load_schemes),
)

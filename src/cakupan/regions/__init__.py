"""Indonesia's administrative areas and the BPJS Ketenagakerjaan offices that serve them.

What other areas may use (read side; see ``docs/regions.md``)."""

from cakupan.regions.actions import import_offices
from cakupan.regions.queries import (
    AreaInfo,
    BranchInfo,
    RegionInfo,
    area,
    branch,
    branch_district_codes,
    branch_for_area,
    branch_for_regency,
    branch_regencies,
    branches_of_region,
    district_codes,
    district_exists,
    list_offices,
    regency_branches,
    regency_exists,
    region_of_branch,
    village_exists,
)
from cakupan.regions.rules import district_of, province_of, regency_of

__all__ = [
    "AreaInfo",
    "BranchInfo",
    "RegionInfo",
    "area",
    "branch",
    "branch_district_codes",
    "branch_for_area",
    "branch_for_regency",
    "branch_regencies",
    "branches_of_region",
    "district_codes",
    "district_exists",
    "district_of",
    "import_offices",
    "list_offices",
    "province_of",
    "regency_branches",
    "regency_exists",
    "regency_of",
    "region_of_branch",
    "village_exists",
]

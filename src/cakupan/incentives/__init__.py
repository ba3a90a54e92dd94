"""Incentive schemes as versioned data and (with the ledger) the monthly incentive run.

What other areas may use (see ``docs/incentives.md``)."""

from cakupan.incentives.definition import AgreementParameters, SchemeDefinition, SchemeVersion
from cakupan.incentives.queries import SchemeRecord, scheme_in_force, scheme_version, schemes

__all__ = [
    "AgreementParameters",
    "SchemeDefinition",
    "SchemeRecord",
    "SchemeVersion",
    "scheme_in_force",
    "scheme_version",
    "schemes",
]

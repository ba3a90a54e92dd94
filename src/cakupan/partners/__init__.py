"""Partners and agents: the hierarchy, agreements, agency applications and the agent lifecycle.

What other areas may use (see ``docs/partners.md``)."""

from cakupan.partners.queries import (
    AgreementInfo,
    IdleAgent,
    PartnerInfo,
    agents_at_risk,
    agents_under,
    agreements_in_force,
    agreements_of,
    get_partner,
    list_partners,
    partner,
    partners_of_branch,
    visible_partner_codes,
)
from cakupan.partners.rules import AGENT_KINDS

__all__ = [
    "AGENT_KINDS",
    "AgreementInfo",
    "IdleAgent",
    "PartnerInfo",
    "agents_at_risk",
    "agents_under",
    "agreements_in_force",
    "agreements_of",
    "get_partner",
    "list_partners",
    "partner",
    "partners_of_branch",
    "visible_partner_codes",
]

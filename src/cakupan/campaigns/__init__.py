"""Finding people (issue 8, domain.md section 6): segments and market potential, targeting,
prospects and their contacts, campaigns, attribution and the AIDA funnel to month-6 retention.

What other areas may use (see ``docs/campaigns.md``)."""

from cakupan.campaigns.actions import import_campaigns, record_campaign_code
from cakupan.campaigns.prospects import (
    ProspectView,
    assign_prospects,
    import_prospects,
    prospect_views,
    record_contact,
)
from cakupan.campaigns.queries import (
    Attribution,
    Funnel,
    attributions,
    campaign_funnel,
    compare_funnels,
    funnels,
    list_campaigns,
)
from cakupan.campaigns.rules import AttributionRule, ProspectStage, name_key, phone_key
from cakupan.campaigns.segments import (
    CoverageRow,
    coverage,
    define_segment,
    get_segment,
    import_potential,
    list_segments,
)
from cakupan.campaigns.targeting import rank_targets

__all__ = [
    "Attribution",
    "AttributionRule",
    "CoverageRow",
    "Funnel",
    "ProspectStage",
    "ProspectView",
    "assign_prospects",
    "attributions",
    "campaign_funnel",
    "compare_funnels",
    "coverage",
    "define_segment",
    "funnels",
    "get_segment",
    "import_campaigns",
    "import_potential",
    "import_prospects",
    "list_campaigns",
    "list_segments",
    "name_key",
    "phone_key",
    "prospect_views",
    "rank_targets",
    "record_campaign_code",
    "record_contact",
]

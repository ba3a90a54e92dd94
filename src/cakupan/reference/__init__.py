"""Reference data shipped with cakupan. Importing this module registers the loaders."""

from cakupan.campaigns import reference as campaigns_reference  # noqa: F401
from cakupan.contributions import reference as contributions_reference  # noqa: F401
from cakupan.incentives import reference as incentives_reference  # noqa: F401
from cakupan.regions import reference as regions_reference  # noqa: F401  (areas, offices)
from cakupan.registry import reference as registry_reference  # noqa: F401

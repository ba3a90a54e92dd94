"""Imports every area's tables so that ``Base.metadata`` is complete (Alembic, tests).

Add one import here when an area gets a ``models.py``.
"""

from cakupan.audit import models as audit_models
from cakupan.bundling import models as bundling_models  # noqa: F401
from cakupan.campaigns import models as campaigns_models  # noqa: F401
from cakupan.claims import models as claims_models  # noqa: F401
from cakupan.contributions import models as contributions_models  # noqa: F401
from cakupan.dashboard import models as dashboard_models  # noqa: F401
from cakupan.db import Base
from cakupan.incentives import models as incentives_models  # noqa: F401
from cakupan.integration import models as integration_models  # noqa: F401
from cakupan.partners import models as partners_models  # noqa: F401
from cakupan.regions import models as regions_models
from cakupan.registry import close_models as registry_close_models  # noqa: F401
from cakupan.registry import models as registry_models
from cakupan.reminders import models as reminders_models  # noqa: F401
from cakupan.retention import models as retention_models  # noqa: F401
from cakupan.scheduling import models as scheduling_models  # noqa: F401
from cakupan.targets import models as targets_models  # noqa: F401
from cakupan.users import models as users_models

metadata = Base.metadata

__all__ = ["audit_models", "metadata", "regions_models", "registry_models", "users_models"]

"""``/api/v1``: the JSON API for machine clients (``Authorization: Bearer <token>``) and pages.

Errors are RFC 9457 problem details (``application/problem+json``). Areas add their routers
here (``router.include_router(...)``) with :data:`~cakupan.web.deps.ApiActor` for scoping.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from cakupan.campaigns import api as campaigns_api
from cakupan.claims import api as claims_api
from cakupan.dashboard import api as dashboard_api
from cakupan.incentives import api as incentives_api
from cakupan.integration import api as integration_api
from cakupan.partners import api as partners_api
from cakupan.retention import api as retention_api
from cakupan.web.deps import ApiUser

router = APIRouter(prefix="/api/v1", tags=["v1"])
# The partner API first: routes are matched in order and it takes the most requests.
router.include_router(integration_api.router)
router.include_router(partners_api.router)
router.include_router(incentives_api.router)
router.include_router(dashboard_api.router)
router.include_router(campaigns_api.router)
router.include_router(retention_api.router)
router.include_router(claims_api.router)


class MePublic(BaseModel):
    """Who the caller is and what scope they read in."""

    username: str
    full_name: str
    role: str
    region_code: str | None
    branch_code: str | None
    partner_code: str | None
    agent_code: str | None
    lang: str


@router.get("/me", response_model=MePublic)
def me(user: ApiUser) -> Any:
    """The authenticated user and their scope."""
    return MePublic(
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        region_code=user.region_code,
        branch_code=user.branch_code,
        partner_code=user.partner_code,
        agent_code=user.agent_code,
        lang=user.lang,
    )


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    """Liveness check (no authentication, no database)."""
    return {"status": "ok"}

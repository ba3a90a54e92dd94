"""``/api/v1/claims``: claim intake and status for partners (their own participants) and staff,
scoped to the caller; quotes without writing. Status changes reach partners as
``claim.status_changed`` webhooks (integration outbox). Thin: everything is in the actions and
queries."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Header, Query
from pydantic import BaseModel, ConfigDict, Field

from cakupan.claims import actions, queries
from cakupan.claims.rules import Cause, ClaimState, ClaimType
from cakupan.dates import JAKARTA, Clock
from cakupan.web.deps import ApiActor, AppClock, DbSession, RowId

router = APIRouter(prefix="/claims", tags=["claims"])


def _today(clock: Clock) -> date:
    return clock.now().astimezone(JAKARTA).date()


class ClaimCreate(BaseModel):
    """A claim taken in through the API (the channel is ``api``)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["jht", "jkm", "jkk"]
    nik: str = Field(min_length=1, max_length=32)
    event_date: date
    cause: Literal["death", "accident"] | None = None
    jht_reason: str | None = Field(default=None, max_length=40)
    claimant_name: str = Field(min_length=1, max_length=200)
    claimant_nik: str = Field(min_length=1, max_length=32)
    relation: str = Field(min_length=1, max_length=30)
    bank_name: str = Field(min_length=1, max_length=40)
    bank_account: str = Field(min_length=1, max_length=40)
    bank_account_holder: str = Field(min_length=1, max_length=200)


@router.get("/quote")
def quote(
    db: DbSession,
    actor: ApiActor,
    clock: AppClock,
    type: Annotated[Literal["jht", "jkm", "jkk"], Query()],
    nik: Annotated[str, Query(max_length=32)],
    event_date: Annotated[date, Query()],
    cause: Annotated[Literal["death", "accident"] | None, Query()] = None,
) -> dict[str, Any]:
    """Eligibility and amount on the event date (the ``claims quote --json`` document)."""
    del actor
    result = queries.quote(
        db,
        claim_type=ClaimType(type),
        nik=nik,
        event_date=event_date,
        cause=None if cause is None else Cause(cause),
        today=_today(clock),
    )
    db.rollback()
    return result.as_json()


@router.post("", status_code=201)
def submit(db: DbSession, actor: ApiActor, clock: AppClock, body: ClaimCreate) -> dict[str, Any]:
    """Take a claim in (partners: for their own participants). 422 with the field for bad
    input or an event date not covered; 409 for a second claim of the same death."""
    claim = actions.submit_claim(
        db,
        actor,
        actions.ClaimIntake(
            claim_type=body.type,
            nik=body.nik,
            event_date=body.event_date,
            claimant_name=body.claimant_name,
            claimant_nik=body.claimant_nik,
            relation=body.relation,
            bank_name=body.bank_name,
            bank_account=body.bank_account,
            bank_account_holder=body.bank_account_holder,
            cause=body.cause,
            jht_reason=body.jht_reason,
            channel="api",
        ),
        clock=clock,
    )
    view = queries.claim_detail(db, actor, claim.id, today=_today(clock))
    db.commit()
    return view.as_json()


@router.get("")
def list_claims(
    db: DbSession,
    actor: ApiActor,
    clock: AppClock,
    state: Annotated[
        Literal["submitted", "verified", "approved", "rejected", "paid"] | None, Query()
    ] = None,
) -> list[dict[str, Any]]:
    """The caller's claims (JKK at risk of missing the deadline first), with their status."""
    views = queries.list_claims(
        db, actor, today=_today(clock), state=None if state is None else ClaimState(state)
    )
    db.commit()  # unmasking, when any, is audited
    return [view.as_json() for view in views]


@router.get("/{claim_id}")
def show(db: DbSession, actor: ApiActor, clock: AppClock, claim_id: RowId) -> dict[str, Any]:
    """One claim: status, amount, checklist and missing documents, steps."""
    view = queries.claim_detail(db, actor, claim_id, today=_today(clock))
    db.commit()
    return view.as_json()


@router.put("/{claim_id}/documents/{kind}")
def upload(
    db: DbSession,
    actor: ApiActor,
    clock: AppClock,
    claim_id: RowId,
    kind: str,
    content: Annotated[bytes, Body(media_type="application/octet-stream")],
    file_name: Annotated[str, Header(alias="X-File-Name", max_length=255)] = "document",
) -> dict[str, Any]:
    """Upload one document of the claim's checklist (raw bytes; PDF, JPEG or PNG, 5 MB)."""
    document = actions.upload_document(
        db, actor, claim_id, kind, file_name=file_name, content=content, clock=clock
    )
    result = {
        "claim_id": claim_id,
        "kind": document.kind,
        "content_type": document.content_type,
        "size": document.size,
        "sha256": document.sha256,
    }
    db.commit()
    return result

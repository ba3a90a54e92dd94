"""The reminder provider's callbacks: delivery status (sent, delivered, read, failed) and
replies (STOP opts the sender out). Authenticated by the shared secret
``CAKUPAN_REMINDER_CALLBACK_KEY`` in the ``X-Cakupan-Gateway-Key`` header; without a configured
secret the endpoints answer 404. The phone number of a reply is never logged or stored."""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request
from pydantic import BaseModel

from cakupan.auth import Actor
from cakupan.db import transaction
from cakupan.reminders import actions
from cakupan.settings import get_settings
from cakupan.web.deps import AppClock

router = APIRouter(prefix="/api/reminders", include_in_schema=False)

STOP_WORDS = frozenset({"STOP", "BERHENTI", "UNREG"})


class StatusCallback(BaseModel):
    provider_id: str
    status: str
    at: datetime | None = None


class Reply(BaseModel):
    sender: str
    text: str


def _check(key: str | None) -> None:
    expected = get_settings().reminder_callback_key
    if not expected:
        raise HTTPException(404)
    if key is None or not hmac.compare_digest(key, expected):
        raise HTTPException(401)


@router.post("/status")
def status_callback(
    request: Request,
    body: StatusCallback,
    clock: AppClock,
    request_key: Annotated[str | None, Header(alias="X-Cakupan-Gateway-Key")] = None,
) -> dict[str, bool]:
    """Record a delivery status; it only ever moves the message forward."""
    _check(request_key)
    with transaction(request.app.state.engine) as session:
        changed = actions.record_status(
            session, body.provider_id, body.status, body.at or clock.now()
        )
    return {"changed": changed}


@router.post("/inbound")
def inbound_reply(
    request: Request,
    body: Reply,
    clock: AppClock,
    request_key: Annotated[str | None, Header(alias="X-Cakupan-Gateway-Key")] = None,
) -> dict[str, int]:
    """A participant's reply: STOP (or BERHENTI) opts every participant with that number out."""
    _check(request_key)
    if body.text.strip().upper() not in STOP_WORDS:
        return {"opted_out": 0}
    with transaction(request.app.state.engine) as session:
        count = actions.opt_out_by_phone(
            session, Actor.system("gateway"), clock, body.sender.strip()
        )
    return {"opted_out": count}

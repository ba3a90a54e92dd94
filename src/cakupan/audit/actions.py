"""Writing audit rows. Called by every action inside its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from cakupan.audit.models import AuditEntry
from cakupan.auth import Actor
from cakupan.db import now_utc


def record_audit(
    session: Session,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: object | None = None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one audit row to the caller's transaction (it commits or rolls back with the write)."""
    entry = AuditEntry(
        at=at or now_utc(),
        actor=actor.name,
        role=str(actor.role),
        action=action,
        entity_type=entity_type,
        entity_id=None if entity_id is None else str(entity_id),
        before=_jsonable(before),
        after=_jsonable(after),
    )
    session.add(entry)
    return entry


def _jsonable(values: dict[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {
        key: value
        if isinstance(value, (int, float, bool, str, type(None), list, dict))
        else str(value)
        for key, value in values.items()
    }

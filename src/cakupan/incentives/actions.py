"""Writes of the incentives area: adding a scheme version (validate -> write -> audit)."""

from __future__ import annotations

import json
from datetime import datetime

from pydantic import ValidationError
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.db import now_utc
from cakupan.errors import CakupanError, FieldProblem, conflict
from cakupan.i18n import t
from cakupan.incentives.definition import SchemeVersion
from cakupan.incentives.models import IncentiveScheme


def parse_scheme_version(text: str, *, record: str) -> SchemeVersion:
    """Validate a scheme file's JSON text; INVALID naming every field that is wrong."""
    try:
        return SchemeVersion.model_validate_json(text)
    except ValidationError as error:
        raise CakupanError(
            title=t(
                f"Definisi skema tidak valid: {record}", f"Invalid scheme definition: {record}"
            ),
            problems=[
                FieldProblem(
                    field=".".join(str(part) for part in issue["loc"]) or "(file)",
                    message=t(issue["msg"], issue["msg"]),
                    record=record,
                )
                for issue in error.errors()
            ],
            code="invalid-scheme",
        ) from None


def _row(scheme: SchemeVersion, origin: str, at: datetime) -> IncentiveScheme:
    return IncentiveScheme(
        name=scheme.name,
        version=scheme.version,
        title_id=scheme.title.id,
        title_en=scheme.title.en,
        valid_from=scheme.valid_from,
        valid_to=scheme.valid_to,
        source=scheme.source,
        definition=scheme.definition.model_dump(mode="json", exclude_none=True),
        origin=origin,
        loaded_at=at,
    )


def add_scheme_version(
    session: Session, actor: Actor, scheme: SchemeVersion, *, origin: str = "imported"
) -> bool:
    """Store a scheme version. Returns False when the identical version is already stored
    (a re-import); CONFLICT when the same name and version exist with different content."""
    existing = session.get(IncentiveScheme, (scheme.name, scheme.version))
    row = _row(scheme, origin, now_utc())
    if existing is not None:
        if _content(existing) == _content(row):
            return False
        raise conflict(
            t(
                f"Skema {scheme.name} versi {scheme.version} sudah ada dengan isi berbeda; "
                "tambahkan versi baru",
                f"Scheme {scheme.name} version {scheme.version} already exists with different "
                "content; add a new version",
            ),
            code="scheme-version-exists",
        )
    session.add(row)
    record_audit(
        session,
        actor,
        "incentives.scheme.add",
        "incentive_scheme",
        f"{scheme.name}@{scheme.version}",
        after={"origin": origin, **_content(row)},
    )
    return True


def _content(row: IncentiveScheme) -> dict[str, object]:
    return {
        "name": row.name,
        "version": row.version,
        "title_id": row.title_id,
        "title_en": row.title_en,
        "valid_from": row.valid_from.isoformat(),
        "valid_to": None if row.valid_to is None else row.valid_to.isoformat(),
        "source": row.source,
        "definition": json.dumps(row.definition, sort_keys=True),
    }

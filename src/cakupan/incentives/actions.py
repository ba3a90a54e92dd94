"""Writes of the incentives area: adding a scheme version, the monthly run that stores the
statements, and the statement workflow (validate -> write -> audit)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Table, delete, insert, select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor, Role
from cakupan.dates import Clock, Month
from cakupan.db import now_utc
from cakupan.errors import CakupanError, FieldProblem, conflict, forbidden, invalid, not_found
from cakupan.i18n import t
from cakupan.incentives.definition import SchemeVersion
from cakupan.incentives.models import IncentiveLine, IncentiveScheme, IncentiveStatement
from cakupan.incentives.rules import Line, payable


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


# -- the monthly run and the statement workflow -----------------------------------------------------


@dataclass(frozen=True)
class RunResult:
    """The statements of a period after a run; ``unchanged_closed`` lists the closed statements
    whose recomputation now differs (they were kept as approved/paid; the difference is for the
    next period's adjustment)."""

    period: Month
    statements: list[dict[str, Any]]
    unchanged_closed: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"period": str(self.period), "statements": self.statements}
        if self.unchanged_closed:
            out["closed_statements_differ"] = self.unchanged_closed
        return out


def _stored_json(row: IncentiveStatement, lines: list[IncentiveLine]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "partner_code": row.partner_code,
        "scheme": row.scheme_name,
        "scheme_version": row.scheme_version,
        "status": row.status,
        "total": row.total,
        "payable": payable(row.total),
        "lines": [
            Line(line.nik, line.kind, line.amount, line.reference).as_json()
            for line in sorted(lines, key=lambda item: item.position)
        ],
    }
    if row.fees is not None:
        out["fees"] = dict(row.fees)
    return out


def run_period(session: Session, actor: Actor, clock: Clock, period: Month) -> RunResult:
    """Compute every statement of ``period`` and store those with lines or fees (an empty
    statement is printed, not stored). Idempotent: draft statements are
    replaced by the recomputation (the same ledger gives the same statements); approved, paid or
    disputed statements are never changed (a difference is reported, not applied). Set-based
    writes (delete the period's drafts, insert the new ones and their lines in bulk); one audit
    row per run."""
    from cakupan.incentives.engine import compute_period

    computed = compute_period(session, period)
    statement_table: Table = IncentiveStatement.__table__  # type: ignore[assignment]
    line_table: Table = IncentiveLine.__table__  # type: ignore[assignment]
    closed: dict[tuple[str, str], IncentiveStatement] = {
        (row.partner_code, row.scheme_name): row
        for row in session.scalars(
            select(IncentiveStatement).where(
                IncentiveStatement.period == period, IncentiveStatement.status != "draft"
            )
        )
    }
    closed_lines: dict[int, list[IncentiveLine]] = {}
    if closed:
        for line in session.scalars(
            select(IncentiveLine).where(
                IncentiveLine.statement_id.in_([row.id for row in closed.values()])
            )
        ):
            closed_lines.setdefault(line.statement_id, []).append(line)
    drafts = select(statement_table.c.id).where(
        statement_table.c.period == period, statement_table.c.status == "draft"
    )
    session.execute(delete(line_table).where(line_table.c.statement_id.in_(drafts)))
    session.execute(
        delete(statement_table).where(
            statement_table.c.period == period, statement_table.c.status == "draft"
        )
    )
    now = clock.now()
    out: list[dict[str, Any]] = []
    differ: list[dict[str, Any]] = []
    new_rows: list[dict[str, Any]] = []
    new_lines: dict[tuple[str, str], list[Line]] = {}
    for statement in computed:
        key = (statement.partner_code, statement.scheme)
        row = closed.pop(key, None)
        if row is not None:
            kept = _stored_json(row, closed_lines.get(row.id, []))
            if kept != {**statement.as_json(), "status": row.status}:
                differ.append(
                    {
                        "partner_code": row.partner_code,
                        "scheme": row.scheme_name,
                        "status": row.status,
                        "stored_total": row.total,
                        "recomputed_total": statement.total,
                    }
                )
            out.append(kept)
            continue
        out.append({**statement.as_json(), "status": "draft"})
        if not statement.lines and statement.fees is None:
            continue  # nothing to pay or report: printed, not stored
        new_rows.append(
            {
                "period": period,
                "partner_code": statement.partner_code,
                "scheme_name": statement.scheme,
                "scheme_version": statement.scheme_version,
                "status": "draft",
                "total": statement.total,
                "fees": statement.fees,
                "computed_at": now,
                "status_changed_by": None,
                "status_changed_at": None,
                "status_reason": None,
            }
        )
        if statement.lines:
            new_lines[key] = statement.lines
    # Closed statements the ledger no longer produces stay as they are.
    out += [_stored_json(row, closed_lines.get(row.id, [])) for row in closed.values()]
    if new_rows:
        session.execute(insert(statement_table), new_rows)
    if new_lines:
        ids = {
            (code, scheme): statement_id
            for statement_id, code, scheme in session.execute(
                select(
                    statement_table.c.id,
                    statement_table.c.partner_code,
                    statement_table.c.scheme_name,
                ).where(statement_table.c.period == period, statement_table.c.status == "draft")
            )
        }
        session.execute(
            insert(line_table),
            [
                {
                    "statement_id": ids[key],
                    "position": position,
                    "nik": line.nik,
                    "kind": line.kind,
                    "amount": line.amount,
                    "reference": line.reference,
                }
                for key, lines in new_lines.items()
                for position, line in enumerate(lines)
            ],
        )
    out.sort(key=lambda item: (item["partner_code"], item["scheme"]))
    record_audit(
        session,
        actor,
        "incentives.run",
        "incentive_period",
        str(period),
        after={
            "statements": len(out),
            "total": sum(int(item["total"]) for item in out),
            "closed_statements_differ": len(differ),
        },
        at=now,
    )
    return RunResult(period, out, differ)


#: Statement workflow: which status may follow which.
STATEMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"approved", "disputed"}),
    "approved": frozenset({"paid", "disputed"}),
    "disputed": frozenset({"draft", "approved"}),
    "paid": frozenset(),
}
_APPROVERS = frozenset({Role.KABID, Role.ADMIN, Role.HEAD_OFFICE, Role.SYSTEM})
#: Who may move a statement to each status: approval, payment and re-opening are the head of
#: membership's (or a national role's); a dispute may also come from the partner or agent whose
#: statement it is (within its own scope).
STATUS_ROLES: dict[str, frozenset[Role]] = {
    "approved": _APPROVERS,
    "paid": _APPROVERS,
    "draft": _APPROVERS,
    "disputed": _APPROVERS | {Role.PARTNER, Role.AGENT},
}
APPROVED_EVENT = "incentive_statement.approved"


def may_set_status(actor: Actor, new_status: str) -> bool:
    """Whether ``actor``'s role may move a statement it can read to ``new_status``."""
    return actor.role in STATUS_ROLES.get(new_status, frozenset())


def _approved_events(session: Session, row: IncentiveStatement, at: datetime) -> list[Any]:
    """``incentive_statement.approved`` for the statement's partner and, for an agent's
    statement, the partner it works under (one event each)."""
    from cakupan.integration.events import Event
    from cakupan.partners.models import Partner

    payload = {
        "statement_id": row.id,
        "period": str(row.period),
        "partner_code": row.partner_code,
        "scheme": row.scheme_name,
        "scheme_version": row.scheme_version,
        "total": row.total,
        "approved_at": at.isoformat(),
    }
    parent = session.scalar(select(Partner.parent_code).where(Partner.code == row.partner_code))
    codes = [row.partner_code] + ([parent] if parent and parent != row.partner_code else [])
    return [Event(code, APPROVED_EVENT, payload) for code in codes]


def set_statement_status(
    session: Session,
    actor: Actor,
    clock: Clock,
    period: Month,
    partner_code: str,
    scheme: str,
    new_status: str,
    *,
    reason: str | None = None,
) -> IncentiveStatement:
    """Move a statement along draft -> approved (by the head of membership) -> paid; a dispute
    (with a reason) from draft or approved; a disputed statement goes back to draft (recomputed
    by the next run) or is approved as it stands."""
    row = session.scalar(
        select(IncentiveStatement).where(
            IncentiveStatement.period == period,
            IncentiveStatement.partner_code == partner_code,
            IncentiveStatement.scheme_name == scheme,
        )
    )
    if row is None:
        raise not_found(
            t(
                f"Tidak ada laporan insentif {partner_code} ({scheme}) untuk {period}; jalankan dulu `cakupan incentives run`",
                f"No incentive statement for {partner_code} ({scheme}) in {period}; run `cakupan incentives run` first",
            ),
            code="statement-not-found",
        )
    if not actor.sees_everything:
        from cakupan.incentives.queries import visible_partners_query
        from cakupan.partners.models import Partner

        scope = visible_partners_query(session, actor)
        if session.scalar(scope.where(Partner.code == row.partner_code)) is None:
            raise not_found(
                t(
                    f"Tidak ada laporan insentif {partner_code} ({scheme}) untuk {period}",
                    f"No incentive statement for {partner_code} ({scheme}) in {period}",
                ),
                code="statement-not-found",
            )
    if new_status == "approved" and actor.role not in _APPROVERS:
        raise forbidden(
            t(
                "Hanya Kepala Bidang Kepesertaan yang dapat menyetujui laporan insentif",
                "Only the head of membership can approve an incentive statement",
            )
        )
    if not may_set_status(actor, new_status):
        raise forbidden(
            t(
                "Peran Anda tidak dapat mengubah status laporan insentif ini",
                "Your role cannot change the status of this incentive statement",
            )
        )
    if new_status not in STATEMENT_TRANSITIONS.get(row.status, frozenset()):
        raise conflict(
            t(
                f"Laporan berstatus {row.status} tidak dapat menjadi {new_status}",
                f"A {row.status} statement cannot become {new_status}",
            ),
            code="statement-status",
        )
    if new_status == "disputed" and not (reason and reason.strip()):
        raise invalid("reason", t("alasan sengketa wajib diisi", "a dispute needs a reason"))
    before = {"status": row.status}
    row.status = new_status
    row.status_changed_by = actor.name
    row.status_changed_at = clock.now()
    row.status_reason = reason.strip() if reason else None
    record_audit(
        session,
        actor,
        f"incentives.statement.{new_status}",
        "incentive_statement",
        row.id,
        before=before,
        after={
            "status": new_status,
            "reason": row.status_reason,
            "period": str(period),
            "partner_code": partner_code,
            "scheme": scheme,
            "total": row.total,
        },
        at=clock.now(),
    )
    if new_status == "approved":
        from cakupan.integration.events import enqueue

        enqueue(session, _approved_events(session, row, clock.now()), clock.now())
    return row

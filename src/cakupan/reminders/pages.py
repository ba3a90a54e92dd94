"""Pages of the reminders: the experiments' list and one experiment's report, and the staff's
opt-out and consent buttons on a participant's page (the reminders section of that page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor, Role
from cakupan.dashboard.queries import participant_row_scope
from cakupan.db import transaction
from cakupan.errors import forbidden, not_found
from cakupan.i18n import t
from cakupan.registry.models import Participant
from cakupan.reminders import actions
from cakupan.reminders.experiments import experiment_report
from cakupan.reminders.models import Experiment
from cakupan.web.deps import AppClock, CsrfProtected, DbSession, PageActor, PageUser, RowId
from cakupan.web.templating import render

router = APIRouter()

EXPERIMENT_READERS = frozenset({Role.ADMIN, Role.HEAD_OFFICE, Role.AUDITOR})


def _require(role: Role) -> None:
    if role not in EXPERIMENT_READERS:
        raise forbidden(
            t(
                "Halaman ini tidak tersedia untuk peran Anda",
                "This page is not available to your role",
            )
        )


@router.get("/experiments")
def experiments_list(request: Request, db: DbSession, user: PageUser, actor: PageActor) -> Response:
    _require(actor.role)
    found = list(db.scalars(select(Experiment).order_by(Experiment.starts_on.desc())))
    return render(request, "experiments.html", {"user": user, "experiments": found})


@router.get("/experiments/{experiment_id}")
def experiment_page(
    request: Request,
    experiment_id: RowId,
    db: DbSession,
    clock: AppClock,
    user: PageUser,
    actor: PageActor,
) -> Response:
    _require(actor.role)
    report = experiment_report(db, experiment_id, clock)
    return render(request, "experiment_report.html", {"user": user, "report": report})


def _participant_nik(session: Session, actor: Actor, participant_id: int) -> str:
    if actor.role not in actions.STAFF_ROLES:
        raise forbidden()
    nik = session.scalar(
        select(Participant.nik).where(
            Participant.id == participant_id, participant_row_scope(session, actor)
        )
    )
    if nik is None:
        raise not_found(
            t(
                f"Peserta {participant_id} tidak ditemukan",
                f"Participant {participant_id} not found",
            ),
            code="participant-not-found",
        )
    return nik


@router.post("/participants/{participant_id}/reminders/opt-out", dependencies=[CsrfProtected])
def participant_opt_out(
    request: Request, participant_id: RowId, actor: PageActor, clock: AppClock
) -> Response:
    """Staff record that the participant wants no more reminders (queued ones are cancelled;
    audited), then back to the participant's page."""
    with transaction(request.app.state.engine) as session:
        nik = _participant_nik(session, actor, participant_id)
        actions.opt_out(session, actor, clock, nik, source="staff")
    return RedirectResponse(
        f"/participants/{participant_id}?reminders=opted-out#reminders", status_code=303
    )


@router.post("/participants/{participant_id}/reminders/consent", dependencies=[CsrfProtected])
def participant_consent(
    request: Request,
    participant_id: RowId,
    actor: PageActor,
    clock: AppClock,
    channel: Annotated[str, Form()] = "",
) -> Response:
    """Staff record the participant's consent (and channel); lifts an opt-out (audited)."""
    with transaction(request.app.state.engine) as session:
        nik = _participant_nik(session, actor, participant_id)
        actions.record_consent(session, actor, clock, nik, channel=channel or None, source="staff")
    return RedirectResponse(
        f"/participants/{participant_id}?reminders=consent#reminders", status_code=303
    )

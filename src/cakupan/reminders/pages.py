"""Pages of the reminder experiments: the list and one experiment's report."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from cakupan.auth import Role
from cakupan.errors import forbidden
from cakupan.i18n import t
from cakupan.reminders.experiments import experiment_report
from cakupan.reminders.models import Experiment
from cakupan.web.deps import AppClock, DbSession, PageActor, PageUser, RowId
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

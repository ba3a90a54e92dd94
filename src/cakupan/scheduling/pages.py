"""The admin page of the scheduled jobs: each job's schedule and last run, the recent runs
(start, end, outcome, counts, error)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from cakupan.auth import Role
from cakupan.errors import forbidden
from cakupan.i18n import t
from cakupan.scheduling.queries import job_overview, recent_runs, run_as_json
from cakupan.web.deps import DbSession, PageActor, PageUser
from cakupan.web.templating import render

router = APIRouter()

JOB_READERS = frozenset({Role.ADMIN, Role.AUDITOR})


@router.get("/admin/jobs")
def jobs_page(request: Request, db: DbSession, user: PageUser, actor: PageActor) -> Response:
    if actor.role not in JOB_READERS:
        raise forbidden(
            t(
                "Halaman ini tidak tersedia untuk peran Anda",
                "This page is not available to your role",
            )
        )
    return render(
        request,
        "jobs.html",
        {
            "user": user,
            "jobs": job_overview(db),
            "runs": [run_as_json(r) for r in recent_runs(db, 100)],
        },
    )

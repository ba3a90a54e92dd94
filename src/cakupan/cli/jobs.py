"""``cakupan worker`` and ``cakupan jobs list|run``: the scheduled jobs (thin over
``cakupan.scheduling``)."""

from __future__ import annotations

import contextlib
import logging
from typing import Annotated

import typer

from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.dates import SystemClock
from cakupan.db import make_session_factory
from cakupan.scheduling import JobContext
from cakupan.scheduling.jobs import run_named
from cakupan.scheduling.queries import job_overview, recent_runs, run_as_json
from cakupan.scheduling.worker import build_scheduler, catch_up

app = typer.Typer(help="Pekerjaan terjadwal / scheduled jobs.", no_args_is_help=True)


def worker(database_url: DatabaseUrlOption = None) -> None:
    """Jalankan pekerja terjadwal / run the scheduled worker (close, incentives, reminders,
    webhooks, refresh, snapshot) until interrupted; it catches up what was missed first."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    engine = open_engine(database_url)
    ctx = JobContext(engine=engine, clock=SystemClock())
    console.print("cakupan worker: catch-up round... (Ctrl+C untuk berhenti / to stop)")
    for report in catch_up(ctx):
        console.print(f"  {report['job']:<11} {report['period'] or '':<14} {report['outcome']}")
    scheduler = build_scheduler(ctx, blocking=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        scheduler.start()


@app.command("list")
def jobs_list(
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
    limit: Annotated[int, typer.Option("--limit", help="Recent runs shown.", min=1)] = 30,
) -> None:
    """Every job, its schedule and its last run; then the recent runs."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        overview = job_overview(session)
        runs = [run_as_json(r) for r in recent_runs(session, limit)]
    if as_json:
        print_json({"jobs": overview, "runs": runs})
        return
    for job in overview:
        last = job["last_run"]
        state = f"{last['outcome']} {last['period'] or ''} {last['started_at']}" if last else "-"
        console.print(f"{job['name']:<11} {job['schedule']:<40} {state}", markup=False)
    console.print("")
    for run in runs:
        console.print(
            f"#{run['id']:<6} {run['job']:<11} {run['period'] or '':<14} {run['outcome']:<11} "
            f"{run['started_at']}  {run['counts']}" + (f"  {run['error']}" if run["error"] else ""),
            markup=False,
            highlight=False,
        )


@app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="Job name (see `cakupan jobs list`).")],
    period: Annotated[
        str | None,
        typer.Option(
            "--period",
            help="Period to run for (month YYYY-MM, day YYYY-MM-DD...).",
            show_default=False,
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run one job now (a period already done is skipped: nothing runs twice)."""
    engine = open_engine(database_url)
    report = run_named(JobContext(engine=engine, clock=SystemClock()), name, period)
    if as_json:
        print_json(report.as_json())
    else:
        console.print(
            f"{report.job} {report.period or ''}: {report.outcome} {report.counts}"
            + (f" {report.error}" if report.error else ""),
            markup=False,
        )
    if report.outcome == "failed":
        raise typer.Exit(3)

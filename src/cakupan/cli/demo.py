"""``cakupan demo``: prepare the embedded database, create demo users for every role, print the
URL and the logins, and serve the web application (``--no-serve`` stops after printing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from platformdirs import user_data_dir
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from cakupan.analytics import take_snapshot
from cakupan.analytics.snapshot import SNAPSHOT_VERSION, snapshot_version
from cakupan.auth import Actor
from cakupan.bundling.demo import seed_demo_offers
from cakupan.cli.common import DatabaseUrlOption, console, open_engine
from cakupan.cli.serve import HostOption, PortOption, run_web
from cakupan.dates import SystemClock, today
from cakupan.db import make_session_factory
from cakupan.integration.sandbox import print_sandbox
from cakupan.money import format_number, format_rupiah
from cakupan.partners.models import Partner
from cakupan.regions.models import Branch
from cakupan.registry.models import Participant, Payment
from cakupan.reminders.demo import seed_demo_experiment
from cakupan.retention.demo import seed_demo_retention
from cakupan.synthetic.seed import seed as seed_synthetic
from cakupan.synthetic.seed import seed_demo_targets
from cakupan.targets.actions import import_figures
from cakupan.targets.examples import EXAMPLE_FILES
from cakupan.users.demo import ensure_demo_users, logins_path


def demo(
    database_url: DatabaseUrlOption = None,
    no_serve: Annotated[
        bool,
        typer.Option(
            "--no-serve",
            "--summary-only",
            help="Prepare the database and print the logins, then exit (for CI and scripts).",
        ),
    ] = False,
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    participants: Annotated[
        int, typer.Option("--participants", help="Synthetic participants to seed.", min=0)
    ] = 30_000,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the synthetic data.")] = 7,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Jalankan pekerja terjadwal di proses yang sama / run the scheduled worker "
            "beside the server (one Ctrl+C stops both).",
        ),
    ] = True,
) -> None:
    """Prepare the demo database (schema, reference data, demo users for every role), print the
    URL and the demo logins, then serve the web application."""
    engine = open_engine(database_url)
    _seed_demo_data(engine, participants, seed)
    data_dir = _data_dir(engine)
    snapshot = _analytics_snapshot(engine, data_dir)
    users = ensure_demo_users(engine, data_dir)
    for line in seed_demo_retention(engine):
        console.print(line, markup=False)
    _seed_demo_areas(engine, users.logins)
    with make_session_factory(engine)() as session:
        _print_summary(session)
    console.print(f"Database: {engine.url.render_as_string(hide_password=True)}", markup=False)
    url = f"http://{host}:{port}/"
    console.print(f"\ncakupan: {url}", markup=False)
    console.print("Login demo / demo logins:", markup=False)
    for login in users.logins:
        console.print(
            f"  {login.username:<10} {login.password:<18} {login.role.value:<12} {login.scope}",
            markup=False,
        )
    for note in users.notes:
        console.print(f"  ({note})", markup=False)
    console.print(
        f"(kata sandi disimpan di / passwords kept in {logins_path(data_dir)})", markup=False
    )
    print_sandbox(engine, data_dir, url)
    if no_serve:
        return
    run_web(engine, host, port, analytics_snapshot=snapshot, with_worker=worker)


def _analytics_snapshot(engine: Engine, data_dir: Path) -> Path:
    """The national analytics page's snapshot (docs/analytics.md), taken once beside the demo
    data: ``cakupan analytics snapshot --out <dir>`` takes a newer one."""
    out = data_dir / "analytics" / "latest"
    if snapshot_version(out) != SNAPSHOT_VERSION:  # none yet, or one an older version wrote
        console.print("Snapshot analitik nasional / national analytics snapshot...", markup=False)
        take_snapshot(
            engine, Actor.system(), out, as_of=today(SystemClock()), taken_at=SystemClock().now()
        )
    return out


def _seed_demo_data(engine: Engine, participants: int, seed: int) -> None:
    """Seed synthetic data once: a database that already holds participants is left as it is."""
    with make_session_factory(engine)() as session:
        existing = session.execute(select(func.count()).select_from(Participant)).scalar_one()
    if existing:
        console.print(
            f"Data sudah ada / data already there: {format_number(existing)} peserta/participants",
            markup=False,
        )
        return
    console.print(
        f"Membuat data sintetis / seeding synthetic data: {format_number(participants)} "
        "peserta/participants...",
        markup=False,
    )
    summary = seed_synthetic(engine, participants=participants, seed_value=seed)
    seed_demo_targets(engine, today(SystemClock()).year)
    seed_demo_offers(engine)  # one bundling offer per partner kind (docs/bundling.md)
    _seed_demo_claims(engine)
    seed_demo_experiment(engine, SystemClock())
    for (
        path
    ) in EXAMPLE_FILES:  # Palembang 2016-2020 (with the paper's conflicts), Madiun, Bandar Lampung
        import_figures(engine, Actor.system(), path)
    console.print(
        f"  mitra/partners {format_number(summary.partners)}, peserta/participants "
        f"{format_number(summary.participants)}, pembayaran/payments {format_number(summary.payments)}, "
        f"tutup bulan/months closed {len(summary.closed_months)}",
        markup=False,
    )


def _seed_demo_claims(engine: Engine) -> None:
    """A few claims of each type in each workflow state (claims area)."""
    from cakupan.claims.demo import seed_demo_claims

    created = seed_demo_claims(engine, today(SystemClock()))
    console.print(f"  klaim/claims {format_number(created)}", markup=False)


def _seed_demo_areas(engine: Engine, logins: Any) -> None:
    """Statements, campaigns with prospects, a weekly review, account assignments (once)."""
    from cakupan.auth import Role
    from cakupan.synthetic.areas import seed_demo_areas

    officers = {
        login.username: login.role.value for login in logins if login.role in {Role.AR, Role.ARK}
    }
    seed_demo_areas(engine, SystemClock(), officers=officers)


def _data_dir(engine: Engine) -> Path:
    """Where demo passwords are kept: beside a SQLite file, else the user data directory."""
    url = make_url(engine.url.render_as_string(hide_password=False))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().resolve().parent
    return Path(user_data_dir("cakupan", appauthor=False))


def _print_summary(session: Session) -> None:
    counts = {
        "Kantor cabang / branches": select(func.count()).select_from(Branch),
        "Mitra & agen / partners & agents": select(func.count()).select_from(Partner),
        "Peserta / participants": select(func.count()).select_from(Participant),
        "Pembayaran / payments": select(func.count()).select_from(Payment),
        "Iuran diterima / contributions received": select(
            func.coalesce(func.sum(Payment.amount), 0)
        ),
    }
    for label, query in counts.items():
        value = session.execute(query).scalar_one()
        shown = format_rupiah(value) if "Iuran" in label else format_number(value)
        console.print(f"  {label:<42} {shown:>18}", markup=False)

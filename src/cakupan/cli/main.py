"""The ``cakupan`` command."""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from platformdirs import user_log_dir

from cakupan.cli import accounts as accounts_cli
from cakupan.cli import analytics as analytics_cli
from cakupan.cli import bundling as bundling_cli
from cakupan.cli import campaigns as campaigns_cli
from cakupan.cli import claims as claims_cli
from cakupan.cli import close as close_cli
from cakupan.cli import contribution as contribution_cli
from cakupan.cli import db as db_cli
from cakupan.cli import demo as demo_cli
from cakupan.cli import experiments as experiments_cli
from cakupan.cli import imports as imports_cli  # noqa: F401  (adds the import commands)
from cakupan.cli import incentives as incentives_cli
from cakupan.cli import jobs as jobs_cli
from cakupan.cli import kpi as kpi_cli
from cakupan.cli import nik as nik_cli
from cakupan.cli import partners as partners_cli
from cakupan.cli import regions as regions_cli
from cakupan.cli import registry as registry_cli
from cakupan.cli import reminders as reminders_cli
from cakupan.cli import retention as retention_cli
from cakupan.cli import seed as seed_cli
from cakupan.cli import serve as serve_cli
from cakupan.cli import targets as targets_cli
from cakupan.cli import users as users_cli
from cakupan.cli import webhooks as webhooks_cli
from cakupan.cli.common import GLOBAL, err_console
from cakupan.errors import CakupanError
from cakupan.i18n import LANGS, Lang, set_lang
from cakupan.web.log_redaction import install_redaction, redact

app = typer.Typer(
    name="cakupan",
    help="cakupan: registri, buku besar iuran dan dasbor BPU / BPU registry, ledger and dashboard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(db_cli.app, name="db")
app.add_typer(partners_cli.app, name="partners")
app.add_typer(incentives_cli.app, name="incentives")
app.add_typer(contribution_cli.app, name="contribution")
app.command("demo")(demo_cli.demo)
app.add_typer(regions_cli.offices_app, name="offices")
app.add_typer(regions_cli.regions_app, name="regions")
app.add_typer(nik_cli.app, name="nik")
app.add_typer(registry_cli.participants_app, name="participants")
app.add_typer(registry_cli.payments_app, name="payments")
app.command("status")(registry_cli.status)
app.command("close")(close_cli.close)
app.add_typer(kpi_cli.app, name="kpi")
app.add_typer(analytics_cli.app, name="analytics")
app.add_typer(accounts_cli.app, name="accounts")
app.add_typer(users_cli.app, name="users")
app.add_typer(targets_cli.targets_app, name="targets")
app.add_typer(targets_cli.plans_app, name="plans")
app.add_typer(targets_cli.reviews_app, name="reviews")
app.command("serve")(serve_cli.serve)
app.command("seed")(seed_cli.seed)
app.add_typer(campaigns_cli.segments_app, name="segments")
app.add_typer(campaigns_cli.targeting_app, name="targeting")
app.add_typer(campaigns_cli.prospects_app, name="prospects")
app.add_typer(campaigns_cli.campaigns_app, name="campaigns")
app.add_typer(webhooks_cli.app, name="webhooks")
app.add_typer(retention_cli.app, name="retention")
app.add_typer(bundling_cli.app, name="offers")
app.add_typer(claims_cli.app, name="claims")
app.add_typer(jobs_cli.app, name="jobs")
app.command("worker")(jobs_cli.worker)
app.add_typer(reminders_cli.app, name="reminders")
app.add_typer(experiments_cli.app, name="experiments")


@app.callback()
def _global(
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", help="SQLAlchemy database URL for every command.", show_default=False
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Message language: id (default) or en.", show_default=False),
    ] = None,
) -> None:
    GLOBAL.database_url = database_url
    if lang is not None:
        if lang not in LANGS:
            err_console.print(f"--lang: expected one of {', '.join(LANGS)}, got {lang!r}")
            raise typer.Exit(2)
        selected: Lang = "en" if lang == "en" else "id"
        set_lang(selected)


def main() -> None:
    """Entry point. A :class:`CakupanError` becomes its message and exit code; anything unexpected
    becomes a short message and exit code 3 (details go to a log file, never a stack trace)."""
    import click
    from typer.exceptions import TyperException

    install_redaction()  # warnings printed by logging's last-resort handler are masked too
    try:
        result = app(standalone_mode=False)
    except CakupanError as error:
        err_console.print(error.render(), markup=False, highlight=False)
        sys.exit(error.kind.exit_code)
    except (typer.Exit, click.exceptions.Exit) as exit_:
        sys.exit(exit_.exit_code)
    except (typer.Abort, click.exceptions.Abort):
        err_console.print("Dibatalkan / aborted")
        sys.exit(130)
    except (TyperException, click.exceptions.ClickException) as exc:
        # Usage errors (missing argument, bad option): Typer's own message, exit code 2.
        exc.show()  # type: ignore[union-attr]
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # the last line of defence: no stack trace to a user
        log = _write_crash_log()
        err_console.print(
            f"Terjadi kesalahan tak terduga / unexpected error: {type(exc).__name__}: "
            f"{redact(str(exc))}\nRincian teknis / technical details: {log}",
            markup=False,
        )
        sys.exit(3)
    sys.exit(result if isinstance(result, int) else 0)


def _write_crash_log() -> Path:
    folder = Path(user_log_dir("cakupan", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "crash.log"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(redact(traceback.format_exc()) + "\n")  # no NIK in the crash log
    logging.getLogger("cakupan").debug("crash logged to %s", path)
    return path


if __name__ == "__main__":  # pragma: no cover
    main()

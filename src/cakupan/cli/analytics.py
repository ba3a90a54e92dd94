"""``cakupan analytics``: national analytics on a columnar snapshot (thin over
``cakupan.analytics``; see docs/analytics.md).

    cakupan analytics snapshot --out DIR [--as-of YYYY-MM-DD]
    cakupan analytics national --snapshot DIR [--engine duckdb|spark] [--months 12] [--json]
    cakupan analytics synthetic-snapshot --participants N --out DIR [--as-of] [--seed] [--json]
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from cakupan.analytics import ENGINES, national_report, open_snapshot, take_snapshot
from cakupan.analytics.synthetic import synthetic_snapshot
from cakupan.auth import Actor
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    date_option,
    open_engine,
    print_json,
)
from cakupan.dates import SystemClock, today
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.money import format_number, format_rupiah
from cakupan.settings import get_settings

app = typer.Typer(
    help="Analitik nasional (DuckDB, Spark) / national analytics (DuckDB, Spark).",
    no_args_is_help=True,
)

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Tanggal YYYY-MM-DD (default hari ini, WIB) / date (default today, Jakarta).",
        show_default=False,
    ),
]


@app.command("snapshot")
def snapshot(
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Direktori tujuan / target directory (Parquet files + manifest.json; default "
            "CAKUPAN_ANALYTICS_SNAPSHOT, which the /analytics page reads).",
            show_default=False,
        ),
    ] = None,
    as_of: AsOfOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Salin buku besar ke Parquet tanpa data pribadi / copy the ledger to pseudonymous Parquet
    files for national analytics (audited)."""
    day = date_option(as_of, "--as-of") or today(SystemClock())
    engine = open_engine(database_url)
    out = out or get_settings().analytics_snapshot
    taken = take_snapshot(engine, Actor.system(), out, as_of=day, taken_at=SystemClock().now())
    if as_json:
        print_json(taken.as_json())
        return
    console.print(
        str(t("Snapshot per {d} di {p}", "Snapshot as of {d} in {p}")).format(
            d=day.isoformat(), p=str(out)
        )
    )
    for name, count in taken.rows.items():
        console.print(f"  {name}: {format_number(count)}")


@app.command("synthetic-snapshot")
def synthetic(
    out: Annotated[Path, typer.Option("--out", help="Direktori tujuan / target directory.")],
    participants: Annotated[
        int, typer.Option("--participants", help="Jumlah peserta / participants.")
    ] = 15_000_000,
    as_of: AsOfOption = None,
    seed: Annotated[int, typer.Option("--seed", help="Benih acak / random seed.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Snapshot SINTETIS berskala nasional untuk benchmark / a national-size SYNTHETIC snapshot
    for benchmarks, written straight to Parquet (no database; docs/analytics.md)."""
    if not 1 <= participants <= 100_000_000:
        raise invalid(
            "--participants",
            t(
                "diharapkan 1 sampai 100.000.000, diterima {v}",
                "expected 1 to 100,000,000, got {v}",
            ).format(v=participants),
        )
    day = date_option(as_of, "--as-of") or today(SystemClock())
    if out.exists() and any(out.iterdir()):
        if not (out / "manifest.json").is_file():
            raise invalid(
                "--out",
                t(
                    "diharapkan direktori kosong atau snapshot lama, diterima {p}",
                    "expected an empty directory or an earlier snapshot, got {p}",
                ).format(p=str(out)),
            )
        shutil.rmtree(out)
    started = time.perf_counter()
    made = synthetic_snapshot(participants, day, seed, out)
    if as_json:
        print_json({**made.as_json(), "seconds": round(time.perf_counter() - started, 1)})
        return
    console.print(
        str(t("Snapshot SINTETIS per {d} di {p}", "SYNTHETIC snapshot as of {d} in {p}")).format(
            d=day.isoformat(), p=str(out)
        )
    )
    for name, count in made.rows.items():
        console.print(f"  {name}: {format_number(count)}")


@app.command("national")
def national(
    snapshot_dir: Annotated[
        Path, typer.Option("--snapshot", help="Direktori snapshot / snapshot directory.")
    ],
    engine_name: Annotated[
        str,
        typer.Option("--engine", help="duckdb (tertanam / embedded) atau / or spark."),
    ] = "duckdb",
    months: Annotated[
        int, typer.Option("--months", help="Jumlah bulan lengkap / complete months.")
    ] = 12,
    as_of: AsOfOption = None,
    spark_master: Annotated[
        str, typer.Option("--spark-master", help="Spark master URL (default local[2]).")
    ] = "local[2]",
    as_json: JsonOption = False,
) -> None:
    """Laporan nasional per bulan, provinsi, cabang, kohort dan kabupaten / the national report
    by month, province, branch, cohort and regency."""
    if engine_name not in ENGINES:
        raise invalid(
            "--engine",
            t(
                "diharapkan salah satu dari {e}, diterima {v!r}", "expected one of {e}, got {v!r}"
            ).format(e=", ".join(ENGINES), v=engine_name),
        )
    if not 1 <= months <= 120:
        raise invalid(
            "--months",
            t("diharapkan 1 sampai 120, diterima {v}", "expected 1 to 120, got {v}").format(
                v=months
            ),
        )
    report = national_report(
        open_snapshot(snapshot_dir),
        engine="spark" if engine_name == "spark" else "duckdb",
        months=months,
        as_of=date_option(as_of, "--as-of"),
        spark_master=spark_master,
    )
    if as_json:
        print_json(report)
        return
    table = Table(
        title=str(t("Nasional ({e})", "National ({e})")).format(e=report["engine"]),
    )
    for header in (
        t("Bulan", "Month"),
        t("Registrasi baru", "New registrations"),
        t("Akuisisi ulang", "Re-acquired"),
        t("Aktif", "Active"),
        t("Pembayaran", "Payments"),
        t("Iuran", "Contributions"),
    ):
        table.add_column(str(header))
    for row in report["national"]:
        table.add_row(
            row["month"],
            format_number(row["new_registrations"]),
            format_number(row["reacquired_episodes"]),
            format_number(row["active_participants"]),
            format_number(row["payments"]),
            format_rupiah(row["contributions_collected"]),
        )
    console.print(table)

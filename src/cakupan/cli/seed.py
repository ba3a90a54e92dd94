"""``cakupan seed``: realistic synthetic BPU data (deterministic per seed)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    date_option,
    err_console,
    open_engine,
    print_json,
)
from cakupan.money import format_number
from cakupan.synthetic.seed import seed as run_seed


def seed(
    participants: Annotated[
        int, typer.Option("--participants", help="How many participants to generate.")
    ],
    seed_value: Annotated[
        int, typer.Option("--seed", help="Random seed: same seed, same data.")
    ] = 1,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Last day of activity, YYYY-MM-DD (default today)."),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="First registration day, YYYY-MM-DD (default a year before --as-of)."
        ),
    ] = None,
    no_close: Annotated[
        bool, typer.Option("--no-close", help="Do not run the monthly close of complete months.")
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fill the database with synthetic partners, participants and payments (see docs/synthetic-data.md).

    Everything goes through the same checks as imported files; running it again with the same
    seed and dates adds nothing.
    """
    as_of_date, start_date = date_option(as_of, "as_of"), date_option(start, "start")
    engine = open_engine(database_url)
    show = not as_json and err_console.is_terminal
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=not show,
    ) as progress:
        task = progress.add_task("Peserta / participants", total=participants)
        summary = run_seed(
            engine,
            participants=participants,
            seed_value=seed_value,
            as_of=as_of_date,
            start=start_date,
            close=not no_close,
            progress=lambda n: progress.advance(task, n),
        )
    if as_json:
        print_json(summary.as_json())
        return
    console.print(
        f"Mitra/partners {format_number(summary.partners)}, peserta/participants "
        f"{format_number(summary.participants)}, pembayaran/payments {format_number(summary.payments)}, "
        f"sudah ada/already there {format_number(summary.duplicates)}; "
        f"tutup bulan/months closed: {', '.join(summary.closed_months) or '-'}"
    )

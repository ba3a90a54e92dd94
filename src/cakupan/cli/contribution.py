"""``cakupan contribution ...``: price a month's contribution, print the band table, and manage
the dated contribution policies. Thin: parsing and printing; the rules live in
:mod:`cakupan.contributions`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, fail, open_engine, print_json
from cakupan.contributions import (
    Funding,
    PolicyBook,
    ProgramSet,
    Quote,
    Sector,
    load_policy_book,
    parse_funding,
    parse_income,
    parse_month,
    parse_programs,
    parse_sector,
)
from cakupan.contributions.actions import import_policies
from cakupan.contributions.rules import effective_records
from cakupan.dates import Month
from cakupan.db import make_session_factory, transaction
from cakupan.errors import CakupanError, FieldProblem
from cakupan.i18n import Text, t
from cakupan.money import format_number, format_rupiah

app = typer.Typer(
    help=(
        "Iuran BPU: hitung iuran sebulan, tabel pita, kebijakan bertanggal / BPU contributions: "
        "price a month, the band table, dated policies."
    ),
    invoke_without_command=True,
    no_args_is_help=False,
)
policies_app = typer.Typer(
    help="Kebijakan iuran bertanggal / dated contribution policies.",
    invoke_without_command=True,
)
app.add_typer(policies_app, name="policies")


@policies_app.callback()
def policies(ctx: typer.Context) -> None:
    """Kebijakan iuran bertanggal / dated contribution policies: list, import."""
    if ctx.invoked_subcommand is None:
        # Help on stdout and exit 0 (click's no_args_is_help would surface as an error).
        console.print(ctx.get_help(), markup=False, highlight=False)


SectorOption = Annotated[str, typer.Option("--sector", help="transport | other", show_default=True)]
FundingOption = Annotated[
    str, typer.Option("--funding", help="self | apbn | apbd", show_default=True)
]
MonthOption = Annotated[
    str | None, typer.Option("--month", help="Bulan iuran / contribution month, YYYY-MM.")
]

_T = TypeVar("_T")


def _collect(problems: list[FieldProblem], parse: Callable[[], _T]) -> _T | None:
    try:
        return parse()
    except CakupanError as error:
        problems.extend(error.problems)
        return None


def _required(problems: list[FieldProblem], name: str, value: str | None, expected: Text) -> str:
    if value is None or not value.strip():
        problems.append(
            FieldProblem(
                field=name,
                code="required",
                message=t(f"wajib diisi ({expected.id})", f"is required ({expected.en})"),
            )
        )
        return ""
    return value


def _refuse(problems: list[FieldProblem], as_json: bool) -> None:
    if problems:
        fail(
            CakupanError(title=t("Masukan tidak valid", "Invalid input"), problems=problems),
            as_json=as_json,
        )


def _load_book(database_url: str | None) -> PolicyBook:
    engine = open_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            return load_policy_book(session)
    finally:
        engine.dispose()


@app.callback()
def contribution(
    ctx: typer.Context,
    income: Annotated[
        str | None,
        typer.Option("--income", help="Penghasilan bulanan (rupiah) / monthly income (rupiah)."),
    ] = None,
    programs: Annotated[
        str | None, typer.Option("--programs", help="JKK,JKM atau/or JKK,JKM,JHT.")
    ] = None,
    month: MonthOption = None,
    sector: SectorOption = "other",
    funding: FundingOption = "self",
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Hitung iuran sebulan / price one month's contribution (base income, lines, total)."""
    if ctx.invoked_subcommand is not None:
        return
    problems: list[FieldProblem] = []
    income_text = _required(
        problems, "income", income, t("rupiah, mis. 1500000", "rupiah, e.g. 1500000")
    )
    programs_text = _required(
        problems, "programs", programs, t("JKK,JKM atau JKK,JKM,JHT", "JKK,JKM or JKK,JKM,JHT")
    )
    month_text = _required(problems, "month", month, t("YYYY-MM", "YYYY-MM"))
    the_income = _collect(problems, lambda: parse_income(income_text)) if income_text else None
    the_programs = (
        _collect(problems, lambda: parse_programs(programs_text)) if programs_text else None
    )
    the_month = _collect(problems, lambda: parse_month(month_text)) if month_text else None
    the_sector = _collect(problems, lambda: parse_sector(sector))
    the_funding = _collect(problems, lambda: parse_funding(funding))
    _refuse(problems, as_json)
    assert the_income is not None
    assert the_programs is not None
    assert the_month is not None
    assert the_sector is not None
    assert the_funding is not None

    book = _load_book(database_url)
    try:
        quote = book.quote(
            income=the_income,
            programs=the_programs,
            month=the_month,
            sector=the_sector,
            funding=the_funding,
        )
    except CakupanError as error:
        fail(error, as_json=as_json)
    if as_json:
        print_json(quote.as_dict())
        return
    _print_quote(quote, book)


def _print_quote(quote: Quote, book: PolicyBook) -> None:
    table_record = book.band_table(quote.month).record
    console.print(
        f"Iuran / contribution {quote.month}: penghasilan / income {format_rupiah(quote.income)}, "
        f"pita / band {quote.band} -> dasar upah / base income {format_rupiah(quote.base_income)}"
        f" ({table_record.source})"
    )
    console.print(
        f"Program {quote.programs.value}, sektor / sector {quote.sector.value}, "
        f"dana / funding {quote.funding.value}"
    )
    sources = {record.ref: record.source for record in book.effective}
    table = Table(show_header=True, header_style="bold")
    table.add_column("Program")
    table.add_column("Iuran / amount", justify="right")
    table.add_column("Kebijakan / policies")
    for line in quote.lines:
        table.add_row(
            line.program.value,
            format_rupiah(line.amount),
            "; ".join(f"{ref} ({sources.get(ref, '')})" for ref in line.policies),
        )
    table.add_row("Total", format_rupiah(quote.total), "", style="bold")
    console.print(table)


@app.command("table")
def band_table(
    month: MonthOption = None,
    sector: SectorOption = "other",
    funding: FundingOption = "self",
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Tabel 33 pita dengan iuran kedua paket program / the band table with both program sets."""
    problems: list[FieldProblem] = []
    month_text = _required(problems, "month", month, t("YYYY-MM", "YYYY-MM"))
    the_month = _collect(problems, lambda: parse_month(month_text)) if month_text else None
    the_sector = _collect(problems, lambda: parse_sector(sector))
    the_funding = _collect(problems, lambda: parse_funding(funding))
    _refuse(problems, as_json)
    assert the_month is not None
    assert the_sector is not None
    assert the_funding is not None

    book = _load_book(database_url)
    try:
        rows, policies = _band_rows(book, the_month, the_sector, the_funding)
        table_record = book.band_table(the_month).record
    except CakupanError as error:
        fail(error, as_json=as_json)
    if as_json:
        print_json(
            {
                "month": str(the_month),
                "sector": the_sector.value,
                "funding": the_funding.value,
                "bands": rows,
                "policies": policies,
            }
        )
        return
    table = Table(
        title=(
            f"Iuran BPU per pita penghasilan / BPU contributions by income band, rupiah: "
            f"{the_month}, sektor/sector {the_sector.value}, dana/funding {the_funding.value}"
        ),
        box=box.SIMPLE_HEAD,
        header_style="bold",
    )
    headings = (
        "#",
        "Penghasilan / income",
        "Dasar / base",
        "JKK",
        "JKM",
        "JHT",
        "JKK+JKM",
        "JKK+JKM+JHT",
    )
    for heading in headings:
        table.add_column(
            heading, justify="left" if heading.startswith("Peng") else "right", no_wrap=True
        )
    for row in rows:
        upper = row["income_to"]
        income_range = (
            f"{format_number(row['income_from'])} – {format_number(upper)}"
            if upper is not None
            else f">= {format_number(row['income_from'])}"
        )
        table.add_row(
            str(row["band"]),
            income_range,
            *(
                format_number(row[key])
                for key in (
                    "base_income",
                    "jkk",
                    "jkm",
                    "jht",
                    "total_jkk_jkm",
                    "total_jkk_jkm_jht",
                )
            ),
        )
    # A printable page is wider than a default terminal: never squeeze the amounts.
    Console(width=max(console.width, 110)).print(table)
    console.print(f"Sumber / sources: {table_record.source}; " + ", ".join(policies))


def _band_rows(
    book: PolicyBook, month: Month, sector: Sector, funding: Funding
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per band (amounts of both program sets) and the policies applied."""
    table = book.band_table(month)
    two = book.band_quotes(programs=ProgramSet.JKK_JKM, month=month, sector=sector, funding=funding)
    three = book.band_quotes(
        programs=ProgramSet.JKK_JKM_JHT, month=month, sector=sector, funding=funding
    )
    rows: list[dict[str, Any]] = []
    policies: set[str] = set()
    for index, (quote2, quote3) in enumerate(zip(two, three, strict=True)):
        amounts = {line.program.value: line.amount for line in quote3.lines}
        rows.append(
            {
                "band": index + 1,
                "income_from": table.lowers[index],
                "income_to": table.upper_of(index),
                "base_income": quote3.base_income,
                "jkk": amounts["JKK"],
                "jkm": amounts["JKM"],
                "jht": amounts["JHT"],
                "total_jkk_jkm": quote2.total,
                "total_jkk_jkm_jht": quote3.total,
            }
        )
        policies.update(ref for line in quote3.lines for ref in line.policies)
    return rows, sorted(policies)


@policies_app.command("list")
def list_policies(
    month: MonthOption = None,
    include_superseded: Annotated[
        bool,
        typer.Option("--all", help="Termasuk versi lama / include superseded versions."),
    ] = False,
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Daftar kebijakan iuran / list the contribution policies (in force in --month if given)."""
    problems: list[FieldProblem] = []
    the_month = _collect(problems, lambda: parse_month(month)) if month is not None else None
    _refuse(problems, as_json)
    book = _load_book(database_url)
    effective = {(r.code, r.version) for r in effective_records(book.records)}
    records = [
        r
        for r in book.records
        if (include_superseded or (r.code, r.version) in effective)
        and (the_month is None or ((r.code, r.version) in effective and r.in_force(the_month)))
    ]
    if as_json:
        print_json(
            {
                "month": None if the_month is None else str(the_month),
                "policies": [
                    {
                        **{k: v for k, v in r.as_dict().items() if k != "bands"},
                        "bands": len(r.bands) if r.bands else None,
                        "superseded": (r.code, r.version) not in effective,
                    }
                    for r in records
                ],
            }
        )
        return
    table = Table(box=box.SIMPLE_HEAD, header_style="bold")
    for heading in (
        "Kode / code",
        "v",
        "Jenis / kind",
        "Program",
        "Sektor",
        "Dana",
        "Berlaku / valid",
        "Nilai / value",
        "Sumber / source",
    ):
        table.add_column(heading, no_wrap=heading != "Sumber / source")
    for r in records:
        table.add_row(
            r.code + (" (superseded)" if (r.code, r.version) not in effective else ""),
            str(r.version),
            r.kind.value,
            r.program.value if r.program else "*",
            r.sector.value if r.sector else "*",
            r.funding.value if r.funding else "*",
            f"{r.valid_from}..{r.valid_to or ''}",
            r.describe_value(),
            r.source,
        )
    Console(width=max(console.width, 140)).print(table)


@policies_app.command("import")
def import_policy_file(
    file: Annotated[Path, typer.Argument(help="Berkas TOML kebijakan / policy TOML file.")],
    as_json: JsonOption = False,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Impor kebijakan baru dari berkas TOML (semua atau tidak sama sekali) / import policies."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        fail(
            CakupanError(
                title=t("Berkas tidak dapat dibaca", "The file cannot be read"),
                problems=[
                    FieldProblem(
                        field="file",
                        record=str(file),
                        message=t(f"{exc.strerror}", f"{exc.strerror}"),
                    )
                ],
            ),
            as_json=as_json,
        )
    engine = open_engine(database_url)
    try:
        with transaction(engine) as session:
            result = import_policies(session, Actor.system(), data, file_name=file.name)
    except CakupanError as error:
        fail(error, as_json=as_json)
    finally:
        engine.dispose()
    if as_json:
        print_json(result.as_dict())
        return
    console.print(
        f"{file.name}: {len(result.added)} kebijakan baru / new policies, "
        f"{len(result.unchanged)} sudah ada / already present"
    )
    for ref in result.added:
        console.print(f"  + {ref}")

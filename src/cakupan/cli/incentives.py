"""``cakupan incentives ...``: incentive schemes as data (list, show, import a version), the
monthly run and the statement workflow."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.dates import Month, SystemClock
from cakupan.db import make_session_factory, transaction
from cakupan.errors import invalid, not_found
from cakupan.i18n import current_lang, t
from cakupan.incentives import actions, queries
from cakupan.money import format_rupiah

app = typer.Typer(
    help="Insentif mitra dan agen / partner and agent incentives.", no_args_is_help=True
)
schemes_app = typer.Typer(help="Skema insentif / incentive schemes.", no_args_is_help=True)
statements_app = typer.Typer(
    help="Laporan insentif bulanan / monthly statements (approve, pay, dispute).",
    no_args_is_help=True,
)
app.add_typer(schemes_app, name="schemes")
app.add_typer(statements_app, name="statements")


@schemes_app.command("list")
def schemes_list(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """List every scheme version with its validity and source."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        found = queries.schemes(session)
    if as_json:
        print_json([s.as_dict() for s in found])
        return
    for s in found:
        title = s.title_en if current_lang() == "en" else s.title_id
        console.print(
            f"{s.name:<16} v{s.version:<3} {s.valid_from}..{s.valid_to or ''}  {title}",
            markup=False,
            highlight=False,
        )


@schemes_app.command("show")
def schemes_show(
    name: Annotated[str, typer.Argument(help="Scheme name, e.g. komunitas-2024.")],
    version: Annotated[
        int | None, typer.Option("--version", help="Default: the latest.", show_default=False)
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one scheme version's definition."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        if version is None:
            versions = queries.schemes(session, name)
            if not versions:
                queries.scheme_version(session, name, 1)  # raises NOT_FOUND
            record = versions[-1]
        else:
            record = queries.scheme_version(session, name, version)
    payload = record.as_dict()
    if as_json:
        print_json(payload)
        return
    import json

    console.print_json(json.dumps(payload, ensure_ascii=False))


@schemes_app.command("import")
def schemes_import(
    file: Annotated[
        Path, typer.Argument(help="A scheme version as JSON (see docs/incentives.md).")
    ],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a scheme version from a JSON file (validated). Re-importing the same file changes
    nothing; the same name and version with other content is refused."""
    if not file.is_file():
        raise invalid("file", t(f"berkas {file} tidak ditemukan", f"file {file} not found"))
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise invalid("file", t("berkas harus UTF-8", "the file must be UTF-8")) from None
    scheme = actions.parse_scheme_version(text, record=file.name)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        added = actions.add_scheme_version(session, Actor.system(), scheme)
    if as_json:
        print_json({"name": scheme.name, "version": scheme.version, "added": added})
    else:
        console.print(
            t(
                f"Skema {scheme.name} versi {scheme.version} "
                + ("ditambahkan" if added else "sudah ada (tidak berubah)"),
                f"Scheme {scheme.name} version {scheme.version} "
                + ("added" if added else "already present (unchanged)"),
            ).render()
        )


PeriodOption = Annotated[str, typer.Option("--period", help="The month (YYYY-MM).")]


def _period(text: str) -> Month:
    try:
        return Month.parse(text)
    except ValueError as error:
        raise invalid("period", t(str(error), str(error))) from None


@app.command("run")
def run(
    period: PeriodOption,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute every partner's and agent's statement for the period (idempotent: drafts are
    recomputed, approved and paid statements are never changed)."""
    month = _period(period)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        result = actions.run_period(session, Actor.system(), SystemClock(), month)
    if as_json:
        print_json(result.as_json())
        return
    for statement in result.statements:
        if not statement["lines"] and "fees" not in statement:
            continue
        console.print(
            f"{statement['partner_code']:<18} {statement['scheme']:<16} {statement['status']:<9} "
            f"{format_rupiah(statement['total']):>16}  ({len(statement['lines'])} "
            f"{t('baris', 'lines')})",
            markup=False,
            highlight=False,
        )
    total = sum(s["total"] for s in result.statements)
    console.print(f"{t('Jumlah', 'Total')} {result.period}: {format_rupiah(total)}")
    for item in result.unchanged_closed:
        console.print(
            t(
                f"Peringatan: laporan {item['partner_code']} ({item['scheme']}) sudah {item['status']}; "
                f"hitungan ulang {format_rupiah(item['recomputed_total'])} tidak diterapkan",
                f"Warning: statement {item['partner_code']} ({item['scheme']}) is {item['status']}; "
                f"the recomputed {format_rupiah(item['recomputed_total'])} was not applied",
            ).render(),
            markup=False,
        )


def _set_status(
    status: str,
    period: str,
    partner: str,
    scheme: str,
    reason: str | None,
    database_url: str | None,
    as_json: bool,
) -> None:
    month = _period(period)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        row = actions.set_statement_status(
            session, Actor.system(), SystemClock(), month, partner, scheme, status, reason=reason
        )
        payload = {
            "period": str(month),
            "partner_code": row.partner_code,
            "scheme": row.scheme_name,
            "status": row.status,
            "total": row.total,
            "reason": row.status_reason,
        }
    if as_json:
        print_json(payload)
    else:
        console.print(f"{partner} {scheme} {month}: {row.status}")


PartnerOption = Annotated[str, typer.Option("--partner", help="Partner or agent code.")]
SchemeOption = Annotated[str, typer.Option("--scheme", help="Scheme name.")]


@statements_app.command("approve")
def statements_approve(
    period: PeriodOption,
    partner: PartnerOption,
    scheme: SchemeOption,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Approve a draft statement (head of membership)."""
    _set_status("approved", period, partner, scheme, None, database_url, as_json)


@statements_app.command("pay")
def statements_pay(
    period: PeriodOption,
    partner: PartnerOption,
    scheme: SchemeOption,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Mark an approved statement as paid."""
    _set_status("paid", period, partner, scheme, None, database_url, as_json)


@statements_app.command("dispute")
def statements_dispute(
    period: PeriodOption,
    partner: PartnerOption,
    scheme: SchemeOption,
    reason: Annotated[str, typer.Option("--reason")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dispute a draft or approved statement, with a reason."""
    _set_status("disputed", period, partner, scheme, reason, database_url, as_json)


@statements_app.command("reopen")
def statements_reopen(
    period: PeriodOption,
    partner: PartnerOption,
    scheme: SchemeOption,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Return a disputed statement to draft (the next run recomputes it)."""
    _set_status("draft", period, partner, scheme, None, database_url, as_json)


@app.command("contest")
def contest(
    scheme: Annotated[str, typer.Option("--scheme", help="e.g. brilink-2024.")],
    first: Annotated[str, typer.Option("--from", help="First month (YYYY-MM).")],
    last: Annotated[str, typer.Option("--to", help="Last month (YYYY-MM).")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Contest rankings (D-6): participants registered whose first month is paid, ties by
    contributions collected; quarterly and full-period, national and regional."""
    from cakupan.incentives.contests import contest_results

    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        result = contest_results(session, scheme, _period(first), _period(last))
    if as_json:
        print_json(result)
        return
    for item in result["contests"]:
        console.print(f"[bold]{item['name']}[/bold] ({item['prize']})")
        for window in item["windows"]:
            for group in window["groups"]:
                winners = ", ".join(
                    f"{w['partner_code']} ({w['registrations_first_month_paid']}, "
                    f"{format_rupiah(w['contributions_collected'])})"
                    for w in group["winners"]
                )
                console.print(
                    f"  {window['window']} {group['scope']}: {winners or '-'}", markup=False
                )


@app.command("simulate")
def simulate(
    scheme_list: Annotated[
        str, typer.Option("--schemes", help="Comma-separated scheme names (name or name@version).")
    ],
    first: Annotated[
        str | None,
        typer.Option("--from", help="First registration month (YYYY-MM).", show_default=False),
    ] = None,
    last: Annotated[
        str | None,
        typer.Option("--to", help="Last registration month (YYYY-MM).", show_default=False),
    ] = None,
    commission_rate: Annotated[
        str | None,
        typer.Option(
            "--commission-rate",
            help="Rate for commission schemes (default: the scheme's minimum).",
            show_default=False,
        ),
    ] = None,
    threshold_registrations: Annotated[
        int | None, typer.Option("--threshold-registrations", show_default=False)
    ] = None,
    threshold_amount: Annotated[
        int | None, typer.Option("--threshold-amount", show_default=False)
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay the ledger under each scheme: cost, registrations, participants still paying at
    months 3, 6 and 12, cost per participant retained at months 6 and 12."""
    from decimal import Decimal, InvalidOperation

    from cakupan.incentives.definition import AgreementParameters
    from cakupan.incentives.simulator import simulate as run_simulation

    try:
        rate = Decimal(commission_rate) if commission_rate else None
    except InvalidOperation:
        raise invalid(
            "commission_rate", t("harus persentase desimal", "expected a decimal percentage")
        ) from None
    parameters = AgreementParameters(
        commission_rate_percent=rate,
        threshold_registrations=threshold_registrations,
        threshold_amount=threshold_amount,
    )
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        if first is None or last is None:
            from sqlalchemy import func, select

            from cakupan.registry.models import Membership

            low, high = session.execute(
                select(func.min(Membership.registered_on), func.max(Membership.registered_on))
            ).one()
            if low is None:
                raise invalid(
                    "from",
                    t(
                        "buku besar kosong; sebutkan --from dan --to",
                        "the ledger is empty; give --from and --to",
                    ),
                )
        start = _period(first) if first else Month.of(low)
        end = _period(last) if last else Month.of(high)
        result = run_simulation(
            session, [s for s in scheme_list.split(",") if s.strip()], start, end, parameters
        )
    if as_json:
        print_json(result)
        return
    console.print(f"{result['from']}..{result['to']}")
    for item in result["schemes"]:
        per6 = item["cost_per_retained_month_6"]
        per12 = item["cost_per_retained_month_12"]
        console.print(
            f"{item['scheme']:<16} {t('biaya', 'cost')} {format_rupiah(item['total_cost']):>16}  "
            f"{t('pendaftaran', 'registrations')} {item['registrations']}  "
            f"3/6/12: {item['still_paying_month_3']}/{item['still_paying_month_6']}/{item['still_paying_month_12']}  "
            f"{t('per peserta bertahan', 'per retained')} 6: {format_rupiah(per6) if per6 is not None else '-'}"
            f" 12: {format_rupiah(per12) if per12 is not None else '-'}",
            markup=False,
        )


@app.command("export")
def export(
    period: PeriodOption,
    partner: Annotated[str, typer.Option("--partner", help="Partner or agent code.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write: .xlsx or .pdf.")],
    scheme: Annotated[
        str | None,
        typer.Option("--scheme", help="When the partner has several.", show_default=False),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export a partner's statement of a period (run it first) as XLSX or PDF, in Bahasa
    Indonesia with rupiah formatting."""
    from cakupan.incentives.exports import write_pdf, write_xlsx
    from cakupan.partners.queries import get_partner

    month = _period(period)
    suffix = output.suffix.lower()
    if suffix not in {".xlsx", ".pdf"}:
        raise invalid("output", t("berkas harus .xlsx atau .pdf", "the file must be .xlsx or .pdf"))
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        info = get_partner(session, partner)
        found = queries.stored_statements(session, month, partner, scheme)
    if not found:
        raise not_found(
            t(
                f"Tidak ada laporan {partner} untuk {month}; jalankan `cakupan incentives run --period {month}`",
                f"No statement of {partner} for {month}; run `cakupan incentives run --period {month}`",
            ),
            code="statement-not-found",
        )
    if len(found) > 1:
        raise invalid(
            "scheme",
            t(
                "mitra ini mempunyai beberapa laporan; sebutkan --scheme ({s})",
                "this partner has several statements; give --scheme ({s})",
            ).format(s=", ".join(item["scheme"] for item in found)),
        )
    statement = found[0]
    (write_xlsx if suffix == ".xlsx" else write_pdf)(statement, str(month), info.name, output)
    if as_json:
        print_json({"file": str(output), **statement})
    else:
        console.print(f"{output}: {format_rupiah(statement['total'])}")

"""``cakupan retention``: the retention workbench from the command line (thin over
``cakupan.retention``): the four worklists, owners, contact outcomes, and the lapse-risk model
(train, score, backtest). The JSON shapes are contracts (issue 15, docs/retention.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    date_option,
    open_engine,
    print_json,
    required_date_option,
)
from cakupan.dates import Month, SystemClock, today
from cakupan.db import make_session_factory, transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.money import format_rupiah
from cakupan.retention.actions import assign_owner, record_outcome
from cakupan.retention.lapse import backtest, score_month, train_model
from cakupan.retention.queries import WorklistFilters, check_list, outcomes_report, worklist

app = typer.Typer(
    help="Retensi peserta: daftar kerja, risiko berhenti / retention worklists and lapse risk.",
    no_args_is_help=True,
)


def _month(value: str, field: str) -> Month:
    try:
        return Month.parse(value)
    except ValueError:
        raise invalid(
            field, t(f"bulan YYYY-MM, bukan {value!r}", f"a month YYYY-MM, got {value!r}")
        ) from None


@app.command("worklist")
def worklist_command(
    list_name: Annotated[
        str,
        typer.Option("--list", help="unpaid_registration | due | arrears | closed_recent"),
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Tanggal / as of YYYY-MM-DD (default today).")
    ] = None,
    branch: Annotated[str | None, typer.Option("--branch", help="Kode cabang.")] = None,
    partner: Annotated[
        str | None, typer.Option("--partner", help="Kode mitra atau agen / partner or agent.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Pemilik / owner username.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Baris paling banyak.")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daftar kerja retensi / one retention worklist, highest risk x amount first."""
    check_list(list_name)
    day = date_option(as_of, "as_of") or today(SystemClock())
    if limit is not None and limit < 1:
        raise invalid("limit", t(f"paling sedikit 1, bukan {limit}", f"at least 1, got {limit}"))
    engine = open_engine(database_url)
    with transaction(engine) as session:  # the reveal of phones is audited
        result = worklist(
            session,
            Actor.system(),
            list_name,
            day,
            WorklistFilters(branch=branch, partner=partner, owner=owner),
            limit=limit,
        )
    if as_json:
        print_json(result)
        return
    console.print(f"{list_name} {result['as_of']}: {result['total']} peserta/participants")
    for row in result["rows"]:
        risk = "-" if row["risk"] is None else f"{row['risk']:.0%}"
        last = row["last_reminder"]
        reminded = (
            t("belum diingatkan", "not reminded")
            if last is None
            else t("diingatkan {d} hari lalu ({c})", "reminded {d} days ago ({c})").format(
                d=last["days_ago"], c=last["channel"]
            )
        ).render()
        if row["reminders_opted_out"]:
            reminded += ", " + t("menolak pengingat", "opted out").render()
        console.print(
            f"  {row['nik']}  {row['name']:<28} {row['phone']:<14} {risk:>5} "
            f"{format_rupiah(row['amount_due']):>12}  {reminded}  {', '.join(row['reasons'])}",
            markup=False,
        )


@app.command("assign")
def assign_command(
    owner: Annotated[
        str | None,
        typer.Option("--owner", help="Pengguna pemilik / owner username (ark, ar, agent...)."),
    ] = None,
    nik: Annotated[
        list[str] | None, typer.Option("--nik", help="NIK peserta (boleh berulang).")
    ] = None,
    unassign: Annotated[
        bool, typer.Option("--unassign", help="Hapus pemilik / remove the owner.")
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tetapkan pemilik baris / assign an owner to participants of the worklists."""
    if owner is None and not unassign:
        raise invalid("owner", t("sebutkan --owner atau --unassign", "give --owner or --unassign"))
    engine = open_engine(database_url)
    with transaction(engine) as session:
        result = assign_owner(session, Actor.system(), None if unassign else owner, nik or [])
    if as_json:
        print_json(result)
    else:
        console.print(f"{result['owner']}: {result['assigned']} peserta/participants")


@app.command("contact")
def contact_command(
    nik: Annotated[str, typer.Argument(help="NIK peserta.")],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="no_answer | wrong_number | promised_to_pay | refused | already_paid | call_back",
        ),
    ],
    note: Annotated[str | None, typer.Option("--note", help="Catatan / note.")] = None,
    follow_up: Annotated[
        str | None, typer.Option("--follow-up", help="Tindak lanjut / follow-up YYYY-MM-DD.")
    ] = None,
    promised_on: Annotated[
        str | None, typer.Option("--promised-on", help="Tanggal janji bayar YYYY-MM-DD.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Alasan menolak (mis. ngaluk).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Catat hasil kontak / record the outcome of a contact."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        recorded = record_outcome(
            session,
            Actor.system(),
            nik,
            outcome=outcome,
            promised_on=promised_on,
            reason=reason,
            note=note,
            follow_up=follow_up,
        )
    if as_json:
        print_json(recorded.as_json())
    else:
        console.print(
            f"{nik}: {recorded.outcome}, tindak lanjut/follow-up {recorded.follow_up_on or '-'}",
            markup=False,
        )


@app.command("train")
def train_command(
    as_of: Annotated[str, typer.Option("--as-of", help="Latih sampai / train up to YYYY-MM-DD.")],
    synthetic: Annotated[
        bool,
        typer.Option("--synthetic", help="Tandai data sintetis / mark the data as synthetic."),
    ] = False,
    backtest_months: Annotated[
        int,
        typer.Option("--backtest", help="Simpan uji mundur N bulan / store an N-month backtest."),
    ] = 0,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Latih model risiko berhenti / train the lapse-risk model on the months ended by the date
    (versioned with its window and held-out metrics)."""
    day = required_date_option(as_of, "as_of")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        summary = train_model(
            session, Actor.system(), day, synthetic=synthetic, backtest_months=backtest_months
        )
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['model']}: {summary['examples']} contoh/examples "
        f"{summary['train_first']}..{summary['train_last']}",
        markup=False,
    )


@app.command("score")
def score_command(
    month: Annotated[str, typer.Option("--month", help="Bulan / month YYYY-MM.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Hitung skor risiko satu bulan / score every participant of a month (stored per month)."""
    target = _month(month, "month")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        summary = score_month(session, Actor.system(), target)
    if as_json:
        print_json(summary)
        return
    console.print(
        f"{summary['month']}: {summary['scored']} peserta/participants, model {summary['model']}",
        markup=False,
    )


@app.command("backtest")
def backtest_command(
    months: Annotated[int, typer.Option("--months", help="Bulan uji / held-out months.")] = 6,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Sampai / up to YYYY-MM-DD (default today).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Uji mundur / backtest: train on months up to M-1, score M, for each of the last months;
    the model next to the rule 'fewest months paid first'."""
    day = date_option(as_of, "as_of") or today(SystemClock())
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        result = backtest(session, day, months)
    if as_json:
        print_json(result)
        return
    if result["synthetic"]:
        console.print("DATA SINTETIS / SYNTHETIC DATA", markup=False)
    for m in result["months"]:
        console.print(
            f"{m['month']}: n={m['n']} lapsed={m['lapsed']} AUC {m['model']['auc']} vs "
            f"{m['baseline']['auc']}, top10 {m['model']['top10_capture']} vs "
            f"{m['baseline']['top10_capture']}",
            markup=False,
        )


@app.command("outcomes")
def outcomes_command(
    snapshot: Annotated[
        str, typer.Option("--snapshot", help="Tanggal daftar / lists as of YYYY-MM-DD.")
    ],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apakah menghubungi membantu? / did contacting help: paid within 14 and 30 days of the
    snapshot, contacted against not contacted (not a controlled comparison)."""
    day = required_date_option(snapshot, "snapshot")
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        report = outcomes_report(session, Actor.system(), day)
    if as_json:
        print_json(report)
        return
    console.print(report["note"], markup=False)
    for item in report["lists"]:
        console.print(f"{item['list']}: {item['rows']}", markup=False)
        for key in ("contacted", "not_contacted"):
            g = item[key]
            if g:
                console.print(
                    f"  {key}: {g['rows']}, paid 14d {g['paid_14']}, 30d {g['paid_30']}, "
                    f"{format_rupiah(g['rupiah_30'])}",
                    markup=False,
                )

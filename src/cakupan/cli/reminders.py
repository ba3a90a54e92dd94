"""``cakupan reminders plan|send|deliver|opt-out|consent|history``: reminders to participants
(thin over ``cakupan.reminders``)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from sqlalchemy import select

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
from cakupan.db import make_session_factory, transaction
from cakupan.errors import not_found
from cakupan.i18n import t
from cakupan.money import format_rupiah
from cakupan.registry.models import Participant
from cakupan.reminders import actions, reminder_history
from cakupan.reminders.delivery import deliver_due
from cakupan.reminders.gateway import gateway_from_settings
from cakupan.reminders.planning import plan_day

app = typer.Typer(
    help="Pengingat iuran (WhatsApp/SMS) / contribution reminders.", no_args_is_help=True
)

OnOption = Annotated[
    str | None,
    typer.Option(
        "--on",
        help="Hari YYYY-MM-DD (bawaan: hari ini) / day (default: today).",
        show_default=False,
    ),
]


def _day(text: str | None) -> date:
    """``--on``: the given day, else today (Asia/Jakarta)."""
    return date_option(text, "--on") or today(SystemClock())


@app.command("plan")
def plan(
    on: OnOption = None, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Pengingat yang jatuh pada hari itu, tanpa mengirim / the reminders due that day, without
    sending or queueing anything."""
    day = _day(on)
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        items = sorted(plan_day(session, day), key=lambda r: (r.nik, r.kind, r.month))
    if as_json:
        print_json({"on": day.isoformat(), "reminders": [r.as_json() for r in items]})
        return
    for r in items:
        console.print(
            f"{r.nik[:4]}********{r.nik[-4:]} {r.kind:<12} {r.channel:<9} {r.month!s:<8} "
            f"{format_rupiah(r.amount):>12}  {r.send_after.isoformat()}",
            markup=False,
        )
    console.print(f"{len(items)} {t('pengingat', 'reminders')} {day.isoformat()}", markup=False)


@app.command("send")
def send(
    on: OnOption = None, database_url: DatabaseUrlOption = None, as_json: JsonOption = False
) -> None:
    """Masukkan pengingat hari itu ke antrean / queue the day's reminders (the worker's outbox
    job sends them in the sending hours). Running it twice queues nothing twice."""
    day = _day(on)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        counts = actions.queue_reminders(session, Actor.system(), SystemClock(), day)
    if as_json:
        print_json({"on": day.isoformat(), **counts})
    else:
        console.print(f"{day.isoformat()}: {counts}", markup=False)


@app.command("deliver")
def deliver(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Kirim yang jatuh tempo sekarang / send what is due now (once; the worker does this every
    30 s)."""
    engine = open_engine(database_url)
    result = deliver_due(engine, SystemClock(), gateway_from_settings())
    if as_json:
        print_json(result.as_json())
    else:
        console.print(str(result.as_json()), markup=False)


@app.command("opt-out")
def opt_out(
    nik: Annotated[str, typer.Argument(help="NIK peserta / participant's NIK.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Catat peserta berhenti menerima pengingat / record that the participant wants no more
    reminders (staff); queued messages are cancelled."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        changed = actions.opt_out(
            session, Actor.system(), SystemClock(), nik.strip(), source="staff"
        )
    if as_json:
        print_json({"nik": nik.strip(), "opted_out": True, "changed": changed})
    else:
        console.print(
            t("Dicatat: tidak ada pengingat lagi", "Recorded: no more reminders")
            if changed
            else t("Sudah berhenti sebelumnya", "Already opted out"),
            markup=False,
        )


@app.command("consent")
def consent(
    nik: Annotated[str, typer.Argument(help="NIK peserta / participant's NIK.")],
    channel: Annotated[
        str | None, typer.Option("--channel", help="whatsapp or sms.", show_default=False)
    ] = None,
    source: Annotated[str, typer.Option("--source", help="Where the consent was given.")] = "staff",
    database_url: DatabaseUrlOption = None,
) -> None:
    """Catat persetujuan peserta (dan kanalnya) / record the participant's consent (and channel)."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        actions.record_consent(
            session, Actor.system(), SystemClock(), nik.strip(), channel=channel, source=source
        )
    console.print(t("Persetujuan dicatat", "Consent recorded"), markup=False)


@app.command("history")
def history(
    nik: Annotated[str, typer.Argument(help="NIK peserta / participant's NIK.")],
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Sampai hari YYYY-MM-DD / up to day.", show_default=False),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Riwayat pengingat peserta dan hasilnya / a participant's reminders with their delivery
    status and the first payment after each, and their consent or opt-out."""
    day = date_option(as_of, "--as-of") or today(SystemClock())
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        participant_id = session.scalar(
            select(Participant.id).where(Participant.nik == nik.strip())
        )
        if participant_id is None:
            raise not_found(
                t("peserta dengan NIK {n}", "participant with NIK {n}").format(
                    n=nik.strip()[:4] + "********" + nik.strip()[-4:]
                )
            )
        found = reminder_history(session, participant_id, day)
    if as_json:
        print_json({"nik": nik.strip(), "as_of": day.isoformat(), **found})
        return
    for r in found["reminders"]:
        console.print(
            f"{r['planned_for']} {r['kind']:<12} {r['channel']:<9} {r['month'] or '-':<8} "
            f"{format_rupiah(r['amount']):>12}  {r['status']:<9} "
            + (
                t("dibayar {d}", "paid {d}").format(d=r["paid_on"]).render()
                if r["paid_on"]
                else t("belum bayar sejak itu", "not paid since").render()
            ),
            markup=False,
        )
    if found["preference"]["opted_out_at"]:
        console.print(
            t("Menolak pengingat sejak {d}", "Opted out since {d}")
            .format(d=found["preference"]["opted_out_at"])
            .render(),
            markup=False,
        )
    console.print(f"{len(found['reminders'])} {t('pengingat', 'reminders')}", markup=False)

"""``cakupan status``, ``cakupan participants ...`` and ``cakupan payments ...``: thin commands over
the registry's actions and queries (``cakupan.registry``).

``participants_app`` and ``payments_app`` are the command groups; the imports add their
``import`` commands to them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from sqlalchemy import select

from cakupan.auth import Actor
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.contributions import load_policy_book
from cakupan.dates import Month, SystemClock, parse_date, today
from cakupan.db import transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.integration import enqueue, reversal_events
from cakupan.money import format_rupiah
from cakupan.registry import (
    RegistrationRow,
    change_participant,
    participant_detail,
    post_payment,
    register_participant,
    reverse_payment,
    status_of,
)
from cakupan.registry.corrections import correct_sector, participants_to_correct
from cakupan.registry.models import Participant
from cakupan.reminders import reminder_history

participants_app = typer.Typer(
    help="Peserta BPU: daftar, lihat, ubah / BPU participants: register, show, change.",
    no_args_is_help=True,
)
payments_app = typer.Typer(
    help="Pembayaran iuran: posting, pembatalan / contribution payments: post, reverse.",
    no_args_is_help=True,
)

Opt = typer.Option


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except ValueError:
        raise invalid(
            option,
            t(
                "diharapkan tanggal YYYY-MM-DD, diterima {v!r}",
                "expected a date as YYYY-MM-DD, got {v!r}",
            ).format(v=value),
        ) from None


def status(
    nik: Annotated[str, typer.Argument(help="NIK peserta / the participant's NIK (16 digits).")],
    as_of: Annotated[
        str | None,
        Opt("--as-of", help="Tanggal YYYY-MM-DD (bawaan: hari ini, WIB) / date (default today)."),
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Status kepesertaan pada suatu tanggal / membership status on a date (D-3)."""
    day = _day(as_of, "--as-of") or today(SystemClock())
    engine = open_engine(database_url)
    with transaction(engine) as session:
        view = status_of(session, nik, day)
    if as_json:
        print_json(view.as_json())
        return
    console.print(
        f"{view.nik}: {view.status} (episode {view.episode}, "
        f"paid through {view.paid_through or '-'}, "
        f"{view.months_paid_in_episode} month(s) paid) on {day.isoformat()}"
    )


@participants_app.command("register")
def register(
    nik: Annotated[str, Opt("--nik", help="NIK (16 digit).")],
    name: Annotated[str, Opt("--name", help="Nama lengkap / full name.")],
    phone: Annotated[str, Opt("--phone", help="Nomor telepon / phone number.")],
    occupation: Annotated[str, Opt("--occupation", help="Kode pekerjaan, mis. farmer.")],
    income: Annotated[str, Opt("--income", help="Penghasilan dilaporkan (Rp/bulan).")],
    programs: Annotated[str, Opt("--programs", help="JKK+JKM atau JKK+JKM+JHT.")] = "JKK+JKM",
    months: Annotated[int, Opt("--months", help="Bulan yang akan dibayar (1-12).")] = 1,
    registered_on: Annotated[
        str | None, Opt("--registered-on", help="YYYY-MM-DD (bawaan: hari ini).")
    ] = None,
    sex: Annotated[str | None, Opt("--sex", help="M/L atau F/P (bawaan: dari NIK).")] = None,
    birth_date: Annotated[
        str | None, Opt("--birth-date", help="YYYY-MM-DD (bawaan: dari NIK).")
    ] = None,
    email: Annotated[str | None, Opt("--email")] = None,
    village_code: Annotated[str | None, Opt("--village", help="Kode desa PP.RR.DD.VVVV.")] = None,
    district_code: Annotated[str | None, Opt("--district", help="Kode kecamatan PP.RR.DD.")] = None,
    sector: Annotated[
        str | None, Opt("--sector", help="transport atau other (bawaan: dari pekerjaan).")
    ] = None,
    funding: Annotated[str, Opt("--funding", help="self, apbn atau apbd.")] = "self",
    channel: Annotated[str, Opt("--channel", help="branch, online, agent, partner.")] = "branch",
    branch_code: Annotated[
        str | None, Opt("--branch", help="Kantor cabang (bawaan: dari alamat).")
    ] = None,
    partner_code: Annotated[str | None, Opt("--partner")] = None,
    agent_code: Annotated[str | None, Opt("--agent")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daftarkan peserta dan terbitkan kode penetapan / register a participant and issue a kode
    penetapan (the exact amount for the chosen months)."""
    row = RegistrationRow(
        row=1,
        nik=nik,
        name=name,
        phone=phone,
        occupation=occupation,
        reported_income=income,
        programs=programs,
        registered_on=registered_on,
        sex=sex,
        birth_date=birth_date,
        email=email,
        village_code=village_code,
        district_code=district_code,
        sector=sector,
        funding=funding,
        channel=channel,
        branch_code=branch_code,
        partner_code=partner_code,
        agent_code=agent_code,
        months_to_pay=months,
    )
    engine = open_engine(database_url)
    with transaction(engine) as session:
        registration = register_participant(session, Actor.system(), row)
    if as_json:
        print_json(registration.as_json())
        return
    code = registration.payment_code
    console.print(
        f"Terdaftar / registered: {registration.nik} {registration.name}, episode "
        f"{registration.episode_no}, branch {registration.branch_code or '-'}"
    )
    if code is not None:
        console.print(
            f"Kode penetapan {code.code}: {format_rupiah(code.amount)} for {code.months} month(s) "
            f"from {code.first_month}, valid until {code.valid_until.isoformat()}"
        )


@participants_app.command("show")
def show(
    nik: Annotated[str, typer.Argument(help="NIK peserta / the participant's NIK.")],
    as_of: Annotated[str | None, Opt("--as-of", help="Status pada tanggal YYYY-MM-DD.")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Data peserta, episode, pembayaran dan riwayat / a participant's record."""
    day = _day(as_of, "--as-of") or today(SystemClock())
    engine = open_engine(database_url)
    with transaction(engine) as session:
        detail = participant_detail(session, nik, day)
        reminders = reminder_history(
            session, session.scalar(select(Participant.id).where(Participant.nik == nik)) or 0, day
        )
    if as_json:
        print_json({**detail.as_json(), "reminders": reminders})
        return
    p = detail.participant
    console.print(f"{p['nik']} {p['name']} ({p['sex']}, {p['birth_date']}), {p['occupation']}")
    console.print(
        f"  status: {detail.status.status}, episode {detail.status.episode}, paid through "
        f"{detail.status.paid_through or '-'}"
    )
    for e in detail.episodes:
        console.print(
            f"  episode {e['episode']}: from {e['start_month']}, card {e['card_number'] or '-'}, "
            f"paid through {e['paid_through'] or '-'} ({e['months_paid']} months)"
        )
    for pay in detail.payments:
        reversed_note = f" REVERSED {pay['reversed_on']}" if pay["reversed_on"] else ""
        console.print(
            f"  {pay['paid_on']} {pay['channel']}/{pay['reference']}: "
            f"{format_rupiah(pay['amount'])} for {pay['months']} month(s) from "
            f"{pay['first_month']}{reversed_note}"
        )
    for change in detail.history:
        console.print(
            f"  from {change['effective_month']}: {change['field']} "
            f"{change['old_value']} -> {change['new_value']}"
        )
    for r in reminders["reminders"]:
        console.print(
            f"  reminder {r['planned_for']} {r['kind']} {r['channel']} "
            f"{format_rupiah(r['amount'])}: {r['status']}"
            + (f", paid {r['paid_on']}" if r["paid_on"] else ", not paid since"),
            markup=False,
        )
    if reminders["preference"]["opted_out_at"]:
        console.print(f"  reminders opted out {reminders['preference']['opted_out_at']}")


@participants_app.command("change")
def change(
    nik: Annotated[str, typer.Argument(help="NIK peserta / the participant's NIK.")],
    effective: Annotated[str, Opt("--from", help="Berlaku mulai bulan YYYY-MM.")],
    phone: Annotated[str | None, Opt("--phone")] = None,
    email: Annotated[str | None, Opt("--email")] = None,
    name: Annotated[str | None, Opt("--name")] = None,
    village_code: Annotated[str | None, Opt("--village")] = None,
    district_code: Annotated[str | None, Opt("--district")] = None,
    branch_code: Annotated[str | None, Opt("--branch")] = None,
    income: Annotated[str | None, Opt("--income")] = None,
    programs: Annotated[str | None, Opt("--programs")] = None,
    sector: Annotated[str | None, Opt("--sector")] = None,
    funding: Annotated[str | None, Opt("--funding")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ubah kontak, alamat, cabang atau iuran mulai suatu bulan / change contact, address,
    branch or contribution terms from a month (history kept)."""
    try:
        month = Month.parse(effective)
    except ValueError:
        raise invalid(
            "--from",
            t("diharapkan bulan YYYY-MM, diterima {v!r}", "expected YYYY-MM, got {v!r}").format(
                v=effective
            ),
        ) from None
    given = {
        "phone": phone,
        "email": email,
        "name": name,
        "village_code": village_code,
        "district_code": district_code,
        "branch_code": branch_code,
        "reported_income": income,
        "programs": programs,
        "sector": sector,
        "funding": funding,
    }
    changes: dict[str, str | int | None] = {k: v for k, v in given.items() if v is not None}
    engine = open_engine(database_url)
    with transaction(engine) as session:
        changed = change_participant(
            session, Actor.system(), nik, effective_month=month, changes=changes
        )
    if as_json:
        print_json(
            {
                "nik": nik,
                "effective_month": str(month),
                "changed": {k: {"old": o, "new": n} for k, (o, n) in changed.items()},
            }
        )
        return
    if not changed:
        console.print("Tidak ada perubahan / nothing changed")
    for key, (old, new) in changed.items():
        console.print(f"{key}: {old} -> {new} (from {month})")


@participants_app.command("correct-sector")
def correct_sector_command(
    nik: Annotated[str | None, typer.Argument(help="NIK peserta (tanpa NIK: pakai --all).")] = None,
    all_participants: Annotated[
        bool,
        Opt("--all", help="Semua pengemudi terdaftar dengan sektor other / every driver on other."),
    ] = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Koreksi sektor iuran dari pekerjaan / move drivers registered with sector ``other`` to
    the transport sector (PP 50/2025) from their first unpaid month, with history."""
    if (nik is None) == (not all_participants) or (nik is not None and all_participants):
        raise invalid(
            "nik",
            t("berikan satu NIK atau --all", "give one NIK or --all"),
        )
    engine = open_engine(database_url)
    with transaction(engine) as session:
        niks = [nik] if nik is not None else participants_to_correct(session)
        book = load_policy_book(session)
        results = [correct_sector(session, Actor.system(), one, book=book) for one in niks]
    if as_json:
        print_json(
            {
                "corrected": sum(r.corrected for r in results),
                "participants": [r.as_json() for r in results],
            }
        )
        return
    if not any(r.corrected for r in results):
        console.print("Tidak ada yang dikoreksi / nothing to correct")
    for r in results:
        if not r.corrected:
            continue
        overpaid = sum(m.paid - m.corrected for m in r.overpaid_months)
        console.print(
            f"{r.nik} ({r.occupation}): sector {r.old_sector} -> {r.new_sector} from "
            f"{r.effective_month}; paid above the transport price: {format_rupiah(overpaid)}"
        )


@payments_app.command("post")
def post(
    nik: Annotated[str, Opt("--nik", help="NIK peserta.")],
    amount: Annotated[str, Opt("--amount", help="Jumlah dibayar (Rp, bilangan bulat).")],
    paid_on: Annotated[str, Opt("--paid-on", help="Tanggal bayar YYYY-MM-DD.")],
    reference: Annotated[str, Opt("--reference", help="Referensi transaksi dari kanal.")],
    channel: Annotated[
        str | None, Opt("--channel", help="Kanal: branch (bawaan), bank, brilink, agen46, pos...")
    ] = None,
    partner_code: Annotated[str | None, Opt("--partner")] = None,
    agent_code: Annotated[str | None, Opt("--agent")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Posting satu pembayaran / post one payment (D-2: exact amount, whole months in order)."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        posted = post_payment(
            session,
            Actor.system(),
            nik=nik,
            amount=amount,
            paid_on=paid_on,
            reference=reference,
            channel=channel,
            partner_code=partner_code,
            agent_code=agent_code,
        )
    if as_json:
        print_json(posted.as_json())
        return
    if posted.duplicate:
        console.print(
            f"Duplikat / duplicate: {posted.channel}/{posted.reference} was already posted; "
            "nothing changed"
        )
        return
    console.print(
        f"Diposting / posted {posted.channel}/{posted.reference}: {format_rupiah(posted.amount)} "
        f"for {posted.months} month(s) from {posted.first_month}; episode {posted.episode_no} "
        f"paid through {posted.paid_through}; card {posted.card_number}"
    )


@payments_app.command("reverse")
def reverse(
    reference: Annotated[str, typer.Argument(help="Referensi pembayaran / payment reference.")],
    reason: Annotated[str, Opt("--reason", help="Alasan pembatalan / reason.")],
    channel: Annotated[
        str | None, Opt("--channel", help="Kanal, bila referensi dipakai di beberapa kanal.")
    ] = None,
    reversed_on: Annotated[
        str | None, Opt("--on", help="Tanggal pembatalan YYYY-MM-DD (bawaan: hari ini).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Batalkan pembayaran terakhir suatu episode / reverse the latest payment of an episode."""
    day = _day(reversed_on, "--on")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        result = reverse_payment(
            session, Actor.system(), reference, reason=reason, channel=channel, reversed_on=day
        )
        enqueue(session, reversal_events(session, result), SystemClock().now())  # webhooks outbox
    if as_json:
        print_json(result.as_json())
        return
    console.print(
        f"Dibatalkan / reversed {result.channel}/{result.reference}: months "
        f"{result.uncovered_first}..{result.uncovered_first + (result.uncovered_months - 1)} "
        f"uncovered; episode {result.episode_no} now paid through {result.paid_through or '-'}"
    )

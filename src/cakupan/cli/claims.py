"""``cakupan claims ...``: quote, submit, list, show, advance, upload documents, add days off.
Thin commands over :mod:`cakupan.claims` (actions and queries)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from cakupan.auth import Actor
from cakupan.claims.actions import (
    ClaimIntake,
    add_day_off,
    advance_claim,
    submit_claim,
    upload_document,
)
from cakupan.claims.queries import claim_detail, list_claims, quote
from cakupan.claims.rules import Cause, ClaimState, ClaimType
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    date_option,
    open_engine,
    print_json,
    required_date_option,
)
from cakupan.dates import SystemClock, today
from cakupan.db import transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.money import format_rupiah

app = typer.Typer(
    help="Klaim JHT/JKM/JKK: hitung, ajukan, proses / claims: quote, submit, process.",
    no_args_is_help=True,
)
Opt = typer.Option


_E = TypeVar("_E", bound=StrEnum)


def _choice(value: str, kind: type[_E], option: str) -> _E:
    try:
        return kind((value or "").strip().lower())
    except ValueError:
        raise invalid(
            option,
            t(
                "diharapkan salah satu dari {c}, diterima {v!r}", "expected one of {c}, got {v!r}"
            ).format(c="|".join(str(k) for k in kind), v=value),
        ) from None


def _actor() -> Actor:
    return Actor.system()


@app.command("quote")
def quote_command(
    claim_type: Annotated[str, Opt("--type", help="jht, jkm atau jkk.")],
    nik: Annotated[str, Opt("--nik", help="NIK peserta.")],
    event_date: Annotated[
        str, Opt("--event-date", help="Tanggal kejadian YYYY-MM-DD / event date.")
    ],
    cause: Annotated[
        str | None, Opt("--cause", help="death atau accident (JKK; JKM selalu death).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Kelayakan dan jumlah manfaat pada tanggal kejadian, tanpa menulis apa pun / eligibility
    and benefit on the event date, writing nothing (exit 0 whether eligible or not)."""
    kind = _choice(claim_type, ClaimType, "--type")
    the_cause = None if cause is None else _choice(cause, Cause, "--cause")
    if kind is ClaimType.JHT and the_cause is not None:
        raise invalid("--cause", t("JHT tidak memakai --cause", "JHT takes no --cause"))
    day = required_date_option(event_date, "--event-date")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        result = quote(
            session,
            claim_type=kind,
            nik=nik,
            event_date=day,
            cause=the_cause,
            today=today(SystemClock()),
        )
        session.rollback()
    if as_json:
        print_json(result.as_json())
        return
    verdict = t("layak", "eligible") if result.eligible else t("tidak layak", "not eligible")
    amount = "-" if result.amount is None else format_rupiah(result.amount)
    console.print(f"{result.claim_type.value.upper()} {result.nik} {day}: {verdict} {amount}")
    for reason in result.reasons:
        console.print(f"  - {reason.render()}", markup=False)
    for source in result.sources:
        console.print(f"  * {source}", markup=False)


@app.command("submit")
def submit_command(
    claim_type: Annotated[str, Opt("--type", help="jht, jkm atau jkk.")],
    nik: Annotated[str, Opt("--nik", help="NIK peserta.")],
    event_date: Annotated[str, Opt("--event-date", help="Tanggal kejadian YYYY-MM-DD.")],
    claimant_name: Annotated[str, Opt("--claimant-name", help="Nama pemohon / claimant.")],
    claimant_nik: Annotated[str, Opt("--claimant-nik", help="NIK pemohon (ahli waris).")],
    relation: Annotated[
        str,
        Opt(
            "--relation",
            help="self, spouse, child, parent, grandchild, grandparent, sibling, parent_in_law.",
        ),
    ],
    bank: Annotated[str, Opt("--bank", help="Nama bank / bank name.")],
    account: Annotated[str, Opt("--account", help="Nomor rekening (6-20 digit).")],
    account_holder: Annotated[str, Opt("--account-holder", help="Nama pemilik rekening.")],
    cause: Annotated[str | None, Opt("--cause", help="death atau accident.")] = None,
    jht_reason: Annotated[
        str | None,
        Opt(
            "--jht-reason",
            help="retirement_age, death, permanent_disability, leaving_indonesia, "
            "membership_ended.",
        ),
    ] = None,
    channel: Annotated[
        str | None, Opt("--channel", help="branch, partner, agent, api, online.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ajukan klaim (status submitted) / take a claim in."""
    intake = ClaimIntake(
        claim_type=claim_type,
        nik=nik,
        event_date=event_date,
        claimant_name=claimant_name,
        claimant_nik=claimant_nik,
        relation=relation,
        bank_name=bank,
        bank_account=account,
        bank_account_holder=account_holder,
        cause=cause,
        jht_reason=jht_reason,
        channel=channel,
    )
    clock = SystemClock()
    engine = open_engine(database_url)
    actor = _actor()
    with transaction(engine) as session:
        claim = submit_claim(session, actor, intake, clock=clock)
        view = claim_detail(session, actor, claim.id, today=today(clock))
    if as_json:
        print_json(view.as_json())
        return
    amount = "-" if view.amount is None else format_rupiah(view.amount)
    console.print(f"klaim {view.id}: {view.claim_type} {view.state} {amount}")
    if view.missing:
        console.print(f"  dokumen belum ada / missing documents: {', '.join(view.missing)}")


@app.command("list")
def list_command(
    state: Annotated[str | None, Opt("--state", help="submitted, verified, ...")] = None,
    claim_type: Annotated[str | None, Opt("--type", help="jht, jkm, jkk.")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daftar klaim, yang berisiko terlambat dulu / claims, those at risk first."""
    the_state = None if state is None else _choice(state, ClaimState, "--state")
    kind = None if claim_type is None else _choice(claim_type, ClaimType, "--type")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        views = list_claims(
            session, _actor(), today=today(SystemClock()), state=the_state, claim_type=kind
        )
    if as_json:
        print_json([view.as_json() for view in views])
        return
    for view in views:
        amount = "-" if view.amount is None else format_rupiah(view.amount)
        sla = view.service_level
        due = "" if sla is None else f" deadline {sla.deadline}{' AT RISK' if sla.at_risk else ''}"
        console.print(
            f"{view.id:>6} {view.claim_type} {view.state:<9} {view.nik} "
            f"{view.event_date} {amount}{due}",
            markup=False,
        )


@app.command("show")
def show_command(
    claim_id: Annotated[int, typer.Argument(help="Nomor klaim / claim id.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rincian klaim: status, dokumen, langkah / a claim with documents and steps."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        view = claim_detail(session, _actor(), claim_id, today=today(SystemClock()))
    if as_json:
        print_json(view.as_json())
        return
    amount = "-" if view.amount is None else format_rupiah(view.amount)
    console.print(f"klaim {view.id}: {view.claim_type} {view.state} {amount}", markup=False)
    console.print(f"  dokumen wajib: {', '.join(view.required)}", markup=False)
    console.print(f"  belum ada: {', '.join(view.missing) or '-'}", markup=False)
    for step in view.steps:
        console.print(f"  {step['on']} {step['from'] or '-'} -> {step['to']} ({step['actor']})")


@app.command("advance")
def advance_command(
    claim_id: Annotated[int, typer.Argument(help="Nomor klaim / claim id.")],
    to: Annotated[str, Opt("--to", help="verified, approved, rejected, paid.")],
    reason: Annotated[str | None, Opt("--reason", help="Alasan penolakan.")] = None,
    payment_reference: Annotated[
        str | None, Opt("--payment-reference", help="Referensi pembayaran (paid).")
    ] = None,
    on: Annotated[
        str | None, Opt("--on", help="Tanggal langkah YYYY-MM-DD (bawaan: hari ini).")
    ] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pindahkan klaim satu langkah alur kerja / move a claim one workflow step."""
    day = date_option(on, "--on")
    clock = SystemClock()
    engine = open_engine(database_url)
    actor = _actor()
    with transaction(engine) as session:
        advance_claim(
            session,
            actor,
            claim_id,
            to,
            clock=clock,
            reason=reason,
            payment_reference=payment_reference,
            on=day,
        )
        view = claim_detail(session, actor, claim_id, today=today(clock))
    if as_json:
        print_json(view.as_json())
        return
    console.print(f"klaim {view.id}: {view.state}", markup=False)


@app.command("upload")
def upload_command(
    claim_id: Annotated[int, typer.Argument(help="Nomor klaim / claim id.")],
    kind: Annotated[str, Opt("--kind", help="death_certificate, heir_letter, ktp, ...")],
    file: Annotated[Path, Opt("--file", help="Berkas PDF/JPEG/PNG.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Unggah satu dokumen klaim / upload one claim document."""
    try:
        content = file.read_bytes()
    except OSError as error:
        raise invalid(
            "--file", t("tidak bisa dibaca: {e}", "cannot be read: {e}").format(e=error)
        ) from None
    clock = SystemClock()
    engine = open_engine(database_url)
    with transaction(engine) as session:
        document = upload_document(
            session, _actor(), claim_id, kind, file_name=file.name, content=content, clock=clock
        )
        payload = {
            "claim_id": claim_id,
            "kind": document.kind,
            "content_type": document.content_type,
            "size": document.size,
            "sha256": document.sha256,
        }
    if as_json:
        print_json(payload)
        return
    console.print(f"klaim {claim_id}: {document.kind} {document.sha256}", markup=False)


@app.command("day-off")
def day_off_command(
    day: Annotated[str, Opt("--date", help="YYYY-MM-DD.")],
    name: Annotated[str, Opt("--name", help="Nama, mis. Cuti bersama Natal.")],
    source: Annotated[str, Opt("--source", help="Dasar, mis. SKB 3 Menteri ...")],
    database_url: DatabaseUrlOption = None,
) -> None:
    """Tambah hari libur ke kalender kerja / add a day off to the working calendar."""
    parsed = required_date_option(day, "--date")
    engine = open_engine(database_url)
    with transaction(engine) as session:
        add_day_off(session, _actor(), parsed, name, source, clock=SystemClock())
    console.print(f"{parsed}: {name}", markup=False)

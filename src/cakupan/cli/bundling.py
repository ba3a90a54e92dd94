"""``cakupan offers ...``: bundling offers (docs/bundling.md), thin over ``cakupan.bundling``."""

from __future__ import annotations

from typing import Annotated

import typer

from cakupan.auth import Actor
from cakupan.bundling import OfferSpec, add_offer, enrol, link_campaign, offer_report, record_payer
from cakupan.cli.common import (
    DatabaseUrlOption,
    JsonOption,
    console,
    date_option,
    open_engine,
    print_json,
)
from cakupan.dates import SystemClock, today
from cakupan.db import transaction
from cakupan.money import format_rupiah

app = typer.Typer(
    help="Penawaran bundling produk mitra dengan BPU / bundling offers of partner products.",
    no_args_is_help=True,
)
Opt = typer.Option


@app.command("add")
def add(
    code: Annotated[str, Opt("--code")],
    partner_code: Annotated[str, Opt("--partner")],
    product: Annotated[str, Opt("--product", help="credit, savings, insurance, ewallet")],
    name: Annotated[str, Opt("--name")],
    payer: Annotated[str, Opt("--payer", help="partner, participant, split")],
    valid_from: Annotated[str, Opt("--from", help="YYYY-MM-DD")],
    source: Annotated[str, Opt("--source", help="Perjanjian / the agreement it comes from.")],
    coverage: Annotated[str, Opt("--coverage", help="includes atau requires")] = "includes",
    partner_months: Annotated[int | None, Opt("--partner-months")] = None,
    valid_to: Annotated[str | None, Opt("--to")] = None,
    areas: Annotated[str, Opt("--areas", help="Kode provinsi/kabupaten, dipisah spasi.")] = "",
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tambah penawaran / add an offer (re-adding the same offer changes nothing)."""
    start = date_option(valid_from, "--from")
    assert start is not None
    spec = OfferSpec(
        code=code.strip().upper(),
        partner_code=partner_code.strip(),
        product=product.strip().lower(),
        name=name.strip(),
        coverage=coverage.strip().lower(),
        payer=payer.strip().lower(),
        valid_from=start,
        source=source.strip(),
        partner_months=partner_months,
        valid_to=date_option(valid_to, "--to"),
        area_codes=tuple(areas.replace(",", " ").split()),
    )
    with transaction(open_engine(database_url)) as session:
        added = add_offer(session, Actor.system(), spec)
    if as_json:
        print_json({"offer": spec.as_json(), "added": added})
        return
    console.print(f"{spec.code}: {'added' if added else 'unchanged'}")


@app.command("enrol")
def enrol_command(
    nik: Annotated[str, typer.Argument(help="NIK peserta.")],
    offer: Annotated[str, Opt("--offer")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Catat pendaftaran lewat penawaran / enrol the participant's latest episode in an offer."""
    with transaction(open_engine(database_url)) as session:
        result = enrol(session, Actor.system(), nik, offer.strip().upper())
    if as_json:
        print_json(result)
        return
    console.print(f"{offer}: {'enrolled' if result['enrolled'] else 'already enrolled'}")


@app.command("payer")
def payer_command(
    reference: Annotated[str, typer.Argument(help="Referensi pembayaran.")],
    channel: Annotated[str, Opt("--channel")] = "branch",
    payer: Annotated[str | None, Opt("--payer", help="partner atau participant")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Catat pembayar / record who paid a payment of an enrolled episode (default: the
    offer's terms for the payment's first month)."""
    with transaction(open_engine(database_url)) as session:
        result = record_payer(session, Actor.system(), reference, channel=channel, payer=payer)
    if as_json:
        print_json(result)
        return
    console.print(f"{reference}: {result['payer']}")


@app.command("report")
def report(
    offer: Annotated[str, typer.Argument(help="Kode penawaran.")],
    as_of: Annotated[str | None, Opt("--as-of")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Laporan penawaran / an offer's registrations, retention and cost against participants
    outside any offer of the same segment."""
    day = date_option(as_of, "--as-of") or today(SystemClock())
    with transaction(open_engine(database_url)) as session:
        result = offer_report(session, offer.strip().upper(), day)
    if as_json:
        print_json(result)
        return
    console.print(
        f"{result['offer']} ({result['product']}, {result['partner_code']}): "
        f"{result['registrations']} registrations, partner paid "
        f"{format_rupiah(result['partner_paid'])}; comparison "
        f"{result['comparison']['registrations']}"
    )
    for k, figures in result["retention"].items():
        other = result["comparison"]["retention"][k]
        console.print(
            f"  month {k}: {figures['paying']}/{figures['eligible']} "
            f"({figures['rate_percent'] or '-'}%) vs {other['paying']}/{other['eligible']} "
            f"({other['rate_percent'] or '-'}%)"
        )


@app.command("campaign")
def campaign_command(
    campaign: Annotated[str, typer.Argument(help="Kode kampanye.")],
    offer: Annotated[str, Opt("--offer", help="Kode penawaran yang dipromosikan.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tautkan kampanye ke penawaran / point a campaign at the offer it promotes."""
    with transaction(open_engine(database_url)) as session:
        linked = link_campaign(
            session, Actor.system("cli"), campaign.strip(), offer.strip(), clock=SystemClock()
        )
    if as_json:
        print_json({"campaign": campaign.strip(), "offer": offer.strip(), "linked": linked})
        return
    console.print(f"{campaign.strip()} -> {offer.strip()}" + ("" if linked else " (unchanged)"))

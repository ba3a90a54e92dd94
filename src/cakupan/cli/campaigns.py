"""``cakupan segments|targeting|prospects|campaigns ...``: finding people (issue 8). Thin: reads
go to :mod:`cakupan.campaigns` queries, writes to its actions (docs/campaigns.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from cakupan import campaigns
from cakupan.auth import Actor
from cakupan.campaigns.reference import load_weights, synthetic_potential_file
from cakupan.campaigns.segments import load_segment_file
from cakupan.cli.common import DatabaseUrlOption, JsonOption, console, open_engine, print_json
from cakupan.cli.imports import FileArgument, PartialOption, _report
from cakupan.dates import SystemClock, parse_date, today
from cakupan.db import make_session_factory, transaction
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.money import format_rupiah

segments_app = typer.Typer(
    help="Segmen dan potensi pasar / segments and market potential.", no_args_is_help=True
)
potential_app = typer.Typer(help="Potensi pasar / market potential.", no_args_is_help=True)
segments_app.add_typer(potential_app, name="potential")
targeting_app = typer.Typer(help="Penentuan sasaran / targeting.", no_args_is_help=True)
prospects_app = typer.Typer(help="Prospek / prospects.", no_args_is_help=True)
campaigns_app = typer.Typer(
    help="Kampanye dan corong AIDA / campaigns and the AIDA funnel.", no_args_is_help=True
)

AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="Tanggal / date YYYY-MM-DD (default today).", show_default=False),
]


def _day(value: str | None, field: str) -> date:
    if not value:
        return today(SystemClock())
    try:
        return parse_date(value)
    except ValueError:
        raise invalid(
            field,
            t(
                "tanggal YYYY-MM-DD diharapkan, diterima {v!r}",
                "expected a date YYYY-MM-DD, got {v!r}",
            ).format(v=value),
        ) from None


def _rp(value: int | None) -> str:
    return "-" if value is None else format_rupiah(value)


# -- segments --------------------------------------------------------------------------------------


@segments_app.command("list")
def segments_list(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Daftar segmen / list the segments."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        views = campaigns.list_segments(session)
    if as_json:
        print_json([v.as_json() for v in views])
        return
    for v in views:
        console.print(f"{v.code:<20} {v.name_id} / {v.name_en}", markup=False)


@segments_app.command("show")
def segments_show(
    code: Annotated[str, typer.Argument(help="Kode segmen / segment code.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Rincian segmen / one segment with its rule, partners, channels and media."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        view = campaigns.get_segment(session, code)
    if as_json:
        print_json(view.as_json())
        return
    data = view.as_json()
    for key, value in data.items():
        console.print(f"{key}: {value}", markup=False)


@segments_app.command("define")
def segments_define(
    file: Annotated[
        Path, typer.Argument(help="Definisi segmen JSON / a segment definition (JSON).")
    ],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Buat atau ganti segmen khusus / create or replace a custom segment from JSON."""
    definition = load_segment_file(file)
    engine = open_engine(database_url)
    with transaction(engine) as session:
        view = campaigns.define_segment(session, Actor.system(), definition)
        out = view.as_json()
    if as_json:
        print_json(out)
    else:
        console.print(f"{out['code']}: ok", markup=False)


@potential_app.command("import")
def potential_import(
    file: Annotated[
        Path | None,
        typer.Argument(help="Berkas potensi / potential file (.csv/.xlsx); see docs/campaigns.md."),
    ] = None,
    example: Annotated[
        bool,
        typer.Option(
            "--example",
            help="Impor contoh SINTETIS Lampung / import the SYNTHETIC Lampung example.",
        ),
    ] = False,
    partial: PartialOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Impor potensi pasar per segmen dan wilayah / import market potential per segment and area."""
    if file is None and not example:
        raise invalid("file", t("sebutkan berkas atau --example", "give a file or --example"))
    path = synthetic_potential_file() if file is None else file
    engine = open_engine(database_url)
    _report(campaigns.import_potential(engine, Actor.system(), path, partial=partial), as_json)


@segments_app.command("coverage")
def segments_coverage(
    segment: Annotated[
        str | None, typer.Option("--segment", help="Satu segmen / one segment.")
    ] = None,
    area: Annotated[
        str | None, typer.Option("--area", help="Wilayah (awalan) / area code prefix.")
    ] = None,
    as_of: AsOfOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Potensi vs cakupan / potential against coverage: registered, active, coverage %, gap."""
    day = _day(as_of, "as_of")
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = campaigns.coverage(session, day, segment=segment, area_prefix=area)
    if as_json:
        print_json({"as_of": day.isoformat(), "rows": [r.as_json() for r in rows]})
        return
    console.print(
        f"{'segment':<18} {'area':<13} {'potential':>10} {'registered':>10} {'active':>8} {'cov%':>6} {'gap':>10}",
        markup=False,
    )
    for r in rows:
        pct = "-" if r.coverage_percent is None else f"{r.coverage_percent:.1f}"
        console.print(
            f"{r.segment:<18} {r.area:<13} {r.potential:>10} {r.registered:>10} {r.active:>8} {pct:>6} {r.gap:>10}",
            markup=False,
        )


# -- targeting -------------------------------------------------------------------------------------


@targeting_app.command("rank")
def targeting_rank(
    weights: Annotated[
        Path | None,
        typer.Option("--weights", help="Bobot JSON / weights JSON file (default shipped)."),
    ] = None,
    segment: Annotated[str | None, typer.Option("--segment")] = None,
    area: Annotated[
        str | None, typer.Option("--area", help="Awalan kode wilayah / area prefix.")
    ] = None,
    top: Annotated[int | None, typer.Option("--top", min=1)] = None,
    as_of: AsOfOption = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Peringkat segmen x wilayah dengan kontribusi tiap faktor / ranking with each factor's contribution."""
    chosen = load_weights(weights)
    day = _day(as_of, "as_of")
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        ranked = campaigns.rank_targets(session, day, chosen, segment=segment, area_prefix=area)
    ranked = ranked[:top] if top else ranked
    if as_json:
        print_json(
            {
                "as_of": day.isoformat(),
                "weights": chosen.as_json(),
                "ranking": [{"rank": i, **s.as_json()} for i, s in enumerate(ranked, start=1)],
            }
        )
        return
    console.print(f"weights {chosen.version}: {chosen.source}", markup=False)
    for i, s in enumerate(ranked, start=1):
        parts = " + ".join(f"{k} {v}" for k, v in s.contributions.items())
        console.print(
            f"{i:>3}. {s.segment:<18} {s.area:<13} {s.score}  = {parts}  (gap {s.gap})",
            markup=False,
        )


# -- prospects -------------------------------------------------------------------------------------


@prospects_app.command("import")
def prospects_import(
    file: FileArgument,
    campaign: Annotated[
        str | None,
        typer.Option(
            "--campaign", help="Kampanye untuk baris tanpa kode / campaign for rows without one."
        ),
    ] = None,
    institution: Annotated[
        str | None, typer.Option("--institution", help="Lembaga sumber / source institution.")
    ] = None,
    partial: PartialOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Impor daftar prospek / import a prospect list (docs/campaigns.md)."""
    engine = open_engine(database_url)
    result = campaigns.import_prospects(
        engine,
        Actor.system(),
        file,
        partial=partial,
        campaign_code=campaign,
        institution=institution,
    )
    _report(result, as_json)


@prospects_app.command("assign")
def prospects_assign(
    to: Annotated[
        str, typer.Option("--to", help="Petugas atau kode agen / staff user or agent code.")
    ],
    kind: Annotated[str, typer.Option("--kind", help="staff | agent")] = "staff",
    ids: Annotated[
        str | None, typer.Option("--ids", help="Id dipisah koma / comma-separated ids.")
    ] = None,
    campaign: Annotated[str | None, typer.Option("--campaign")] = None,
    district: Annotated[str | None, typer.Option("--district")] = None,
    reassign: Annotated[
        bool, typer.Option("--reassign", help="Juga yang sudah ditugaskan / also assigned ones.")
    ] = False,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Tugaskan prospek / assign prospects to staff or an agent."""
    id_list: list[int] = []
    if ids:
        try:
            id_list = [int(part) for part in ids.split(",") if part.strip()]
        except ValueError:
            raise invalid(
                "ids",
                t("id angka dipisah koma", "expected comma-separated numbers, got {v!r}").format(
                    v=ids
                ),
            ) from None
    engine = open_engine(database_url)
    with transaction(engine) as session:
        count = campaigns.assign_prospects(
            session,
            Actor.system(),
            to=to,
            kind=kind,
            ids=id_list,
            campaign_code=campaign,
            district_code=district,
            only_unassigned=not reassign,
            limit=limit,
        )
    if as_json:
        print_json({"assigned": count, "to": to, "kind": kind})
    else:
        console.print(
            t("{n} prospek ditugaskan ke {to}", "{n} prospects assigned to {to}")
            .format(n=count, to=to)
            .render(),
            markup=False,
        )


@prospects_app.command("contact")
def prospects_contact(
    prospect_id: Annotated[int, typer.Argument(help="Id prospek / prospect id.")],
    outcome: Annotated[
        str, typer.Option("--outcome", help="unreachable | contacted | interested | refused")
    ],
    reason: Annotated[
        str | None,
        typer.Option(
            "--reason",
            help="Untuk refused / for refused: not_aware, thinks_irrelevant, cannot_afford, distrust, bad_luck_belief, covered_elsewhere, other.",
        ),
    ] = None,
    method: Annotated[
        str, typer.Option("--method", help="phone | whatsapp | visit | event | other")
    ] = "phone",
    on: Annotated[str | None, typer.Option("--on", help="YYYY-MM-DD (default today)")] = None,
    note: Annotated[str | None, typer.Option("--note")] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Catat satu kontak / record one contact attempt."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        out = campaigns.record_contact(
            session,
            Actor.system(),
            prospect_id,
            outcome=outcome,
            refusal_reason=reason,
            method=method,
            contacted_on=on,
            note=note,
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"{out['id']}: {out['outcome']}", markup=False)


@prospects_app.command("list")
def prospects_list(
    campaign: Annotated[str | None, typer.Option("--campaign")] = None,
    assigned_to: Annotated[str | None, typer.Option("--assigned-to")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1)] = None,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Daftar kerja prospek dengan tahapnya / the prospect worklist with each stage (from the ledger)."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        views = campaigns.prospect_views(
            session, campaign_code=campaign, assigned_to=assigned_to, limit=limit
        )
    if as_json:
        from cakupan.campaigns.prospects import stage_counts

        print_json({"prospects": [v.as_json() for v in views], "stages": stage_counts(views)})
        return
    for v in views:
        console.print(
            f"{v.id:>6} {v.name:<30} {v.phone or '-':<16} {v.stage.value:<18} {v.assigned_to or '-'}",
            markup=False,
        )


# -- campaigns -------------------------------------------------------------------------------------


@campaigns_app.command("import")
def campaigns_import(
    file: FileArgument,
    partial: PartialOption = False,
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Impor kampanye / import campaigns (docs/campaigns.md)."""
    engine = open_engine(database_url)
    _report(campaigns.import_campaigns(engine, Actor.system(), file, partial=partial), as_json)


@campaigns_app.command("list")
def campaigns_list(database_url: DatabaseUrlOption = None, as_json: JsonOption = False) -> None:
    """Daftar kampanye / list campaigns."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = campaigns.list_campaigns(session)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        console.print(f"{r['code']:<16} {r['start_on']} {r['type']:<28} {r['name']}", markup=False)


@campaigns_app.command("code")
def campaigns_code(
    nik: Annotated[str, typer.Argument(help="NIK peserta / participant's NIK.")],
    code: Annotated[str, typer.Argument(help="Kode kampanye / campaign code.")],
    on: Annotated[str | None, typer.Option("--on", help="YYYY-MM-DD (default today)")] = None,
    given_at: Annotated[
        str, typer.Option("--given-at", help="registration | payment")
    ] = "registration",
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Catat kode kampanye yang diberikan peserta / record the campaign code a participant gave."""
    engine = open_engine(database_url)
    with transaction(engine) as session:
        out = campaigns.record_campaign_code(
            session, Actor.system(), nik=nik, campaign_code=code, given_on=on, given_at=given_at
        )
    if as_json:
        print_json(out)
    else:
        console.print(f"{nik}: {code}", markup=False)


@campaigns_app.command("funnel")
def campaigns_funnel(
    code: Annotated[str, typer.Argument(help="Kode kampanye / campaign code.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Corong AIDA dan biaya per tahap / the AIDA funnel with the cost per stage."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        out = campaigns.campaign_funnel(session, code)
    if as_json:
        print_json(out)
        return
    console.print(
        f"{out['campaign']} {out['name']} ({out['type']}) biaya/cost {_rp(out['cost'])} [{out['cost_basis']}]",
        markup=False,
    )
    for stage in out["stages"]:
        console.print(
            f"  {stage['stage']:<18} {stage['count']:>8}  {_rp(stage['cost_per'])}", markup=False
        )
    console.print(
        "  " + ", ".join(f"{k}: {v}" for k, v in out["attribution"].items()), markup=False
    )


@campaigns_app.command("attributions")
def campaigns_attributions(
    code: Annotated[str, typer.Argument(help="Kode kampanye / campaign code.")],
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pendaftaran yang diatribusikan dan aturannya / attributed registrations and the rule of each."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = campaigns.attributions(session, code)
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    for r in rows:
        console.print(
            f"{r.nik} {r.registered_on} {r.rule.value} months_paid={r.months_paid}", markup=False
        )


@campaigns_app.command("compare")
def campaigns_compare(
    by: Annotated[str, typer.Option("--by", help="campaign | segment | channel")] = "campaign",
    database_url: DatabaseUrlOption = None,
    as_json: JsonOption = False,
) -> None:
    """Bandingkan corong / compare funnels across campaigns, segments or channels."""
    engine = open_engine(database_url)
    with make_session_factory(engine)() as session:
        rows = campaigns.compare_funnels(session, by)
    if as_json:
        print_json(rows)
        return
    for r in rows:
        counts = " > ".join(str(s["count"]) for s in r["stages"])
        console.print(
            f"{r[by]:<28} {counts:<30} per reg {_rp(r['cost_per_registration'])}  per M6 {_rp(r['cost_per_retained_month_6'])}",
            markup=False,
        )

"""The campaigns' write path: the campaigns file import and the campaign code a person gave at
registration or payment (attribution rule 1). Every write audits in the caller's transaction
(imports: once per file)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.campaigns.models import (
    Campaign,
    CampaignArea,
    CampaignCodeUse,
    CampaignSegment,
    Segment,
)
from cakupan.campaigns.reference import default_window_days
from cakupan.campaigns.rules import CAMPAIGN_TYPES, MEDIA, area_level
from cakupan.dates import Clock, SystemClock, parse_date, today
from cakupan.errors import invalid, not_found
from cakupan.i18n import Text, t
from cakupan.imports import ImportResult, Record, in_batches, open_records, post_file
from cakupan.regions.models import Branch
from cakupan.registry.models import Membership, Participant

__all__ = ["CAMPAIGN_COLUMNS", "CAMPAIGN_OPTIONAL", "import_campaigns", "record_campaign_code"]

CAMPAIGN_COLUMNS = (
    "code",
    "name",
    "objective",
    "type",
    "start_on",
    "end_on",
    "budget",
    "segments",
    "areas",
)
CAMPAIGN_OPTIONAL = (
    "medium",
    "actual_cost",
    "reached",
    "interested",
    "window_days",
    "branch_code",
    "region_code",
    "partners",
    "materials",
    "stories",
)
_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_LIST_SPLIT = re.compile(r"\s*;\s*")


def _list(cell: str) -> list[str]:
    return [part for part in _LIST_SPLIT.split(cell.strip()) if part] if cell.strip() else []


def _parse_campaign(
    record: Record, segments: set[str], window_default: int
) -> tuple[dict[str, Any] | None, list[tuple[str, Text]]]:
    problems = record.shape_problems()
    values: dict[str, Any] = {}
    code = record["code"]
    if not _CODE_RE.match(code):
        problems.append(
            (
                "code",
                t(
                    "kode kampanye 1-40 huruf/angka/._- diharapkan, diterima {v!r}",
                    "expected a campaign code of 1-40 letters, digits or ._-, got {v!r}",
                ).format(v=code),
            )
        )
    values["code"] = code
    for key, limit in (("name", 200), ("objective", 2000)):
        if not record[key]:
            problems.append((key, t("wajib diisi", "required")))
        values[key] = record[key][:limit]
    kind = record["type"]
    if kind not in CAMPAIGN_TYPES:
        problems.append(
            (
                "type",
                t(
                    "jenis salah satu dari {c}, diterima {v!r}", "expected one of {c}, got {v!r}"
                ).format(c=", ".join(CAMPAIGN_TYPES), v=kind),
            )
        )
    values["type"] = kind
    medium = record["medium"] or None
    if medium is not None and medium not in MEDIA:
        problems.append(
            (
                "medium",
                t(
                    "media salah satu dari {c}, diterima {v!r}", "expected one of {c}, got {v!r}"
                ).format(c=", ".join(MEDIA), v=medium),
            )
        )
    if kind == "advertising" and medium is None:
        problems.append(
            ("medium", t("iklan wajib menyebut media", "advertising must name its medium"))
        )
    values["medium"] = medium
    for key in ("start_on", "end_on"):
        try:
            values[key] = parse_date(record[key])
        except ValueError:
            problems.append(
                (
                    key,
                    t(
                        "tanggal YYYY-MM-DD diharapkan, diterima {v!r}",
                        "expected a date YYYY-MM-DD, got {v!r}",
                    ).format(v=record[key]),
                )
            )
            values[key] = None
    if values["start_on"] and values["end_on"] and values["end_on"] < values["start_on"]:
        problems.append(
            (
                "end_on",
                t(
                    "tanggal selesai {e} sebelum tanggal mulai {s}",
                    "end date {e} is before start date {s}",
                ).format(e=values["end_on"], s=values["start_on"]),
            )
        )
    for key, column, required in (
        ("budget", "budget", True),
        ("actual_cost", "actual_cost", False),
        ("reported_reached", "reached", False),
        ("reported_interested", "interested", False),
        ("window_days", "window_days", False),
    ):
        cell = (
            record[column].replace(".", "")
            if column in ("budget", "actual_cost")
            else record[column]
        )
        if not cell and not required:
            values[key] = None
            continue
        if not cell.isdigit():
            problems.append(
                (
                    column,
                    t(
                        "bilangan bulat >= 0 diharapkan (rupiah tanpa desimal), diterima {v!r}",
                        "expected a whole number >= 0 (rupiah without decimals), got {v!r}",
                    ).format(v=record[column]),
                )
            )
            values[key] = None
            continue
        values[key] = int(cell)
    if values.get("window_days") is None:
        values["window_days"] = window_default
    values["segments"] = sorted(set(_list(record["segments"])))
    unknown = [s for s in values["segments"] if s not in segments]
    if not values["segments"] or unknown:
        problems.append(
            (
                "segments",
                t(
                    "kode segmen dipisah ';' yang dikenal diharapkan; tidak dikenal: {v}",
                    "expected known segment codes separated by ';'; unknown: {v}",
                ).format(v=", ".join(unknown) or "(kosong / empty)"),
            )
        )
    values["areas"] = sorted(set(_list(record["areas"])))
    bad = [a for a in values["areas"] if area_level(a) is None]
    if not values["areas"] or bad:
        problems.append(
            (
                "areas",
                t(
                    "kode wilayah PP, PP.RR, PP.RR.DD atau PP.RR.DD.VVVV dipisah ';'; salah: {v}",
                    "expected area codes PP, PP.RR, PP.RR.DD or PP.RR.DD.VVVV separated by ';'; bad: {v}",
                ).format(v=", ".join(bad) or "(kosong / empty)"),
            )
        )
    values["branch_code"] = record["branch_code"] or None
    values["region_code"] = record["region_code"] or None
    for key in ("partners", "materials", "stories"):
        values[key] = _list(record[key])
    if problems:
        return None, problems
    values["window_end_on"] = values["end_on"] + timedelta(days=values["window_days"])
    return values, []


def _stored_values(session: Session, campaign: Campaign) -> dict[str, Any]:
    segments = sorted(
        session.scalars(
            select(CampaignSegment.segment_code).where(
                CampaignSegment.campaign_code == campaign.code
            )
        )
    )
    areas = sorted(
        session.scalars(
            select(CampaignArea.area_code).where(CampaignArea.campaign_code == campaign.code)
        )
    )
    return {
        "code": campaign.code,
        "name": campaign.name,
        "objective": campaign.objective,
        "type": campaign.type,
        "medium": campaign.medium,
        "start_on": campaign.start_on,
        "end_on": campaign.end_on,
        "budget": campaign.budget,
        "actual_cost": campaign.actual_cost,
        "reported_reached": campaign.reported_reached,
        "reported_interested": campaign.reported_interested,
        "window_days": campaign.window_days,
        "window_end_on": campaign.window_end_on,
        "branch_code": campaign.branch_code,
        "region_code": campaign.region_code,
        "partners": list(campaign.partners),
        "materials": list(campaign.materials),
        "stories": list(campaign.stories),
        "segments": segments,
        "areas": areas,
    }


def import_campaigns(
    engine: Engine,
    actor: Actor,
    path: Path | str,
    *,
    partial: bool = False,
    clock: Clock | None = None,
) -> ImportResult:
    """Import campaigns (columns in docs/campaigns.md). A row identical to the stored campaign is
    a duplicate; a changed row (e.g. the actual cost reported after the event) replaces the
    campaign and counts as accepted. All-or-nothing unless ``partial``; audited once."""
    clock = clock or SystemClock()
    window_default = default_window_days()
    with open_records(path, required=CAMPAIGN_COLUMNS, optional=CAMPAIGN_OPTIONAL) as records:

        def post(session: Session, result: ImportResult) -> None:
            segments = set(session.scalars(select(Segment.code)))
            branch_regions = dict(session.execute(select(Branch.code, Branch.region_code)).all())
            seen: dict[str, int] = {}
            for batch in in_batches(records, 500):
                for record in batch:
                    values, problems = _parse_campaign(record, segments, window_default)
                    code = record["code"]
                    if code in seen:
                        problems.append(
                            (
                                "code",
                                t("kode sama dengan baris {r}", "same code as row {r}").format(
                                    r=seen[code]
                                ),
                            )
                        )
                    seen.setdefault(code, record.row)
                    if values is None or problems:
                        result.reject(record.row, problems)
                        continue
                    if values["branch_code"] in branch_regions:  # a branch's campaign: its region
                        values["region_code"] = branch_regions[values["branch_code"]]
                    existing = session.get(Campaign, code)
                    if existing is not None:
                        if _stored_values(session, existing) == values:
                            result.duplicates += 1
                            continue
                        _write_campaign(session, existing, values)
                    else:
                        campaign = Campaign(code=code, created_at=clock.now())
                        session.add(campaign)
                        _write_campaign(session, campaign, values)
                    result.accepted += 1
                session.flush()

        return post_file(engine, actor, "campaign", records.source, post, partial=partial)


def _write_campaign(session: Session, campaign: Campaign, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if key not in ("segments", "areas", "code"):
            setattr(campaign, key, value)
    session.flush()
    session.execute(delete(CampaignSegment).where(CampaignSegment.campaign_code == campaign.code))
    session.execute(delete(CampaignArea).where(CampaignArea.campaign_code == campaign.code))
    session.add_all(
        CampaignSegment(campaign_code=campaign.code, segment_code=s) for s in values["segments"]
    )
    session.add_all(CampaignArea(campaign_code=campaign.code, area_code=a) for a in values["areas"])


def record_campaign_code(
    session: Session,
    actor: Actor,
    *,
    nik: str,
    campaign_code: str,
    given_on: date | str | None = None,
    given_at: str = "registration",
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Record that the holder of ``nik`` gave ``campaign_code`` when registering or paying
    (``given_at``) on ``given_on`` (default today): kept for their membership episode registered
    on or before that day (attribution rule 1). Giving another code for the same episode replaces
    it (audited with before/after). NOT_FOUND for an unknown NIK or campaign; INVALID when the
    person has no registration on or before that day."""
    clock = clock or SystemClock()
    if given_at not in ("registration", "payment"):
        raise invalid(
            "given_at",
            t(
                "registration atau payment, diterima {v!r}",
                "expected registration or payment, got {v!r}",
            ).format(v=given_at),
        )
    day = (
        today(clock)
        if given_on is None
        else (given_on if isinstance(given_on, date) else _date_or_invalid("given_on", given_on))
    )
    if session.get(Campaign, campaign_code) is None:
        raise not_found(
            t("kampanye {c!r} tidak ditemukan", "campaign {c!r} not found").format(c=campaign_code)
        )
    participant_id = session.scalar(select(Participant.id).where(Participant.nik == nik))
    if participant_id is None:
        raise not_found(t("NIK {n} tidak terdaftar", "NIK {n} is not registered").format(n=nik))
    membership_id = session.scalar(
        select(Membership.id)
        .where(Membership.participant_id == participant_id, Membership.registered_on <= day)
        .order_by(Membership.episode_no.desc())
        .limit(1)
    )
    if membership_id is None:
        raise invalid(
            "given_on",
            t(
                "NIK {n} belum terdaftar pada {d}",
                "NIK {n} has no registration on or before {d}",
            ).format(n=nik, d=day),
            record=nik,
        )
    existing = session.get(CampaignCodeUse, membership_id)
    before = None
    after = {
        "nik": nik,
        "membership_id": membership_id,
        "campaign_code": campaign_code,
        "given_at": given_at,
        "given_on": day.isoformat(),
    }
    if existing is not None:
        before = {
            "campaign_code": existing.campaign_code,
            "given_at": existing.given_at,
            "given_on": existing.given_on.isoformat(),
        }
        existing.campaign_code, existing.given_at, existing.given_on = campaign_code, given_at, day
        existing.recorded_at = clock.now()
    else:
        session.add(
            CampaignCodeUse(
                membership_id=membership_id,
                campaign_code=campaign_code,
                given_at=given_at,
                given_on=day,
                recorded_at=clock.now(),
            )
        )
    session.flush()
    record_audit(
        session,
        actor,
        "campaign.code_given",
        "membership",
        membership_id,
        before=before,
        after=after,
    )
    return after


def _date_or_invalid(field: str, value: str) -> date:
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

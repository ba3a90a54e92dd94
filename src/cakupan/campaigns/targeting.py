"""Targeting: rank segment x area pairs by the gap in coverage, the segment's past response to
campaigns and partner presence, with each factor's contribution shown (``rules.score_targets``)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from fractions import Fraction

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.campaigns.queries import compare_funnels
from cakupan.campaigns.rules import (
    FactorWeights,
    TargetingInput,
    TargetingScore,
    area_level,
    score_targets,
)
from cakupan.campaigns.segments import coverage
from cakupan.partners.models import Partner
from cakupan.regions.models import BranchRegency

__all__ = ["rank_targets", "segment_responsiveness"]


def segment_responsiveness(session: Session) -> dict[str, tuple[Fraction | None, Fraction | None]]:
    """Per segment, over all its campaigns: conversion (registered / reached) and month-6
    retention (retained at month 6 / registered); ``None`` without history."""
    out: dict[str, tuple[Fraction | None, Fraction | None]] = {}
    for row in compare_funnels(session, "segment"):
        counts = {s["stage"]: s["count"] for s in row["stages"]}
        reached, registered = counts["reached"], counts["registered"]
        out[row["segment"]] = (
            Fraction(registered, reached) if reached else None,
            Fraction(counts["retained_month_6"], registered) if registered else None,
        )
    return out


def _partners_per_area(session: Session, areas: set[str]) -> dict[str, int]:
    """Active partners (and agents) of the branches serving each area."""
    per_branch: dict[str, int] = {
        branch: int(count)
        for branch, count in session.execute(
            select(Partner.branch_code, func.count())
            .where(Partner.status == "active")
            .group_by(Partner.branch_code)
        )
    }
    pairs = session.execute(select(BranchRegency.regency_code, BranchRegency.branch_code)).all()
    branch_of: dict[str, str] = {row[0]: row[1] for row in pairs}
    regencies_of_province: dict[str, list[str]] = defaultdict(list)
    for regency in branch_of:
        regencies_of_province[regency[:2]].append(regency)
    out = {}
    for area in areas:
        level = area_level(area)
        regencies = regencies_of_province.get(area, []) if level == "province" else [area[:5]]
        branches = {branch_of[r] for r in regencies if r in branch_of}
        out[area] = sum(int(per_branch.get(b, 0)) for b in branches)
    return out


def rank_targets(
    session: Session,
    as_of: date,
    weights: FactorWeights,
    *,
    segment: str | None = None,
    area_prefix: str | None = None,
) -> list[TargetingScore]:
    """Score every segment x area that has a market potential (latest year on or before
    ``as_of``); the same data and weights always give the same ranking."""
    rows = coverage(session, as_of, segment=segment, area_prefix=area_prefix)
    responsiveness = segment_responsiveness(session)
    partners = _partners_per_area(session, {r.area for r in rows})
    inputs = [
        TargetingInput(
            segment=r.segment,
            area=r.area,
            gap=r.gap,
            conversion=responsiveness.get(r.segment, (None, None))[0],
            retention=responsiveness.get(r.segment, (None, None))[1],
            partners=partners[r.area],
        )
        for r in rows
    ]
    return score_targets(inputs, weights)

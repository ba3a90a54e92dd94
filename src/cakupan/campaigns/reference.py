"""Shipped data of the campaigns area: occupation groups and example segments (loaded into the
database once), the default targeting weights and the attribution window (read from files, each
with its version and source)."""

from __future__ import annotations

import json
from datetime import UTC
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.campaigns.models import OccupationGroup, OccupationGroupMember, Segment
from cakupan.campaigns.rules import FactorWeights
from cakupan.dates import SystemClock
from cakupan.errors import invalid
from cakupan.i18n import t
from cakupan.registry import reference as _occupations  # noqa: F401  (its loader runs first)

__all__ = [
    "default_window_days",
    "load_segments",
    "load_weights",
    "shipped_segments",
    "synthetic_potential_file",
]


def _data_text(name: str) -> str:
    return resources.files("cakupan.campaigns").joinpath(f"data/{name}").read_text("utf-8")


def shipped_segments() -> dict[str, Any]:
    """The shipped occupation groups and example segments (``data/segments.json``)."""
    data: dict[str, Any] = json.loads(_data_text("segments.json"))
    return data


def synthetic_potential_file() -> Path:
    """The shipped SYNTHETIC market-potential example (Lampung 2022, illustrative numbers)."""
    return Path(str(resources.files("cakupan.campaigns").joinpath("data"))) / (
        "potential_lampung_synthetic.csv"
    )


def default_window_days() -> int:
    """Days after a campaign's end during which a registration in its areas is attributed to it
    (rule 3), from ``data/attribution.json``."""
    return int(json.loads(_data_text("attribution.json"))["window_days"])


def load_weights(path: Path | None = None) -> FactorWeights:
    """Targeting weights from ``path`` (a user's JSON file) or the shipped default. Raises INVALID
    naming the field when a weight is missing or not a non-negative decimal."""
    if path is None:
        raw: Any = json.loads(_data_text("targeting_weights.json"))
        name = "targeting_weights.json"
    else:
        name = path.name
        try:
            raw = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError) as error:
            raise invalid(
                "weights",
                t("berkas bobot tidak terbaca: {e}", "cannot read the weights file: {e}").format(
                    e=error
                ),
                record=name,
            ) from None
    if not isinstance(raw, dict):
        raise invalid("weights", t("harus objek JSON", "must be a JSON object"), record=name)
    values: dict[str, Decimal] = {}
    for key in ("gap", "conversion", "retention", "partner_presence"):
        try:
            values[key] = Decimal(str(raw[key]))
            if values[key] < 0 or not values[key].is_finite():
                raise InvalidOperation
        except (KeyError, InvalidOperation):
            raise invalid(
                key,
                t(
                    "bobot harus desimal >= 0, diterima {v!r}",
                    "a weight must be a decimal >= 0, got {v!r}",
                ).format(v=raw.get(key)),
                record=name,
            ) from None
    saturation = raw.get("partner_saturation", 5)
    if not isinstance(saturation, int) or isinstance(saturation, bool) or saturation < 1:
        raise invalid(
            "partner_saturation",
            t(
                "harus bilangan bulat >= 1, diterima {v!r}", "expected an integer >= 1, got {v!r}"
            ).format(v=saturation),
            record=name,
        )
    return FactorWeights(
        gap=values["gap"],
        conversion=values["conversion"],
        retention=values["retention"],
        partner_presence=values["partner_presence"],
        partner_saturation=saturation,
        source=str(raw.get("source", name)),
        version=str(raw.get("version", name)),
    )


def segments_loaded(session: Session) -> bool:
    data = shipped_segments()
    groups = session.execute(select(func.count()).select_from(OccupationGroup)).scalar_one()
    shipped = session.execute(
        select(func.count()).select_from(Segment).where(Segment.shipped)
    ).scalar_one()
    return bool(groups >= len(data["occupation_groups"]) and shipped >= len(data["segments"]))


def load_segments(session: Session) -> int:
    """Insert the shipped occupation groups and example segments that are missing (never
    overwrites a row); returns how many rows were added."""
    data = shipped_segments()
    known_groups = set(session.execute(select(OccupationGroup.code)).scalars())
    known_segments = set(session.execute(select(Segment.code)).scalars())
    added = 0
    for group in data["occupation_groups"]:
        if group["code"] in known_groups:
            continue
        session.add(
            OccupationGroup(code=group["code"], name_id=group["name_id"], name_en=group["name_en"])
        )
        session.flush()
        for occupation in group["occupations"]:
            session.add(OccupationGroupMember(group_code=group["code"], occupation_code=occupation))
        added += 1
    now = SystemClock().now().astimezone(UTC)
    for segment in data["segments"]:
        if segment["code"] in known_segments:
            continue
        session.add(
            Segment(
                code=segment["code"],
                name_id=segment["name_id"],
                name_en=segment["name_en"],
                rule=segment["rule"],
                partner_institutions=segment["partner_institutions"],
                channels=segment["channels"],
                media=segment["media"],
                source=data["source"],
                shipped=True,
                created_at=now,
            )
        )
        added += 1
    session.flush()
    return added

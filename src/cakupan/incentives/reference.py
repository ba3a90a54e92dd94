"""The shipped scheme presets (``presets/*.json``) as reference data."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cakupan.auth import Actor
from cakupan.incentives.actions import add_scheme_version, parse_scheme_version
from cakupan.incentives.definition import SchemeVersion
from cakupan.incentives.models import IncentiveScheme

PRESETS_DIR = Path(__file__).parent / "presets"


@cache
def shipped_schemes() -> tuple[SchemeVersion, ...]:
    """Every preset file, validated."""
    return tuple(
        parse_scheme_version(path.read_text(encoding="utf-8"), record=path.name)
        for path in sorted(PRESETS_DIR.glob("*.json"))
    )


def schemes_loaded(session: Session) -> bool:
    stored = {
        (name, version)
        for name, version in session.execute(select(IncentiveScheme.name, IncentiveScheme.version))
    }
    return {(s.name, s.version) for s in shipped_schemes()} <= stored


def load_schemes(session: Session) -> int:
    actor = Actor.system("reference-loader")
    return sum(
        add_scheme_version(session, actor, scheme, origin="shipped") for scheme in shipped_schemes()
    )

"""Shipped reference data of the registry: the controlled list of occupations (domain.md section 6).

The list is data (``data/occupations.csv``), loaded once; more occupations can be added later
without code changes (rows are inserted when missing, never overwritten).
"""

from __future__ import annotations

import csv
from importlib import resources

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cakupan.registry.models import Occupation


def shipped_occupations() -> list[dict[str, str]]:
    """The occupations shipped with cakupan, as ``code``/``name_id``/``name_en`` rows."""
    text = resources.files("cakupan.registry").joinpath("data/occupations.csv").read_text("utf-8")
    return list(csv.DictReader(text.splitlines()))


def occupations_loaded(session: Session) -> bool:
    """Whether every shipped occupation is present."""
    present = session.execute(select(func.count()).select_from(Occupation)).scalar_one()
    return bool(present >= len(shipped_occupations()))


def load_occupations(session: Session) -> int:
    """Insert the shipped occupations that are missing; returns how many were added."""
    existing = set(session.execute(select(Occupation.code)).scalars())
    added = 0
    for row in shipped_occupations():
        if row["code"] in existing:
            continue
        session.add(Occupation(code=row["code"], name_id=row["name_id"], name_en=row["name_en"]))
        added += 1
    session.flush()
    return added

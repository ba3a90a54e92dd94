"""Tables of the incentives area: scheme versions (declarative definitions as data)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.db import AwareDateTime, Base


class IncentiveScheme(Base):
    """One version of an incentive scheme: validity, source and its definition
    (:class:`cakupan.incentives.definition.SchemeDefinition` as JSON)."""

    __tablename__ = "incentive_scheme"
    __table_args__ = (
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="dates"),
        CheckConstraint("version >= 1", name="version"),
    )

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    title_id: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: ``shipped`` (a preset file) or ``imported`` (added by a user).
    origin: Mapped[str] = mapped_column(String(20))
    loaded_at: Mapped[datetime] = mapped_column(AwareDateTime())

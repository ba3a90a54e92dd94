"""Tables of the targets area: target/realization figures per cell and source, splits, and the
weekly performance cycle (plans, execution log, reviews and their follow-up actions)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from cakupan.dates import Month
from cakupan.db import AwareDateTime, Base, BigIntPK, MonthType


class TargetCell(Base):
    """One cell of the target/realization table: office, period (inside one year), segment and
    metric. Figures from every source hang off it; a cell exists once."""

    __tablename__ = "target_cell"
    __table_args__ = (
        UniqueConstraint(
            "office_code", "first_month", "last_month", "segment", "metric", name="uq_target_cell"
        ),
        CheckConstraint("first_month <= last_month", name="month_order"),
        CheckConstraint("segment IN ('BPU', 'PU', 'JAKON')", name="segment"),
        CheckConstraint(
            "metric IN ('new_participants', 'active_participants', 'contributions', 'reacquired')",
            name="metric",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    office_code: Mapped[str] = mapped_column(String(20), index=True)
    year: Mapped[int] = mapped_column(Integer)
    first_month: Mapped[Month] = mapped_column(MonthType())
    last_month: Mapped[Month] = mapped_column(MonthType())
    segment: Mapped[str] = mapped_column(String(10))
    metric: Mapped[str] = mapped_column(String(30))


class TargetImport(Base):
    """One imported file of figures (audited once per import)."""

    __tablename__ = "target_import"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    accepted: Mapped[int] = mapped_column(Integer)
    duplicates: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(AwareDateTime())
    imported_by: Mapped[str] = mapped_column(String(120))


class TargetFigure(Base):
    """A target or a realization of one cell as one source states it. Two sources may disagree:
    both figures stay, and reports show the conflict."""

    __tablename__ = "target_figure"
    __table_args__ = (
        UniqueConstraint("cell_id", "kind", "source", name="uq_target_figure_cell_kind_source"),
        CheckConstraint("kind IN ('target', 'realization')", name="kind"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("target_cell.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    value: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(200))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("target_import.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())


class TargetSplit(Base):
    """The part of a cell's target the head gives to one staff member, partner or district."""

    __tablename__ = "target_split"
    __table_args__ = (
        UniqueConstraint("cell_id", "part_kind", "part_code", name="uq_target_split_part"),
        CheckConstraint("part_kind IN ('staff', 'partner', 'district')", name="part_kind"),
        CheckConstraint("value >= 0", name="value_not_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("target_cell.id"), index=True)
    part_kind: Mapped[str] = mapped_column(String(10))
    part_code: Mapped[str] = mapped_column(String(40))
    value: Mapped[int] = mapped_column(BigInteger)


class PerformancePlan(Base):
    """A week's or a month's plan of an office: where, whom, who does what, expected results."""

    __tablename__ = "performance_plan"
    __table_args__ = (
        UniqueConstraint("office_code", "kind", "first_day", name="uq_performance_plan_period"),
        CheckConstraint("kind IN ('week', 'month')", name="kind"),
        CheckConstraint("first_day <= last_day", name="day_order"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    office_code: Mapped[str] = mapped_column(String(20), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(120))


class PlanActivity(Base):
    """One planned activity: sosialisasi or field work in a district/village, aimed at a segment
    and prospects, assigned to a staff member, agent or partner, with expected results."""

    __tablename__ = "plan_activity"
    __table_args__ = (
        CheckConstraint("assignee_kind IN ('staff', 'agent', 'partner')", name="assignee_kind"),
        CheckConstraint("segment IN ('BPU', 'PU', 'JAKON')", name="segment"),
        CheckConstraint("expected_registrations >= 0", name="expected_registrations"),
        CheckConstraint("expected_contributions >= 0", name="expected_contributions"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("performance_plan.id"), index=True)
    activity: Mapped[str] = mapped_column(String(40))
    district_code: Mapped[str] = mapped_column(String(20))
    village_code: Mapped[str | None] = mapped_column(String(20))
    segment: Mapped[str] = mapped_column(String(10))
    prospects: Mapped[str] = mapped_column(String(200))
    assignee_kind: Mapped[str] = mapped_column(String(10))
    assignee_code: Mapped[str] = mapped_column(String(40))
    scheduled_on: Mapped[date | None] = mapped_column(Date)
    expected_registrations: Mapped[int] = mapped_column(Integer)
    expected_contributions: Mapped[int] = mapped_column(BigInteger)


class ExecutionEntry(Base):
    """What was done in the field: visits, contacts, letters, new businesses, registrations."""

    __tablename__ = "execution_entry"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('visit', 'contact', 'letter', 'new_business', 'registration')", name="kind"
        ),
        CheckConstraint("assignee_kind IN ('staff', 'agent', 'partner')", name="assignee_kind"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    office_code: Mapped[str] = mapped_column(String(20), index=True)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("plan_activity.id"), index=True)
    done_on: Mapped[date] = mapped_column(Date, index=True)
    assignee_kind: Mapped[str] = mapped_column(String(10))
    assignee_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int] = mapped_column(Integer)
    nik: Mapped[str | None] = mapped_column(String(16), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())
    recorded_by: Mapped[str] = mapped_column(String(120))


class WeeklyReview(Base):
    """The head's weekly review meeting of one office for one week (Monday to Sunday)."""

    __tablename__ = "weekly_review"
    __table_args__ = (UniqueConstraint("office_code", "week_start", name="uq_weekly_review_week"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    office_code: Mapped[str] = mapped_column(String(20), index=True)
    week_start: Mapped[date] = mapped_column(Date)
    held_on: Mapped[date] = mapped_column(Date)
    led_by: Mapped[str] = mapped_column(String(120))


class ReviewNote(Base):
    """A problem, solution or decision recorded in a review."""

    __tablename__ = "review_note"
    __table_args__ = (CheckConstraint("kind IN ('problem', 'solution', 'decision')", name="kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("weekly_review.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    text: Mapped[str] = mapped_column(Text)


class ReviewAction(Base):
    """A follow-up action with an owner and a due date; it stays on every later review of its
    office until it is closed."""

    __tablename__ = "review_action"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    office_code: Mapped[str] = mapped_column(String(20), index=True)
    raised_in_review_id: Mapped[int] = mapped_column(ForeignKey("weekly_review.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    owner_code: Mapped[str] = mapped_column(String(40))
    due_on: Mapped[date] = mapped_column(Date)
    closed_in_review_id: Mapped[int | None] = mapped_column(ForeignKey("weekly_review.id"))
    closed_on: Mapped[date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(Text)


class StatedAchievement(Base):
    """An achievement percentage as a source prints it (``"102"``, ``"97.4"``), kept to check it
    against the figures; reports always compute achievement from the figures themselves."""

    __tablename__ = "target_stated_achievement"
    __table_args__ = (
        UniqueConstraint("cell_id", "source", name="uq_target_stated_achievement_cell_source"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("target_cell.id"), index=True)
    percent: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(200))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("target_import.id"))
    recorded_at: Mapped[datetime] = mapped_column(AwareDateTime())


class TargetChoice(Base):
    """Which source's figure counts for a cell when sources disagree (chosen by the office's
    head, with the reason): the chosen value is used, the other figures stay visible."""

    __tablename__ = "target_choice"
    __table_args__ = (
        UniqueConstraint("cell_id", "kind", name="uq_target_choice_cell_kind"),
        CheckConstraint("kind IN ('target', 'realization')", name="kind"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    cell_id: Mapped[int] = mapped_column(ForeignKey("target_cell.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    chosen_by: Mapped[str] = mapped_column(String(120))
    chosen_at: Mapped[datetime] = mapped_column(AwareDateTime())

"""Training, scoring and backtesting the lapse-risk model: one module that the CLI, the pages,
the demo seed and the benchmark call (train and score write, through :mod:`cakupan.retention`'s
tables, and audit)."""

from __future__ import annotations

import json
import math
import pickle
from datetime import date
from typing import Any, cast

import numpy as np
from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from cakupan.audit import record_audit
from cakupan.auth import Actor
from cakupan.dates import Clock, Month, SystemClock
from cakupan.errors import invalid, not_found
from cakupan.i18n import t
from cakupan.registry.models import Membership
from cakupan.retention.features import NUMERIC, Examples, build_examples
from cakupan.retention.model import (
    LapseModel,
    baseline_metrics,
    baseline_probabilities,
    fit,
    model_metrics,
)
from cakupan.retention.models import RetentionModel, RetentionScore
from cakupan.retention.rules import reasons_for

#: Months of examples a model is trained on (the most recent ones before its target).
TRAINING_MONTHS = 12
#: Fewest labelled months to train on.
MIN_TRAINING_MONTHS = 2
#: Rows inserted per statement when storing scores.
SCORE_BATCH = 20_000


def _first_month(session: Session) -> Month | None:
    first = session.scalar(select(func.min(Membership.start_month)))
    return first if isinstance(first, Month) else None


def training_months(session: Session, last: Month) -> list[Month]:
    """The (at most 12) months up to ``last`` whose examples exist (from the first episode's
    start month + 1: a month's examples are episodes registered before it)."""
    first = _first_month(session)
    if first is None:
        return []
    start = max(first + 1, last + (1 - TRAINING_MONTHS))
    return [start + k for k in range(last.index - start.index + 1)]


def _labelled(session: Session, months: list[Month], known_on: date) -> list[Examples]:
    out = []
    for month in months:
        examples = build_examples(session, month, known_on=known_on)
        if len(examples) and examples.labels is not None:
            out.append(examples)
    return out


def _check_training(examples: list[Examples], last: Month) -> None:
    if len(examples) < MIN_TRAINING_MONTHS:
        raise invalid(
            "as_of",
            t(
                f"butuh paling sedikit {MIN_TRAINING_MONTHS} bulan berlabel sampai {last},"
                f" ada {len(examples)}",
                f"at least {MIN_TRAINING_MONTHS} labelled months up to {last} are needed,"
                f" found {len(examples)}",
            ),
        )


def train_model(
    session: Session,
    actor: Actor,
    as_of: date,
    *,
    synthetic: bool = False,
    backtest_months: int = 0,
    clock: Clock | None = None,
) -> dict[str, Any]:
    """Train a model on the months that ended by ``as_of`` (the last 12), store it versioned
    with its window and metrics, audit it. Its held-out metrics are those of a model trained on
    the same window less its last month, scored on that month. With ``backtest_months`` the
    backtest of that many months (:func:`backtest`) is stored with it (the page shows it)."""
    clock = clock or SystemClock()
    last = Month.of(as_of) if as_of == Month.of(as_of).last_day else Month.of(as_of) + -1
    months = training_months(session, last)
    examples = _labelled(session, months, as_of)
    _check_training(examples, last)
    held_out: dict[str, Any] = {}
    if len(examples) > MIN_TRAINING_MONTHS:
        check = fit(examples[:-1])
        test = examples[-1]
        assert test.labels is not None
        held_out = {
            "month": str(test.month),
            "model": model_metrics(check.predict(test), test.labels),
            "baseline": baseline_metrics(test, test.labels),
        }
    model = fit(examples)
    n = sum(len(e) for e in examples)
    lapsed = int(sum(int(e.labels.sum()) for e in examples if e.labels is not None))
    count = session.scalar(select(func.count()).select_from(RetentionModel)) or 0
    version = f"lapse-{as_of:%Y%m%d}-{count + 1}"
    metrics: dict[str, Any] = {"held_out": held_out, "features": list(_feature_names())}
    if backtest_months:
        metrics["backtest"] = backtest(session, as_of, backtest_months, synthetic=synthetic)
    row = RetentionModel(
        version=version,
        as_of=as_of,
        train_first=examples[0].month,
        train_last=examples[-1].month,
        examples=n,
        lapsed=lapsed,
        metrics=json.dumps(_clean(metrics)),
        synthetic=synthetic,
        artifact=pickle.dumps(model),
        trained_at=clock.now(),
        trained_by=actor.name,
    )
    session.add(row)
    session.flush()
    summary = {
        "model": version,
        "id": row.id,
        "as_of": as_of.isoformat(),
        "train_first": str(examples[0].month),
        "train_last": str(examples[-1].month),
        "examples": n,
        "lapsed": lapsed,
        "held_out": held_out,
        "synthetic": synthetic,
    }
    record_audit(
        session,
        actor,
        "retention.train",
        "retention_model",
        row.id,
        after={k: v for k, v in summary.items() if k != "held_out"},
    )
    return dict(_clean(summary))


def _feature_names() -> tuple[str, ...]:
    from cakupan.retention.features import FEATURES

    return FEATURES


def _json_number(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)


def _clean(value: Any) -> Any:
    """``value`` with NaN floats as None and numpy scalars as Python numbers (JSON-safe)."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def load_model(session: Session, before: Month) -> tuple[RetentionModel, LapseModel]:
    """The latest stored model trained on months before ``before`` (no model sees its target)."""
    row = session.scalar(
        select(RetentionModel)
        .where(RetentionModel.train_last < before)
        .order_by(RetentionModel.id.desc())
        .limit(1)
    )
    if row is None:
        raise not_found(
            t(
                f"Belum ada model yang dilatih sebelum {before}: jalankan"
                " `cakupan retention train`",
                f"No model trained before {before}: run `cakupan retention train`",
            ),
            code="retention.no_model",
        )
    model = pickle.loads(row.artifact)
    if not isinstance(model, LapseModel):
        raise TypeError("unexpected model artifact")
    return row, model


def _store_scores(session: Session, rows: list[tuple[int, int, int, int, float, str]]) -> None:
    """Insert score rows ``(month index, participant, membership, model, risk, reasons)``:
    PostgreSQL's COPY (one stream, no per-row statement) there, batched Core executemany on
    SQLite."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        driver = connection.connection.driver_connection
        assert driver is not None
        columns = "month, participant_id, membership_id, model_id, risk, reasons"
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY retention_score ({columns}) FROM STDIN") as copy,
        ):
            for values in rows:
                copy.write_row(values)
        return
    keys = ("month", "participant_id", "membership_id", "model_id", "risk", "reasons")
    for start in range(0, len(rows), SCORE_BATCH):
        session.execute(
            insert(SCORE_TABLE),
            [dict(zip(keys, v, strict=True)) for v in rows[start : start + SCORE_BATCH]],
        )


#: The scores' table, for Core executemany inserts.
SCORE_TABLE = cast(Table, RetentionScore.__table__)


def score_month(
    session: Session, actor: Actor, month: Month, *, clock: Clock | None = None
) -> dict[str, Any]:
    """Score every participant of ``month`` (features as of the last day of the month before)
    with the latest model trained before it; replace the month's stored scores; audit."""
    clock = clock or SystemClock()
    row, model = load_model(session, month)
    examples = build_examples(session, month)
    risk = model.predict(examples)
    session.execute(delete(RetentionScore).where(RetentionScore.month == month))
    rows = [
        (
            month.index,
            pid,
            mid,
            row.id,
            float(r),
            ",".join(reasons_for(dict(zip(NUMERIC, v, strict=True)))),
        )
        for pid, mid, r, v in zip(
            examples.participant_ids,
            examples.membership_ids,
            risk.tolist(),
            examples.numeric.tolist(),
            strict=True,
        )
    ]
    _store_scores(session, rows)
    summary = {
        "month": str(month),
        "model": row.version,
        "scored": len(examples),
        "mean_risk": round(float(risk.mean()), 4) if len(risk) else None,
        "high_risk": int((risk >= 0.5).sum()),
    }
    record_audit(session, actor, "retention.score", "retention_score", None, after=summary)
    return summary


def backtest(
    session: Session, as_of: date, months: int = 6, *, synthetic: bool | None = None
) -> dict[str, Any]:
    """For each of the last ``months`` months that ended by ``as_of``: train on the (up to 12)
    months before it, score it, and compare with the baseline rule (fewest months paid first).
    ``synthetic`` defaults to whether the latest stored model was trained on synthetic data."""
    if months < 1:
        raise invalid("months", t(f"paling sedikit 1, bukan {months}", f"at least 1, got {months}"))
    last = Month.of(as_of) if as_of == Month.of(as_of).last_day else Month.of(as_of) + -1
    targets = [last + (k - months + 1) for k in range(months)]
    first_needed = targets[0] + (-TRAINING_MONTHS)
    window = training_months(session, last)
    cache: dict[Month, Examples] = {}
    for month in [m for m in window if m >= first_needed] + [m for m in targets if m not in window]:
        examples = build_examples(session, month, known_on=as_of)
        if len(examples) and examples.labels is not None:
            cache[month] = examples
    out_months: list[dict[str, Any]] = []
    for target in targets:
        test = cache.get(target)
        training = [cache[m] for m in sorted(cache) if target + (-TRAINING_MONTHS) <= m < target]
        if test is None or test.labels is None or len(training) < MIN_TRAINING_MONTHS:
            continue
        model = fit(training)
        probabilities = model.predict(test)
        base = baseline_metrics(test, test.labels)
        base["brier"] = round(
            float(np.mean((baseline_probabilities(training, test) - test.labels) ** 2)), 4
        )
        metrics = model_metrics(probabilities, test.labels)
        out_months.append(
            {
                "month": str(target),
                "model": metrics,
                "baseline": base,
                "n": len(test),
                "lapsed": int(test.labels.sum()),
                "train_first": str(training[0].month),
                "train_last": str(training[-1].month),
                "beats_baseline": bool(
                    metrics["auc"] > base["auc"]
                    and metrics["top10_capture"] >= base["top10_capture"]
                    and metrics["top20_capture"] >= base["top20_capture"]
                ),
            }
        )
    if synthetic is None:
        latest = session.scalar(
            select(RetentionModel.synthetic).order_by(RetentionModel.id.desc()).limit(1)
        )
        synthetic = bool(latest)
    payload = {"synthetic": synthetic, "as_of": as_of.isoformat(), "months": out_months}
    return dict(_clean(payload))

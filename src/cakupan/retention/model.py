"""The lapse-risk model and its metrics (no database): a scikit-learn histogram gradient-boosted
classifier on the features of :mod:`cakupan.retention.features`, its probabilities calibrated by
isotonic regression on cross-validation folds (``CalibratedClassifierCV``), no class resampling.
And the baseline a kabid would use without a model: fewest months paid first."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import brier_score_loss, roc_auc_score
from threadpoolctl import threadpool_limits

from cakupan.retention.features import CATEGORICAL, NUMERIC, Examples

#: Random seed of the fit (the same data gives the same model).
SEED = 15
#: Folds of the calibration.
CALIBRATION_FOLDS = 3
#: OpenMP threads of the booster: one. On a busy shared machine OpenMP's spinning threads made a
#: fit 14 times slower than one thread (86 s against 6 s on 5,000 rows at load 12, 2 cores).
THREADS = 1


@dataclass
class LapseModel:
    """A fitted model with the vocabulary of its categorical features."""

    estimator: Any
    vocabulary: dict[str, dict[str, int]] = field(default_factory=dict)

    def matrix(self, examples: Examples) -> np.ndarray[Any, Any]:
        return _matrix(examples, self.vocabulary)

    def predict(self, examples: Examples, batch: int = 200_000) -> np.ndarray[Any, Any]:
        """The probability of a lapse for every example (in batches)."""
        if len(examples) == 0:
            return np.zeros(0)
        x = self.matrix(examples)
        with threadpool_limits(THREADS):
            parts = [
                self.estimator.predict_proba(x[i : i + batch])[:, 1]
                for i in range(0, len(x), batch)
            ]
        clipped: np.ndarray[Any, Any] = np.clip(np.concatenate(parts), 0.0, 1.0)
        return clipped


def _vocabulary(examples: Sequence[Examples]) -> dict[str, dict[str, int]]:
    vocab: dict[str, dict[str, int]] = {name: {} for name in CATEGORICAL}
    for ex in examples:
        for values in ex.categorical:
            for name, value in zip(CATEGORICAL, values, strict=True):
                codes = vocab[name]
                if value not in codes:
                    codes[value] = len(codes)
    return vocab


def _matrix(examples: Examples, vocab: dict[str, dict[str, int]]) -> np.ndarray[Any, Any]:
    cats = np.full((len(examples), len(CATEGORICAL)), np.nan)
    for i, values in enumerate(examples.categorical):
        for j, (name, value) in enumerate(zip(CATEGORICAL, values, strict=True)):
            code = vocab[name].get(value)
            if code is not None:
                cats[i, j] = code
    return np.hstack([examples.numeric, cats])


def fit(training: Sequence[Examples]) -> LapseModel:
    """Fit the calibrated model on the labelled examples of the given months."""
    vocab = _vocabulary(training)
    x = np.vstack([_matrix(ex, vocab) for ex in training])
    labels = [ex.labels for ex in training]
    if any(y is None for y in labels):
        raise ValueError("every training month needs its labels")
    y = np.concatenate([lab for lab in labels if lab is not None])
    categorical = [False] * len(NUMERIC) + [True] * len(CATEGORICAL)
    booster = HistGradientBoostingClassifier(
        learning_rate=0.08,
        max_iter=150,
        max_leaf_nodes=15,
        min_samples_leaf=40,
        l2_regularization=1.0,
        categorical_features=categorical,
        early_stopping=False,
        random_state=SEED,
    )
    folds = min(CALIBRATION_FOLDS, int(min(y.sum(), len(y) - y.sum())))
    with threadpool_limits(THREADS):
        if folds < 2:
            booster.fit(x, y)
            return LapseModel(booster, vocab)
        model = CalibratedClassifierCV(booster, method="isotonic", cv=folds)
        model.fit(x, y)
    return LapseModel(model, vocab)


def baseline_scores(examples: Examples) -> np.ndarray[Any, Any]:
    """The kabid's rule without a model: fewest months paid first (a higher score = called
    earlier); a registration that paid nothing comes first."""
    months_paid = examples.numeric[:, NUMERIC.index("months_paid")]
    return -months_paid


def _top_capture(scores: np.ndarray[Any, Any], y: np.ndarray[Any, Any], share: float) -> float:
    """The share of the lapses found in the top ``share`` of the list ranked by ``scores`` (ties
    in the order of the examples, i.e. by participant id)."""
    lapses = int(y.sum())
    if lapses == 0:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    top = math.ceil(share * len(scores))
    return float(y[order[:top]].sum()) / lapses


def calibration_table(
    probabilities: np.ndarray[Any, Any], y: np.ndarray[Any, Any], bins: int = 10
) -> list[dict[str, float | int]]:
    """Deciles of the predicted probability (equal counts): size, mean predicted, observed rate."""
    if len(y) == 0:
        return []
    order = np.argsort(probabilities, kind="stable")
    out: list[dict[str, float | int]] = []
    for k, idx in enumerate(np.array_split(order, bins)):
        if len(idx) == 0:
            continue
        out.append(
            {
                "decile": k + 1,
                "n": len(idx),
                "predicted": round(float(probabilities[idx].mean()), 4),
                "observed": round(float(y[idx].mean()), 4),
            }
        )
    return out


def expected_calibration_error(
    probabilities: np.ndarray[Any, Any], y: np.ndarray[Any, Any], bins: int = 10
) -> float:
    """ECE over equal-count deciles: the size-weighted mean |predicted - observed|."""
    table = calibration_table(probabilities, y, bins)
    total = sum(int(row["n"]) for row in table)
    if total == 0:
        return 0.0
    return (
        sum(int(row["n"]) * abs(float(row["predicted"]) - float(row["observed"])) for row in table)
        / total
    )


def ranking_metrics(scores: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> dict[str, float]:
    """ROC AUC, top-10% and top-20% capture of ``scores`` against the labels ``y``; the Brier
    score when ``scores`` are probabilities (else NaN is not reported: the caller adds it)."""
    both = 0 < int(y.sum()) < len(y)
    return {
        "auc": round(float(roc_auc_score(y, scores)), 4) if both else math.nan,
        "top10_capture": round(_top_capture(scores, y, 0.10), 4),
        "top20_capture": round(_top_capture(scores, y, 0.20), 4),
    }


def model_metrics(probabilities: np.ndarray[Any, Any], y: np.ndarray[Any, Any]) -> dict[str, Any]:
    """Every metric of the model on one held-out month."""
    out: dict[str, Any] = ranking_metrics(probabilities, y)
    out["brier"] = round(float(brier_score_loss(y, probabilities)), 4) if len(y) else math.nan
    out["ece"] = round(expected_calibration_error(probabilities, y), 4)
    base_rate = float(y.mean()) if len(y) else 0.0
    out["top10_lift"] = round(out["top10_capture"] / 0.10, 2) if base_rate else math.nan
    out["calibration"] = calibration_table(probabilities, y)
    return out


def baseline_metrics(examples: Examples, y: np.ndarray[Any, Any]) -> dict[str, Any]:
    """The baseline rule's metrics. Its Brier score uses, as its probability, the lapse rate of
    each months-paid value in the training months (``rates``) when given, else the ranks."""
    scores = baseline_scores(examples)
    return ranking_metrics(scores, y)


def baseline_probabilities(
    training: Sequence[Examples], examples: Examples
) -> np.ndarray[Any, Any]:
    """The baseline turned into probabilities for its Brier score: the lapse rate of each
    months-paid value (capped at 12) in the training months."""
    col = NUMERIC.index("months_paid")
    counts: dict[int, list[int]] = {}
    total = [0, 0]
    for ex in training:
        if ex.labels is None:
            continue
        for value, label in zip(ex.numeric[:, col], ex.labels, strict=True):
            key = min(int(value), 12)
            pair = counts.setdefault(key, [0, 0])
            pair[0] += int(label)
            pair[1] += 1
            total[0] += int(label)
            total[1] += 1
    overall = total[0] / total[1] if total[1] else 0.5
    return np.array(
        [
            (lambda pair: pair[0] / pair[1] if pair and pair[1] else overall)(
                counts.get(min(int(v), 12))
            )
            for v in examples.numeric[:, col]
        ]
    )

"""Evaluation metrics from labels and model outputs, by the names gates use."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from sklearn import metrics as sk

Scorer = Callable[[np.ndarray, np.ndarray], float]


def _classes(scores: np.ndarray) -> np.ndarray:
    # Scores that are already labels stay as they are; probabilities are cut at one half.
    unique = np.unique(scores)
    if np.isin(unique, (0, 1)).all():
        labels: np.ndarray = scores.astype(int)
    else:
        labels = (scores >= 0.5).astype(int)
    return labels


def _clipped(scores: np.ndarray) -> np.ndarray:
    clipped: np.ndarray = np.clip(scores, 1e-15, 1 - 1e-15)
    return clipped


METRICS: dict[str, Scorer] = {
    "roc_auc": lambda y, s: float(sk.roc_auc_score(y, s)),
    "pr_auc": lambda y, s: float(sk.average_precision_score(y, s)),
    "log_loss": lambda y, s: float(sk.log_loss(y, _clipped(s), labels=[0, 1])),
    "accuracy": lambda y, s: float(sk.accuracy_score(y, _classes(s))),
    "precision": lambda y, s: float(sk.precision_score(y, _classes(s), zero_division=0)),
    "recall": lambda y, s: float(sk.recall_score(y, _classes(s), zero_division=0)),
    "f1": lambda y, s: float(sk.f1_score(y, _classes(s), zero_division=0)),
    "rmse": lambda y, s: float(np.sqrt(sk.mean_squared_error(y, s))),
    "mae": lambda y, s: float(sk.mean_absolute_error(y, s)),
    "r2": lambda y, s: float(sk.r2_score(y, s)),
}


def compute(names: list[str], labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """The named metrics; an unknown name is an error naming what exists."""
    unknown = [name for name in names if name not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric {', '.join(unknown)}; known: {', '.join(sorted(METRICS))}")
    return {name: METRICS[name](labels, scores) for name in names}

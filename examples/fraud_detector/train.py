"""The fraud detector's training entrypoint, as a model stack declares it (module:function).

The pipeline calls `train(**arguments)` with the run's MLflow tracking already set, and uses the
model URI it returns. Arguments arrive as strings from the command line or the workflow.

Two arguments make worse versions on purpose, to show the pipeline stopping them:
- label_noise: the share of training labels flipped; a noisy model fails its quality gates.
- strict_categories: 'true' makes the encoder refuse categories it never saw; such a model passes
  its gates on familiar data and fails live, on a country it has not seen, in canary analysis.
"""

from __future__ import annotations

import mlflow
import mlflow.sklearn
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from examples.fraud_detector.data import LABEL, write_datasets

CATEGORICAL = ["merchant_category", "country"]


def _flag(value: str | bool) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes"}


def build(strict_categories: bool, max_iter: int) -> Pipeline:
    """The model: one-hot categories, gradient-boosted trees."""
    encoder = OneHotEncoder(handle_unknown="error" if strict_categories else "ignore", sparse_output=False)
    features = ColumnTransformer([("categories", encoder, CATEGORICAL)], remainder="passthrough")
    return Pipeline(
        [("features", features), ("model", HistGradientBoostingClassifier(max_iter=max_iter, random_state=0))]
    )


def train(
    label_noise: str = "0", strict_categories: str = "false", seed: str = "7", max_iter: str = "150"
) -> str:
    """Train on the synthetic transactions, log the model to MLflow, and return its URI."""
    train_path, _ = write_datasets(seed=int(seed))
    frame = pd.read_csv(train_path)
    features, labels = frame.drop(columns=[LABEL]), frame[LABEL].to_numpy().copy()
    noise = float(label_noise)
    if not 0.0 <= noise < 1.0:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise}")
    if noise:
        flip = np.random.default_rng(int(seed) + 100).random(len(labels)) < noise
        labels[flip] = 1 - labels[flip]
    model = build(_flag(strict_categories), int(max_iter)).fit(features, labels)
    with mlflow.start_run(nested=mlflow.active_run() is not None, run_name="train") as run:
        mlflow.log_params(
            {"label_noise": noise, "strict_categories": _flag(strict_categories), "max_iter": max_iter}
        )
        sample = features.head(5)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            pyfunc_predict_fn="predict_proba",
            serialization_format="cloudpickle",
            signature=infer_signature(sample, model.predict_proba(sample)),
            input_example=sample,
        )
        mlflow.set_tag("slipway.training_data", str(train_path))
        del run
    return str(info.model_uri)

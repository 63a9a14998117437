"""Labelled data for evaluation: read from a path or URI, fingerprinted, profiled, checked."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

# A hundred and one points of the quantile function: what drift checks compare against.
PROFILE_QUANTILES = tuple(i / 100 for i in range(101))
MAX_CATEGORIES = 50


class DataError(ValueError):
    """The data cannot be used; the message names the file and what is wrong."""


def resolve(uri: str, base: Path | None = None) -> str:
    """A relative path is taken from the project directory (or SLIPWAY_PROJECT_DIR)."""
    if "://" in uri or Path(uri).is_absolute():
        return uri
    root = base or Path(os.environ.get("SLIPWAY_PROJECT_DIR", "."))
    return str((root / uri).resolve())


def _local_copy(uri: str) -> Path:
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):
        return Path(parsed.path if parsed.scheme else uri)
    if parsed.scheme == "s3":
        import boto3

        target = Path(tempfile.mkdtemp(prefix="slipway-data-")) / Path(parsed.path).name
        boto3.client("s3", endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL")).download_file(
            parsed.netloc, parsed.path.lstrip("/"), str(target)
        )
        return target
    raise DataError(f"{uri}: unsupported scheme {parsed.scheme!r}; allowed: a path, file:// or s3://")


def load(uri: str) -> tuple[pd.DataFrame, str]:
    """The data at a path or URI (CSV or Parquet) and the SHA-256 of its bytes."""
    try:
        path = _local_copy(uri)
        content = path.read_bytes()
    except FileNotFoundError as error:
        raise DataError(f"{uri}: no such file") from error
    except OSError as error:
        raise DataError(f"{uri}: {error}") from error
    except Exception as error:  # the object store's errors differ by backend; each is a data error
        if isinstance(error, DataError):
            raise
        raise DataError(f"{uri}: {error}") from error
    digest = hashlib.sha256(content).hexdigest()
    try:
        frame = pd.read_parquet(path) if path.suffix in (".parquet", ".pq") else pd.read_csv(path)
    except (ValueError, OSError) as error:
        raise DataError(
            f"{uri}: not readable as {'Parquet' if path.suffix == '.parquet' else 'CSV'}: {error}"
        ) from error
    if frame.empty:
        raise DataError(f"{uri}: no rows")
    return frame, digest


def split_label(frame: pd.DataFrame, label: str, uri: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Features and labels, or an error naming the missing label column."""
    if label not in frame.columns:
        raise DataError(f"{uri}: no label column {label!r}; columns: {', '.join(map(str, frame.columns))}")
    labels = frame[label]
    if labels.isna().any():
        raise DataError(f"{uri}: {int(labels.isna().sum())} rows have no {label!r}")
    return frame.drop(columns=[label]), labels.to_numpy()


def profile(frame: pd.DataFrame) -> dict[str, Any]:
    """Per-column statistics suited to the type: the reference drift checks compare against."""
    columns: dict[str, Any] = {}
    for name in frame.columns:
        series = frame[name]
        missing = float(series.isna().mean())
        if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            values = series.dropna().astype(float)
            columns[str(name)] = {
                "kind": "numeric",
                "missing": missing,
                "mean": float(values.mean()) if len(values) else 0.0,
                "std": float(values.std(ddof=0)) if len(values) else 0.0,
                "quantiles": [float(q) for q in np.quantile(values, PROFILE_QUANTILES)]
                if len(values)
                else [],
            }
        else:
            counts = series.dropna().astype(str).value_counts(normalize=True)
            top = counts.head(MAX_CATEGORIES)
            columns[str(name)] = {
                "kind": "categorical",
                "missing": missing,
                "frequencies": {str(key): float(value) for key, value in top.items()},
                "other": float(max(0.0, 1.0 - top.sum())),
            }
    return {"rows": len(frame), "columns": columns}


def schema_problems(features: pd.DataFrame, expected: dict[str, str] | None) -> list[str]:
    """Columns the model needs that the data lacks, or whose kind differs."""
    if not expected:
        return []
    problems = []
    for column, kind in expected.items():
        if column not in features.columns:
            problems.append(f"missing column {column!r}")
            continue
        numeric = pd.api.types.is_numeric_dtype(features[column])
        if kind in ("double", "float", "long", "integer") and not numeric:
            problems.append(f"column {column!r} should be numeric ({kind}), is {features[column].dtype}")
    return problems


def statistics_problems(
    current: dict[str, Any], reference: dict[str, Any], tolerance: float = 0.2
) -> list[str]:
    """Large differences from the reference profile: missing columns, missing values, lost categories."""
    problems = []
    for name, expected in reference.get("columns", {}).items():
        found = current["columns"].get(name)
        if found is None:
            problems.append(f"column {name!r} of the reference is absent")
            continue
        if found["missing"] - expected["missing"] > tolerance:
            problems.append(
                f"column {name!r} is missing in {found['missing']:.0%} of rows "
                f"(reference {expected['missing']:.0%})"
            )
    return problems

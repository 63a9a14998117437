"""Loading a model in MLflow's format for serving, with as little in memory as the flavor allows.

A scikit-learn model saved with pickle or cloudpickle is loaded by reading its MLmodel file and
unpickling it: the server then never imports MLflow itself, which is most of a pyfunc's memory.
Every other flavor loads through mlflow.pyfunc. A model held by a tracking server or an object
store is first downloaded by a short-lived process, whose memory goes back when it exits.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml

from pipelines.serving.payload import NUMPY_TYPES, PayloadError

LIGHT_SERIALIZATIONS = ("pickle", "cloudpickle")


class LoadError(RuntimeError):
    """The model cannot be loaded; the message says which model and why."""


class SklearnModel:
    """A pickled scikit-learn model and the method its pyfunc flavor names."""

    def __init__(
        self, model: Any, method: str, input_types: dict[str, str], required: tuple[str, ...]
    ) -> None:
        """Wrap the unpickled model."""
        self.model = model
        self.predict_method = getattr(model, method)
        self.input_types = input_types
        self.required = required
        self.metadata = None

    def predict(self, frame: Any) -> Any:
        """Predict with the flavor's method, refusing rows that lack a required column."""
        missing = [column for column in self.required if column not in frame.columns]
        if missing:
            raise PayloadError(f"missing required column(s) {', '.join(missing)}")
        ordered = frame[list(self.required)] if self.required else frame
        return self.predict_method(ordered)


def local_copy(uri: str) -> Path:
    """A directory holding the model: the URI itself, or a download made in another process."""
    plain = uri[len("file://") :] if uri.startswith("file://") else uri
    if "://" not in plain and not plain.startswith(("models:", "runs:")):
        path = Path(plain)
        if not (path / "MLmodel").is_file():
            raise LoadError(f"{uri}: no MLmodel file there")
        return path
    target = Path(tempfile.mkdtemp(prefix="slipway-model-"))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlflow",
            "artifacts",
            "download",
            "--artifact-uri",
            uri,
            "--dst-path",
            str(target),
        ],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ.copy(),
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise LoadError(f"cannot download {uri}: {last}")
    found = [path.parent for path in target.rglob("MLmodel")]
    if not found:
        raise LoadError(f"{uri}: the download holds no MLmodel file")
    return found[0]


def _signature(meta: dict[str, Any]) -> tuple[dict[str, str], tuple[str, ...]]:
    inputs = (meta.get("signature") or {}).get("inputs")
    if not inputs:
        return {}, ()
    columns = json.loads(inputs)
    types = {
        c["name"]: NUMPY_TYPES[c["type"]] for c in columns if c.get("name") and c.get("type") in NUMPY_TYPES
    }
    required = tuple(c["name"] for c in columns if c.get("name") and c.get("required", True))
    return types, required


def load(uri: str) -> Any:
    """The model at a URI, as an object with predict(frame)."""
    path = local_copy(uri)
    meta = yaml.safe_load((path / "MLmodel").read_text(encoding="utf-8"))
    flavors = meta.get("flavors", {})
    pyfunc, sklearn = flavors.get("python_function", {}), flavors.get("sklearn", {})
    if (
        pyfunc.get("loader_module") == "mlflow.sklearn"
        and sklearn.get("serialization_format") in LIGHT_SERIALIZATIONS
    ):
        import cloudpickle

        with (path / sklearn["pickled_model"]).open("rb") as handle:
            model = cloudpickle.load(handle)
        types, required = _signature(meta)
        return SklearnModel(model, pyfunc.get("predict_fn", "predict"), types, required)
    import mlflow.pyfunc

    try:
        return mlflow.pyfunc.load_model(str(path))
    except Exception as error:  # MLflow raises its own and the flavors' exceptions
        raise LoadError(f"cannot load {uri}: {error}") from error

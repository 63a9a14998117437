"""Run the model server: python -m pipelines.serving --model-uri URI [--port 8080]."""

from __future__ import annotations

import argparse
import ctypes
import gc
import os
import sys
from pathlib import Path

from pipelines.serving.server import ModelServer, PredictionLog, ServedModel


def version_of(model_uri: str) -> str:
    """The registry version a 'models:/name/<version>' URI names, or what SLIPWAY_MODEL_VERSION says."""
    declared = os.environ.get("SLIPWAY_MODEL_VERSION")
    if declared:
        return declared
    if model_uri.startswith("models:/"):
        tail = model_uri.rsplit("/", 1)[-1]
        if tail.isdigit():
            return tail
    return "unversioned"


def _release_load_memory() -> None:
    """Hand back to the system what loading the model used once (buffers, import leftovers)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: nothing to trim


def main(argv: list[str] | None = None) -> int:
    """Load the model, then serve it until stopped."""
    parser = argparse.ArgumentParser(prog="python -m pipelines.serving", description=__doc__)
    parser.add_argument("--model-uri", default=os.environ.get("SLIPWAY_MODEL_URI"), required=False)
    parser.add_argument("--host", default=os.environ.get("SLIPWAY_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("SLIPWAY_PORT", "8080")))
    parser.add_argument("--prediction-log", default=os.environ.get("SLIPWAY_PREDICTION_LOG"))
    parser.add_argument(
        "--sample-rate", type=float, default=float(os.environ.get("SLIPWAY_SAMPLE_RATE", "0.1"))
    )
    args = parser.parse_args(argv)
    if not args.model_uri:
        print("model server: give --model-uri or set SLIPWAY_MODEL_URI", file=sys.stderr)
        return 2

    import uvicorn

    from pipelines.serving.loading import LoadError, load

    try:
        model = load(args.model_uri)
    except (LoadError, OSError) as error:
        print(f"model server: {error}", file=sys.stderr)
        return 1
    _release_load_memory()
    log = PredictionLog(Path(args.prediction_log), args.sample_rate) if args.prediction_log else None
    app = ModelServer(ServedModel(model=model, uri=args.model_uri, version=version_of(args.model_uri)), log)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False, lifespan="on")
    return 0


if __name__ == "__main__":
    sys.exit(main())

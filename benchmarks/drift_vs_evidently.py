"""Drift check against Evidently's DataDriftPreset, side by side on the same frames.

A 100k x 20 reference and a 100k x 20 current frame with three changed features: one shifted by
half a standard deviation, one scaled by 1.5, one shifted by a fifth of a standard deviation.
Evidently runs in an environment of its own under benchmarks/.venv-evidently (Evidently 0.7 does
not import under pandas 3), made on first use. Usage: python benchmarks/drift_vs_evidently.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines import drift  # noqa: E402
from pipelines.datasets import profile  # noqa: E402

ROWS, FEATURES, THRESHOLD = 100_000, 20, 0.1
SHIFTED = {"f03": "shift 0.5 sd", "f07": "scale 1.5", "f11": "shift 0.2 sd"}
EVIDENTLY_VENV = Path(__file__).resolve().parent / ".venv-evidently"
EVIDENTLY_REQUIREMENTS = ["evidently==0.7.23", "pandas>=2.2,<3", "numpy<2.3"]

EVIDENTLY_RUN = """
import json, sys, time
import numpy as np
started = time.perf_counter()
import pandas as pd
from evidently import Report
from evidently.presets import DataDriftPreset
imported = time.perf_counter() - started
reference = pd.DataFrame(np.load(sys.argv[1]), columns=json.loads(sys.argv[3]))
current = pd.DataFrame(np.load(sys.argv[2]), columns=json.loads(sys.argv[3]))
started = time.perf_counter()
snapshot = Report([DataDriftPreset()]).run(reference_data=reference, current_data=current)
took = time.perf_counter() - started
flagged = []
for metric in snapshot.dict()["metrics"]:
    config = metric.get("config", {})
    # A column drifts when its statistic passes the threshold Evidently chose for its method.
    if config.get("type", "").endswith("ValueDrift") and metric["value"] >= config.get("threshold", 0.1):
        flagged.append(config["column"])
print(json.dumps({"seconds": took, "import_seconds": imported, "flagged": sorted(flagged)}))
"""


def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The reference and current frames, the same on every run."""
    rng = np.random.default_rng(42)
    names = [f"f{i:02d}" for i in range(FEATURES)]
    reference = pd.DataFrame(rng.normal(0.0, 1.0, (ROWS, FEATURES)), columns=names)
    current = pd.DataFrame(rng.normal(0.0, 1.0, (ROWS, FEATURES)), columns=names)
    current["f03"] += 0.5
    current["f07"] *= 1.5
    current["f11"] += 0.2
    return reference, current


def naive_psi(reference: pd.Series, current: pd.Series, bins: int = 10) -> float:
    """Population stability index on reference deciles: the usual quick check."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    expected = np.histogram(np.clip(reference, edges[0], edges[-1]), edges)[0] / len(reference) + 1e-6
    found = np.histogram(np.clip(current, edges[0], edges[-1]), edges)[0] / len(current) + 1e-6
    return float(np.sum((found - expected) * np.log(found / expected)))


def evidently(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, object] | None:
    """Run Evidently's preset in its own environment; its time and what it flagged."""
    python = EVIDENTLY_VENV / "bin" / "python"
    if not python.exists():
        print("making benchmarks/.venv-evidently (Evidently and pandas 2, once)...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--upgrade", "pip"], check=True)
        installed = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", *EVIDENTLY_REQUIREMENTS], check=False
        )
        if installed.returncode != 0:
            return None
    with tempfile.TemporaryDirectory() as scratch:
        np.save(Path(scratch) / "reference.npy", reference.to_numpy())
        np.save(Path(scratch) / "current.npy", current.to_numpy())
        run = subprocess.run(
            [
                str(python),
                "-c",
                EVIDENTLY_RUN,
                f"{scratch}/reference.npy",
                f"{scratch}/current.npy",
                json.dumps(list(reference.columns)),
            ],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    if run.returncode != 0:
        print(run.stderr[-2000:], file=sys.stderr)
        return None
    result: dict[str, object] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    """Time both, compare what each flags, print the ratio."""
    reference, current = frames()
    started = time.perf_counter()
    report = drift.check(profile(reference), current, THRESHOLD)
    ours = time.perf_counter() - started
    flagged = sorted(feature.feature for feature in report.drifted)
    psi_flagged = sorted(
        name for name in reference.columns if naive_psi(reference[name], current[name]) > 0.1
    )
    print(f"frames: {ROWS} x {FEATURES}, changed: {', '.join(f'{k} ({v})' for k, v in SHIFTED.items())}")
    print(f"slipway drift check: {ours:.3f}s (reference profile included), flags {', '.join(flagged)}")
    print(f"naive PSI > 0.1:     flags {', '.join(psi_flagged) or 'nothing'}")
    theirs = evidently(reference, current)
    if theirs is None:
        print("Evidently could not be installed or run here; no ratio", file=sys.stderr)
        return 1
    print(
        f"Evidently DataDriftPreset: {theirs['seconds']:.3f}s (+{theirs['import_seconds']:.1f}s import), "
        f"flags {', '.join(theirs['flagged']) or 'nothing'}"  # type: ignore[arg-type]
    )
    print(f"ratio: {float(theirs['seconds']) / ours:.1f}x faster than Evidently")  # type: ignore[arg-type]
    correct = flagged == sorted(SHIFTED)
    print(f"exactly the changed features flagged: {'yes' if correct else 'no'}")
    return 0 if correct else 1


if __name__ == "__main__":
    sys.exit(main())

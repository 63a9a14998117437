"""The pipeline on one machine, for real: MLflow on SQLite, model servers on loopback, the example model.

The tests run in order on one scratch project: a first version becomes champion; a noisy one
fails its gate; one that breaks on unseen countries fails its live analysis and is rolled back; a
run killed mid-deploy leaves the champion serving and the next run finishes; and a model logged
by someone else runs through the same steps. After each failure the champion still answers and
its alias has not moved.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from pipelines.audit import read_events
from tests.conftest import PROJECT_DIR

STACK = "fraud-detector-dev"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline-project")
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, root / name)
    shutil.copytree(PROJECT_DIR / "stacks", root / "stacks")
    shutil.copytree(
        PROJECT_DIR / "examples", root / "examples", ignore=shutil.ignore_patterns("data", "__pycache__")
    )
    yield root
    _slipway(root, "local", "down")


def _environment() -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("MLFLOW_", "SLIPWAY_"))
    }
    environment["PYTHONWARNINGS"] = "ignore"
    return environment


def _slipway(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components", "--project", str(project), *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
        env=_environment(),
        timeout=600,
    )


def _tracking(project: Path) -> str:
    state = json.loads((project / ".slipway" / "mlflow" / "server.json").read_text())
    return f"http://127.0.0.1:{state['port']}"


def _champion_alias(project: Path) -> str:
    response = httpx.get(
        f"{_tracking(project)}/api/2.0/mlflow/registered-models/alias",
        params={"name": "fraud-detector", "alias": "champion"},
    )
    response.raise_for_status()
    return str(response.json()["model_version"]["version"])


def _champion_url(project: Path) -> str:
    servers = json.loads((project / ".slipway" / "local" / "fraud-detector" / "servers.json").read_text())
    return f"http://127.0.0.1:{servers['champion']['port']}"


def _row(country: str = "GB") -> dict[str, object]:
    return {
        "amount": 420.0,
        "merchant_category": "jewelry",
        "hour_of_day": 3,
        "country": country,
        "account_age_days": 12,
        "transactions_24h": 8,
        "distance_from_home_km": 140.0,
        "is_online": 1,
    }


def _predict(url: str, country: str = "GB") -> float:
    response = httpx.post(f"{url}/invocations", json={"dataframe_records": [_row(country)]}, timeout=10)
    assert response.status_code == 200, response.text
    return float(response.json()["predictions"][0][1])


def test_a_first_version_becomes_champion_and_answers(project):
    run = _slipway(project, "pipeline", "run", STACK, "--local")
    assert run.returncode == 0, run.stdout + run.stderr
    for step in ("train", "validate-data", "evaluate", "compare", "register", "deploy", "analyse", "promote"):
        assert any(line.split()[:2] == ["ok", step] for line in run.stdout.splitlines()), step
    assert _champion_alias(project) == "1"
    last = run.stdout.strip().splitlines()[-1]
    assert last == f"champion: version 1 at {_champion_url(project)}/invocations"
    assert _predict(_champion_url(project)) > 0.5, "a risky transaction scores as fraud"


def test_a_noisy_version_fails_its_gate_and_the_champion_stays(project):
    before = _champion_url(project)
    run = _slipway(project, "pipeline", "run", STACK, "--local", "--train-arg", "label_noise=0.3")
    assert run.returncode == 1
    assert "slipway: evaluate: roc_auc" in run.stderr
    assert "is below the minimum 0.85" in run.stderr
    assert not any(line.split()[:2] == ["ok", "deploy"] for line in run.stdout.splitlines())
    assert _champion_alias(project) == "1"
    assert _champion_url(project) == before
    _predict(before)


def test_a_version_that_breaks_live_is_rolled_back(project):
    champion = _champion_url(project)
    # Live traffic the training data never had: the champion copes, and its requests are sampled.
    # Enough of it to spoil two analysis intervals: the declared failure limit tolerates one.
    for country in ("BR", "SG") * 40:
        _predict(champion, country)
    run = _slipway(project, "pipeline", "run", STACK, "--local", "--train-arg", "strict_categories=true")
    assert run.returncode == 1, run.stdout + run.stderr
    assert any(line.split()[:2] == ["ok", "evaluate"] for line in run.stdout.splitlines())
    assert "slipway: analyse: interval 1: error rate" in run.stderr
    assert any(line.split()[:2] == ["ok", "rollback"] for line in run.stdout.splitlines())
    assert _champion_alias(project) == "1"
    assert _champion_url(project) == champion
    _predict(champion, "BR")
    servers = json.loads((project / ".slipway" / "local" / "fraud-detector" / "servers.json").read_text())
    assert set(servers) == {"champion"}, "the candidate's server is gone"


def test_a_run_killed_during_deploy_leaves_the_champion_and_the_next_run_finishes(project):
    champion = _champion_url(project)
    process = subprocess.Popen(
        [sys.executable, "-m", "components", "--project", str(project), "pipeline", "run", STACK, "--local"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_environment(),
        start_new_session=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 300
    for line in process.stdout:
        if line.split()[:2] == ["ok", "register"]:
            break
        assert time.monotonic() < deadline
    time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    _predict(champion)
    assert _champion_alias(project) == "1"
    run = _slipway(project, "pipeline", "run", STACK, "--local")
    assert run.returncode == 0, run.stdout + run.stderr
    assert _champion_alias(project) != "1"
    _predict(_champion_url(project))


def test_a_model_logged_by_anyone_runs_through_the_same_steps(project):
    script = """
import mlflow, mlflow.pyfunc, pandas as pd, sys
sys.path.insert(0, sys.argv[2])
from examples.fraud_detector.data import generate, LABEL
from examples.fraud_detector.train import build
mlflow.set_tracking_uri(sys.argv[1])
frame = generate(8000, 21)
model = build(strict_categories=False, max_iter=120).fit(frame.drop(columns=[LABEL]), frame[LABEL])

class Scores(mlflow.pyfunc.PythonModel):
    def __init__(self, fitted):
        self.fitted = fitted
    def predict(self, context, model_input, params=None):
        return self.fitted.predict_proba(model_input)[:, 1]

with mlflow.start_run():
    info = mlflow.pyfunc.log_model(name="scorer", python_model=Scores(model))
print(info.model_uri)
"""
    logged = subprocess.run(
        [sys.executable, "-c", script, _tracking(project), str(project)],
        capture_output=True,
        text=True,
        check=True,
        env=_environment(),
    )
    model_uri = logged.stdout.strip().splitlines()[-1]
    run = _slipway(project, "pipeline", "run", STACK, "--local", "--model-uri", model_uri)
    assert "skip  train" in run.stdout
    assert any(line.split()[:2] == ["ok", "evaluate"] for line in run.stdout.splitlines()), (
        run.stdout + run.stderr
    )
    # Whether it beats the champion or not, the verdict comes from the same compare step.
    assert run.returncode in (0, 1)
    if run.returncode == 1:
        assert "slipway: compare: roc_auc" in run.stderr


def test_every_run_and_step_is_in_the_audit_trail(project):
    events = read_events(project / ".slipway" / "audit.jsonl")
    runs = [event for event in events if event.kind == "run"]
    assert len(runs) >= 5
    outcomes = [event.outcome for event in runs]
    assert outcomes[:3] == ["promoted", "failed", "rolled_back"]
    for event in runs:
        assert event.model == "fraud-detector" and event.team == "payments" and event.actor
        assert event.finished_at >= event.started_at
        steps = [e for e in events if e.kind == "step" and e.run_id == event.run_id]
        assert steps, event.run_id
        assert set(event.steps) == {step.step for step in steps}
    failed_gate = next(
        e for e in events if e.kind == "step" and e.outcome == "failed" and e.step == "evaluate"
    )
    assert failed_gate.numbers["roc_auc"] < 0.85


def test_local_down_stops_every_server(project, tmp_path):
    champion = _champion_url(project)
    down = _slipway(project, "local", "down")
    assert down.returncode == 0
    assert "stopped fraud-detector champion" in down.stdout
    assert "stopped MLflow tracking server" in down.stdout
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{champion}/ping", timeout=2)

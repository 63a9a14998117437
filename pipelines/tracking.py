"""The MLflow tracking server a local run uses: MLFLOW_TRACKING_URI, or one started on SQLite."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from pipelines.targets.local import free_port, process_alive

READY_TIMEOUT_SECONDS = 120


class TrackingError(RuntimeError):
    """The tracking server cannot be started or reached."""


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_server(home: Path) -> str:
    """The tracking URI: the environment's, a server already started under home, or a new one."""
    declared = os.environ.get("MLFLOW_TRACKING_URI")
    if declared:
        if declared.startswith("http") and not _healthy(declared):
            raise TrackingError(f"MLFLOW_TRACKING_URI {declared} does not answer /health")
        return declared
    directory = home / "mlflow"
    directory.mkdir(parents=True, exist_ok=True)
    state_file = directory / "server.json"
    if state_file.exists():
        state = json.loads(state_file.read_text())
        url = f"http://127.0.0.1:{state['port']}"
        if process_alive(state["pid"]) and _healthy(url):
            return url
    port = free_port()
    log = directory / "server.log"
    command = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        f"--backend-store-uri=sqlite:///{directory / 'mlflow.db'}",
        f"--artifacts-destination={(directory / 'artifacts').as_uri()}",
        "--serve-artifacts",
        "--host=127.0.0.1",
        f"--port={port}",
        "--workers=1",
    ]
    environment = {
        **os.environ,
        # Background jobs start many extra processes a local run does not need.
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=environment,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-3:])
            raise TrackingError(f"the MLflow server exited: {tail}")
        if _healthy(url):
            state_file.write_text(json.dumps({"pid": process.pid, "port": port}))
            return url
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    raise TrackingError(f"the MLflow server did not answer within {READY_TIMEOUT_SECONDS}s; see {log}")


def stop_server(home: Path) -> str | None:
    """Stop the tracking server started under home (its whole process group)."""
    state_file = home / "mlflow" / "server.json"
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    state_file.unlink()
    if not process_alive(state["pid"]):
        return None
    try:
        os.killpg(state["pid"], signal.SIGTERM)
    except ProcessLookupError:
        return None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process_alive(state["pid"]):
        time.sleep(0.1)
    if process_alive(state["pid"]):
        os.killpg(state["pid"], signal.SIGKILL)
    return f"MLflow tracking server (port {state['port']})"

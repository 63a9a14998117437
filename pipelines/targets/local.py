"""The local target: model servers on loopback, the candidate judged in the champion's shadow.

The champion's server is never touched while a candidate is judged: replayed traffic (the
champion's own sampled requests, then evaluation rows) goes to the candidate's server, and only a
candidate that meets the analysis thresholds replaces it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd

from pipelines.registry import version_uri
from pipelines.state import RunState
from pipelines.targets.base import AnalysisResult

READY_TIMEOUT_SECONDS = 120
REQUESTS_PER_INTERVAL = 50
INTERVALS = 4
CONCURRENCY = 4
WARM_UP_REQUESTS = 10


class ServerError(RuntimeError):
    """A model server could not be started or reached; the message says which and why."""


def free_port() -> int:
    """A port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def process_alive(pid: int) -> bool:
    """Whether a process with this id exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class ServerRecord:
    """A running model server."""

    role: str
    version: str
    pid: int
    port: int
    log: str

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"


class LocalServers:
    """The servers of one model on this machine, remembered in .slipway/local/<model>/servers.json."""

    def __init__(self, home: Path, model: str) -> None:
        """Keep state under home."""
        self.directory = home / "local" / model
        self.directory.mkdir(parents=True, exist_ok=True)
        self.state_file = self.directory / "servers.json"

    def load(self) -> dict[str, ServerRecord]:
        """Servers recorded and still running; records of dead ones are dropped."""
        if not self.state_file.exists():
            return {}
        raw = json.loads(self.state_file.read_text(encoding="utf-8"))
        return {
            role: ServerRecord(**record) for role, record in raw.items() if process_alive(int(record["pid"]))
        }

    def save(self, servers: dict[str, ServerRecord]) -> None:
        """Write the records atomically, so a kill mid-write never loses the champion's."""
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps({role: vars(record) for role, record in servers.items()}, indent=2))
        temporary.replace(self.state_file)

    def start(self, role: str, model_name: str, version: str, environment: dict[str, str]) -> ServerRecord:
        """Start a server for one registered version and wait until it answers /ping."""
        port = free_port()
        log = self.directory / f"{role}-{version}.log"
        command = [
            sys.executable,
            "-m",
            "pipelines.serving",
            f"--model-uri={version_uri(model_name, version)}",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--prediction-log={self.directory / 'predictions.jsonl'}",
            "--sample-rate=1.0",
        ]
        with log.open("w") as output:
            process = subprocess.Popen(
                command,
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **environment, "SLIPWAY_MODEL_VERSION": version},
                start_new_session=True,
            )
        record = ServerRecord(role=role, version=version, pid=process.pid, port=port, log=str(log))
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-3:]
                raise ServerError(f"model server for version {version} exited: {' | '.join(tail)}")
            try:
                if httpx.get(f"{record.url}/ping", timeout=1.0).status_code == 200:
                    return record
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        stop(record)
        raise ServerError(
            f"model server for version {version} did not answer within {READY_TIMEOUT_SECONDS}s"
        )

    def prediction_log(self) -> Path:
        """Where the servers keep their sampled requests."""
        return self.directory / "predictions.jsonl"


def stop(record: ServerRecord, grace_seconds: float = 10.0) -> None:
    """Stop a server's whole process group: politely, then not."""
    try:
        os.killpg(record.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and process_alive(record.pid):
        try:
            os.waitpid(record.pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    if process_alive(record.pid):
        try:
            os.killpg(record.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def replay_rows(prediction_log: Path, evaluation: pd.DataFrame, limit: int) -> list[dict[str, Any]]:
    """Traffic to replay: what the champion was really asked (newest first), then evaluation rows."""
    rows: list[dict[str, Any]] = []
    if prediction_log.exists():
        for line in reversed(prediction_log.read_text(encoding="utf-8").splitlines()):
            if len(rows) >= limit:
                break
            try:
                rows.append(json.loads(line)["features"])
            except (ValueError, KeyError):
                continue
    if len(rows) < limit:
        rows.extend(evaluation.head(limit - len(rows)).to_dict(orient="records"))
    return rows


def judge(
    send: Callable[[dict[str, Any]], tuple[int, float]],
    rows: list[dict[str, Any]],
    max_error_rate: float,
    max_latency_p99_ms: float,
    failure_limit: int,
    intervals: int = INTERVALS,
) -> AnalysisResult:
    """Send the rows in intervals; an interval fails on its error rate or p99 latency."""
    if not rows:
        return AnalysisResult(False, "no traffic to replay")
    chunks = [
        chunk.tolist() for chunk in np.array_split(np.array(rows, dtype=object), intervals) if len(chunk)
    ]
    failures: list[str] = []
    errors = total = 0
    latencies: list[float] = []
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        for index, chunk in enumerate(chunks):
            results = list(pool.map(send, chunk))
            chunk_errors = sum(1 for status, _ in results if status != 200)
            chunk_latencies = [latency for _, latency in results]
            rate = chunk_errors / len(results)
            p99 = float(np.percentile(chunk_latencies, 99))
            errors, total = errors + chunk_errors, total + len(results)
            latencies.extend(chunk_latencies)
            if rate > max_error_rate:
                failures.append(f"interval {index + 1}: error rate {rate:.1%} > {max_error_rate:.1%}")
            elif p99 > max_latency_p99_ms:
                failures.append(f"interval {index + 1}: p99 {p99:.0f} ms > {max_latency_p99_ms:.0f} ms")
    numbers = {
        "requests": float(total),
        "error_rate": errors / total,
        "latency_p99_ms": float(np.percentile(latencies, 99)),
        "failed_intervals": float(len(failures)),
    }
    if len(failures) > failure_limit:
        return AnalysisResult(False, "; ".join(failures), numbers)
    return AnalysisResult(True, f"{total} replayed requests within thresholds", numbers)


@dataclass
class LocalTarget:
    """Champion and candidate servers side by side on loopback."""

    servers: LocalServers
    evaluation: Callable[[], pd.DataFrame]
    """The evaluation rows, read when the analysis needs them (training may write them first)."""
    environment: dict[str, str]

    def deploy(self, state: RunState) -> str:
        """Start the candidate's server beside the champion's."""
        assert state.candidate_version is not None
        running = self.servers.load()
        stale = running.pop("candidate", None)
        if stale is not None:
            # A candidate left by an interrupted run: it never served, so it just goes.
            stop(stale)
        record = self.servers.start(
            "candidate", state.settings.model_name, state.candidate_version, self.environment
        )
        self.servers.save({**running, "candidate": record})
        return record.url

    def analyse(self, state: RunState) -> AnalysisResult:
        """Replay traffic to the candidate and hold it to the declared thresholds."""
        running = self.servers.load()
        candidate = running.get("candidate")
        if candidate is None:
            return AnalysisResult(False, "the candidate's server is not running")
        analysis = state.settings.analysis
        rows = replay_rows(
            self.servers.prediction_log(), self.evaluation(), REQUESTS_PER_INTERVAL * INTERVALS
        )

        # One keep-alive client, as live callers hold connections; a first few requests warm the
        # server (lazy imports, first predict) and are not judged.
        with httpx.Client(
            base_url=candidate.url, timeout=10.0, limits=httpx.Limits(max_connections=CONCURRENCY)
        ) as client:

            def send(row: dict[str, Any]) -> tuple[int, float]:
                started = time.perf_counter()
                try:
                    status = client.post("/invocations", json={"dataframe_records": [row]}).status_code
                except httpx.HTTPError:
                    status = 599
                return status, (time.perf_counter() - started) * 1000

            for row in rows[:WARM_UP_REQUESTS]:
                send(row)
            return judge(
                send, rows, analysis.max_error_rate, analysis.max_latency_p99_ms, analysis.failure_limit
            )

    def promote(self, state: RunState) -> str:
        """The candidate's server becomes the champion's; the old champion's stops."""
        running = self.servers.load()
        candidate = running.pop("candidate")
        old = running.pop("champion", None)
        candidate.role = "champion"
        self.servers.save({**running, "champion": candidate})
        if old is not None:
            stop(old)
        return candidate.url

    def rollback(self, state: RunState) -> None:
        """Stop the candidate; the champion's server was never touched."""
        running = self.servers.load()
        candidate = running.pop("candidate", None)
        self.servers.save(running)
        if candidate is not None:
            stop(candidate)

    def ensure_champion(self, model_name: str, version: str | None) -> ServerRecord | None:
        """Start the champion's server if the registry has a champion and nothing serves it."""
        running = self.servers.load()
        current = running.get("champion")
        if version is None or (current is not None and current.version == version):
            return current
        if current is not None:
            stop(current)
        record = self.servers.start("champion", model_name, version, self.environment)
        self.servers.save({**running, "champion": record})
        return record


def stop_all(home: Path) -> list[str]:
    """Stop every model server under home; return what was stopped."""
    stopped = []
    for state_file in sorted((home / "local").glob("*/servers.json")):
        servers = LocalServers(home, state_file.parent.name)
        for role, record in servers.load().items():
            stop(record)
            stopped.append(f"{state_file.parent.name} {role} (version {record.version}, port {record.port})")
        servers.save({})
    return stopped

"""The model server against `mlflow models serve`, side by side on the same model in one run.

The example fraud detector is saved once; both servers load it from the same directory. A load
generator in its own process holds 16 connections for a fixed time, first with 1-row requests,
then with 32-row requests. Memory is the resident size of each server's whole process tree. The
model called in-process is reported beside them as the ceiling. Usage:
python benchmarks/serving_vs_mlflow.py [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CONNECTIONS = 16


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def save_model(directory: Path) -> tuple[Path, list[dict[str, object]]]:
    """Train the example and save it in MLflow's format; return its path and sample rows."""
    import mlflow.sklearn
    from mlflow.models import infer_signature

    from examples.fraud_detector.data import LABEL, generate
    from examples.fraud_detector.train import build

    frame = generate(20_000, 7)
    features = frame.drop(columns=[LABEL])
    model = build(strict_categories=False, max_iter=150).fit(features, frame[LABEL])
    path = directory / "model"
    mlflow.sklearn.save_model(
        model,
        str(path),
        pyfunc_predict_fn="predict_proba",
        serialization_format="cloudpickle",
        signature=infer_signature(features.head(5), model.predict_proba(features.head(5))),
    )
    rows = generate(2_000, 8).drop(columns=[LABEL]).to_dict(orient="records")
    return path, rows


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment, start_new_session=True
    )


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server for {url} exited")
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def _stop(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    total, pending, seen = 0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            status = Path(f"/proc/{current}/status").read_text()
            total += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:"))
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(child) for child in children)
        except (OSError, StopIteration):
            continue
    return total / 1024


async def _load(url: str, bodies: list[bytes], seconds: float) -> dict[str, float]:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        position = index
        while time.perf_counter() < deadline:
            body = bodies[position % len(bodies)]
            position += CONNECTIONS
            started = time.perf_counter()
            async with session.post(url, data=body, headers={"content-type": "application/json"}) as response:
                await response.read()
                if response.status != 200:
                    errors += 1
            latencies.append(time.perf_counter() - started)

    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        await asyncio.gather(*(worker(i, session) for i in range(CONNECTIONS)))
        elapsed = time.perf_counter() - started
    return {
        "requests_per_second": len(latencies) / elapsed,
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p99_ms": float(np.percentile(latencies, 99) * 1000),
        "errors": float(errors),
    }


def _load_in_process(url: str, bodies: list[bytes], seconds: float, result: multiprocessing.Queue) -> None:
    result.put(asyncio.run(_load(url, bodies, seconds)))


def measure(url: str, bodies: list[bytes], seconds: float) -> dict[str, float]:
    """Load the server from a separate process; its throughput and latency."""
    queue: multiprocessing.Queue = multiprocessing.Queue()
    warm = multiprocessing.Process(target=_load_in_process, args=(url, bodies, 2.0, queue))
    warm.start()
    queue.get()
    warm.join()
    process = multiprocessing.Process(target=_load_in_process, args=(url, bodies, seconds, queue))
    process.start()
    found: dict[str, float] = queue.get()
    process.join()
    return found


def _bodies(rows: list[dict[str, object]], size: int) -> list[bytes]:
    columns = list(rows[0])
    bodies = []
    for start in range(0, len(rows) - size, size):
        chunk = rows[start : start + size]
        bodies.append(
            json.dumps(
                {
                    "dataframe_split": {
                        "columns": columns,
                        "data": [[row[c] for c in columns] for row in chunk],
                    }
                }
            ).encode()
        )
    return bodies


def ceiling(path: Path, rows: list[dict[str, object]], seconds: float) -> dict[str, float]:
    """The model called in-process: single rows, then 32-row batches."""
    import mlflow.pyfunc
    import pandas as pd

    model = mlflow.pyfunc.load_model(str(path))
    frame = pd.DataFrame(rows)
    found = {}
    for size, key in ((1, "calls_per_second_1_row"), (32, "rows_per_second_32_rows")):
        count, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            model.predict(frame.iloc[(count * size) % 1900 : (count * size) % 1900 + size])
            count += 1
        elapsed = time.perf_counter() - started
        found[key] = count / elapsed * (size if size > 1 else 1)
    return found


def main() -> int:
    """Run both servers, load each, print the comparison."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path, rows = save_model(Path(scratch))
        one, thirty_two = _bodies(rows, 1), _bodies(rows, 32)
        servers = {
            "mlflow models serve": [
                "mlflow",
                "models",
                "serve",
                "-m",
                str(path),
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
                "-p",
                "{port}",
            ],
            "slipway": [
                sys.executable,
                "-m",
                "pipelines.serving",
                f"--model-uri={path}",
                "--host=127.0.0.1",
                "--port={port}",
                f"--prediction-log={scratch}/predictions.jsonl",
            ],
        }
        results: dict[str, dict[str, float]] = {}
        for name, template in servers.items():
            port = _port()
            process = _start([part.replace("{port}", str(port)) for part in template])
            url = f"http://127.0.0.1:{port}"
            try:
                _wait(url, process)
                single = measure(f"{url}/invocations", one, args.seconds)
                batched = measure(f"{url}/invocations", thirty_two, args.seconds)
                results[name] = {
                    "requests_per_second": single["requests_per_second"],
                    "p99_ms": single["p99_ms"],
                    "errors": single["errors"] + batched["errors"],
                    "rows_per_second": batched["requests_per_second"] * 32,
                    "rss_mb": _tree_rss_mb(process.pid),
                }
            finally:
                _stop(process)
        inside = ceiling(path, rows, min(args.seconds, 5.0))
    peer, ours = results["mlflow models serve"], results["slipway"]
    print(f"{'':24}{'mlflow models serve':>22}{'slipway':>12}{'ratio':>9}{'target':>10}")
    rows_out = [
        ("1-row requests/s", "requests_per_second", "x", 10.0, True),
        ("1-row p99 (ms)", "p99_ms", "x less", 10.0, False),
        ("32-row rows/s", "rows_per_second", "x", 10.0, True),
        ("memory (MB)", "rss_mb", "x less", 2.0, False),
    ]
    met = True
    for label, key, suffix, target, higher in rows_out:
        ratio = ours[key] / peer[key] if higher else peer[key] / ours[key]
        met &= ratio >= target
        goal = f">= {int(target)}"
        print(f"{label:<24}{peer[key]:>22.1f}{ours[key]:>12.1f}{ratio:>8.1f}{suffix[0]:1}{goal:>10}")
    print(f"errors: mlflow {peer['errors']:.0f}, slipway {ours['errors']:.0f}")
    print(
        f"in-process ceiling: {inside['calls_per_second_1_row']:.0f} single-row calls/s, "
        f"{inside['rows_per_second_32_rows']:.0f} rows/s in 32-row batches"
    )
    print(f"every target met: {'yes' if met else 'no'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""An ASGI model server speaking MLflow's scoring protocol, with metrics and a prediction log.

Endpoints: POST /invocations (dataframe_split, dataframe_records, instances, inputs), GET /ping,
/health, /version and /metrics (Prometheus: requests, latency, errors, predicted scores).
"""

from __future__ import annotations

import asyncio
import json
import queue
import random
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pipelines.serving.payload import PayloadError, column_types, conform, jsonable, parse_request, scores

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
SCORE_BUCKETS = tuple(round(0.1 * step, 1) for step in range(1, 10))
MAX_BODY_BYTES = 16 * 1024 * 1024


class Model(Protocol):
    """What the server needs of a model: MLflow's pyfunc predict."""

    def predict(self, data: pd.DataFrame) -> Any:
        """Predict for every row."""


@dataclass(frozen=True)
class ServedModel:
    """A loaded model and where it came from."""

    model: Model
    uri: str
    version: str


class ServerMetrics:
    """Prometheus metrics of one server, in a registry of its own."""

    def __init__(self, version: str) -> None:
        """Create the metrics, labelled with the model version."""
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "model_requests",
            "Scoring requests by status code",
            ["code", "model_version"],
            registry=self.registry,
        )
        self.errors = Counter(
            "model_errors",
            "Scoring requests that failed, by kind",
            ["kind", "model_version"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "model_request_latency_seconds",
            "Time to answer a scoring request",
            ["model_version"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.rows = Counter("model_rows", "Rows scored", ["model_version"], registry=self.registry)
        self.prediction = Histogram(
            "model_prediction_score",
            "Distribution of predicted scores",
            ["model_version"],
            buckets=SCORE_BUCKETS,
            registry=self.registry,
        )
        self.version = version


class PredictionLog:
    """A sampled log of inputs and predictions for drift checks, written off the request path."""

    def __init__(self, path: Path, sample_rate: float) -> None:
        """Start the writer thread."""
        self.path = path
        self.sample_rate = sample_rate
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = threading.Thread(target=self._write, name="prediction-log", daemon=True)
        self._writer.start()

    def offer(self, frame: pd.DataFrame, predicted: list[float], version: str) -> None:
        """Keep a sample of the rows; never blocks the request."""
        if self.sample_rate <= 0 or random.random() >= self.sample_rate:
            return
        records = frame.to_dict(orient="records")
        now = time.time()
        for record, score in zip(records, predicted, strict=False):
            line = json.dumps(
                {"ts": now, "version": version, "features": record, "score": score}, default=str
            )
            self._queue.put(line)

    def close(self) -> None:
        """Flush what is queued and stop the writer."""
        self._queue.put(None)
        self._writer.join(timeout=5)

    def _write(self) -> None:
        with self.path.open("a", encoding="utf-8") as log:
            while True:
                line = self._queue.get()
                if line is None:
                    return
                log.write(line + "\n")
                if self._queue.empty():
                    log.flush()


class ModelServer:
    """The ASGI application."""

    def __init__(self, served: ServedModel, prediction_log: PredictionLog | None = None) -> None:
        """Serve one loaded model."""
        self.served = served
        self.column_types = column_types(served.model)
        self.metrics = ServerMetrics(served.version)
        self.prediction_log = prediction_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one request."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path in ("/ping", "/health") and method == "GET":
            await _respond(send, 200, b"ok\n", b"text/plain")
        elif path == "/version" and method == "GET":
            body = json.dumps({"model_uri": self.served.uri, "model_version": self.served.version}).encode()
            await _respond(send, 200, body)
        elif path == "/metrics" and method == "GET":
            await _respond(send, 200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST.encode())
        elif path == "/invocations" and method == "POST":
            await self._invocations(scope, receive, send)
        else:
            await _respond(send, 404, json.dumps({"error": f"no route {method} {path}"}).encode())

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        version = self.metrics.version
        code = 200
        try:
            headers = dict(scope.get("headers") or [])
            content_type = headers.get(b"content-type", b"application/json").split(b";")[0].strip().lower()
            if content_type != b"application/json":
                code = 415
                self.metrics.errors.labels("content_type", version).inc()
                await _respond(send, code, _error("send application/json"))
                return
            body = await _read_body(receive)
            try:
                frame = conform(parse_request(body), self.column_types)
            except PayloadError as error:
                code = 400
                self.metrics.errors.labels("payload", version).inc()
                await _respond(send, code, _error(str(error)))
                return
            try:
                predictions = await asyncio.to_thread(self.served.model.predict, frame)
            except Exception as error:  # the model's own failure: reported, counted, never fatal
                code = 500
                self.metrics.errors.labels("model", version).inc()
                await _respond(send, code, _error(f"{type(error).__name__}: {error}", "INTERNAL_ERROR"))
                return
            answer = jsonable(predictions)
            await _respond(send, 200, json.dumps({"predictions": answer}).encode())
            self.metrics.rows.labels(version).inc(len(frame))
            try:
                predicted = scores(predictions).tolist()
            except ValueError:
                predicted = []
            for value in predicted:
                self.metrics.prediction.labels(version).observe(value)
            if self.prediction_log is not None:
                self.prediction_log.offer(frame, predicted, version)
        except _BodyTooLarge:
            code = 413
            self.metrics.errors.labels("too_large", version).inc()
            await _respond(send, code, _error(f"the body is larger than {MAX_BODY_BYTES} bytes"))
        finally:
            self.metrics.requests.labels(str(code), version).inc()
            self.metrics.latency.labels(version).observe(time.perf_counter() - started)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.prediction_log is not None:
                    self.prediction_log.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _error(message: str, code: str = "BAD_REQUEST") -> bytes:
    return json.dumps({"error_code": code, "message": message}).encode()


async def _respond(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})

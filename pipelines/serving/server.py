"""An ASGI model server speaking MLflow's scoring protocol, with metrics and a prediction log.

Endpoints: POST /invocations (dataframe_split, dataframe_records, instances, inputs), GET /ping,
/health, /version and /metrics (Prometheus: requests, latency, errors, predicted scores).
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import json
import math
import queue
import random
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import orjson
import pandas as pd
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from pipelines.serving.payload import (
    PayloadError,
    Table,
    column_types,
    conform,
    decode,
    jsonable,
    parse_table,
    scores,
)

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
    """The server's metrics as plain numbers, changed only on the event loop's thread.

    Nothing on the request path takes a lock: the numbers become Prometheus families only when
    /metrics is read.
    """

    def __init__(self, version: str) -> None:
        """Start every count at zero."""
        self.version = version
        self.requests: dict[str, int] = {}
        self.errors: dict[str, int] = {}
        self.rows = 0
        self.latency_counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.latency_sum = 0.0
        self.score_counts = [0] * (len(SCORE_BUCKETS) + 1)
        self.score_sum = 0.0
        self.registry = CollectorRegistry()
        self.registry.register(_Families(self))

    def request(self, code: int, seconds: float) -> None:
        """Count one answered request."""
        key = str(code)
        self.requests[key] = self.requests.get(key, 0) + 1
        self.latency_counts[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    def error(self, kind: str) -> None:
        """Count one failed request by what failed."""
        self.errors[kind] = self.errors.get(kind, 0) + 1

    def scored(self, rows: int, predicted: list[float]) -> None:
        """Count rows and the distribution of their scores."""
        self.rows += rows
        for value in predicted:
            self.score_counts[bisect.bisect_left(SCORE_BUCKETS, value)] += 1
            self.score_sum += value


def _cumulative(bounds: tuple[float, ...], counts: list[int]) -> list[tuple[str, float]]:
    running, buckets = 0, []
    for bound, count in zip((*bounds, math.inf), counts, strict=True):
        running += count
        buckets.append(("+Inf" if math.isinf(bound) else repr(bound), float(running)))
    return buckets


class _Families:
    """Turns the plain numbers into metric families when Prometheus scrapes."""

    def __init__(self, metrics: ServerMetrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        requests = CounterMetricFamily(
            "model_requests", "Scoring requests by status code", labels=["code", "model_version"]
        )
        for code, count in sorted(m.requests.items()):
            requests.add_metric([code, m.version], count)
        yield requests
        errors = CounterMetricFamily(
            "model_errors", "Scoring requests that failed, by kind", labels=["kind", "model_version"]
        )
        for kind, count in sorted(m.errors.items()):
            errors.add_metric([kind, m.version], count)
        yield errors
        rows = CounterMetricFamily("model_rows", "Rows scored", labels=["model_version"])
        rows.add_metric([m.version], m.rows)
        yield rows
        latency = HistogramMetricFamily(
            "model_request_latency_seconds", "Time to answer a scoring request", labels=["model_version"]
        )
        latency.add_metric([m.version], _cumulative(LATENCY_BUCKETS, m.latency_counts), m.latency_sum)
        yield latency
        score = HistogramMetricFamily(
            "model_prediction_score", "Distribution of predicted scores", labels=["model_version"]
        )
        score.add_metric([m.version], _cumulative(SCORE_BUCKETS, m.score_counts), m.score_sum)
        yield score


class PredictionLog:
    """A sampled log of inputs and predictions for drift checks, written off the request path."""

    def __init__(self, path: Path, sample_rate: float, keep: int = 10_000) -> None:
        """Start the writer thread; the newest `keep` sampled rows also stay in memory."""
        self.path = path
        self.sample_rate = sample_rate
        self.recent: collections.deque[str] = collections.deque(maxlen=keep)
        self._queue: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = threading.Thread(target=self._write, name="prediction-log", daemon=True)
        self._writer.start()

    def offer(self, table: Table, predicted: list[float], version: str) -> None:
        """Keep a sample of the rows; never blocks the request."""
        if self.sample_rate <= 0 or random.random() >= self.sample_rate:
            return
        now = time.time()
        names = [str(column) for column in table.columns]
        for row, score in enumerate(predicted[: table.rows]):
            record = {name: values[row] for name, values in zip(names, table.values, strict=True)}
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


@dataclass
class _Pending:
    table: Table
    future: asyncio.Future[Any]


class Batcher:
    """Joins concurrent requests into one predict call, without making a lone request wait.

    While the model is busy, requests queue; the next call takes all of them (up to max_rows).
    When the model is idle a request goes at once, unless others are still arriving: then it
    waits for them at most max_wait_seconds.
    """

    def __init__(
        self, model: Model, column_types: dict[str, str], max_rows: int, max_wait_seconds: float
    ) -> None:
        """Batch for one model."""
        self.model = model
        self.column_types = column_types
        self.max_rows = max_rows
        self.max_wait_seconds = max_wait_seconds
        self.arriving = 0
        self._queue: asyncio.Queue[_Pending] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # One thread for the model: calls never overlap, and numpy has the cores to itself.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict")

    async def predict(self, table: Table) -> Any:
        """The model's predictions for one request's rows."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            # The queue and its worker belong to one event loop (a server has one; tests may not).
            self._loop, self._queue = loop, asyncio.Queue()
            self._worker = loop.create_task(self._run())
        assert self._queue is not None
        future: asyncio.Future[Any] = loop.create_future()
        await self._queue.put(_Pending(table, future))
        return await future

    async def _run(self) -> None:
        assert self._queue is not None
        while True:
            batch = [await self._queue.get()]
            rows = batch[0].table.rows
            if self._queue.empty() and self.arriving > 0 and self.max_wait_seconds > 0:
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), self.max_wait_seconds))
                    rows += batch[-1].table.rows
                except TimeoutError:
                    pass
            while rows < self.max_rows and not self._queue.empty():
                item = self._queue.get_nowait()
                batch.append(item)
                rows += item.table.rows
            await self._predict(batch)

    async def _predict(self, batch: list[_Pending]) -> None:
        groups: dict[tuple[Any, ...], list[_Pending]] = {}
        for pending in batch:
            groups.setdefault(pending.table.columns, []).append(pending)
        loop = asyncio.get_running_loop()
        for columns, members in groups.items():
            joined = Table(
                columns,
                [
                    [value for member in members for value in member.table.values[i]]
                    for i in range(len(columns))
                ],
                sum(member.table.rows for member in members),
            )
            try:
                predictions = await loop.run_in_executor(self._executor, self._call, joined)
            except Exception:
                if len(members) == 1:
                    members[0].future.set_exception(sys.exc_info()[1] or RuntimeError("predict failed"))
                    continue
                # One request's bad rows must not fail its neighbours: each is tried alone.
                await self._predict_each(members)
                continue
            offset = 0
            for member in members:
                member.future.set_result(_rows(predictions, offset, member.table.rows))
                offset += member.table.rows

    async def _predict_each(self, members: list[_Pending]) -> None:
        loop = asyncio.get_running_loop()
        for member in members:
            try:
                member.future.set_result(await loop.run_in_executor(self._executor, self._call, member.table))
            except Exception as error:
                member.future.set_exception(error)

    def _call(self, table: Table) -> Any:
        return self.model.predict(conform(table.frame(), self.column_types))


def _rows(predictions: Any, start: int, count: int) -> Any:
    if isinstance(predictions, pd.DataFrame | pd.Series):
        return predictions.iloc[start : start + count]
    if isinstance(predictions, np.ndarray):
        return predictions[start : start + count]
    if isinstance(predictions, list):
        return predictions[start : start + count]
    return predictions


class ModelServer:
    """The ASGI application."""

    def __init__(
        self,
        served: ServedModel,
        prediction_log: PredictionLog | None = None,
        max_batch_rows: int = 256,
        max_wait_seconds: float = 0.002,
    ) -> None:
        """Serve one loaded model."""
        self.served = served
        self.column_types = column_types(served.model)
        self.metrics = ServerMetrics(served.version)
        self.prediction_log = prediction_log
        self.batcher = Batcher(served.model, self.column_types, max_batch_rows, max_wait_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one request."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations" and method == "POST":
            await self._invocations(scope, receive, send)
        elif path in ("/ping", "/health") and method == "GET":
            await _respond(send, 200, b"ok\n", b"text/plain")
        elif path == "/version" and method == "GET":
            body = orjson.dumps({"model_uri": self.served.uri, "model_version": self.served.version})
            await _respond(send, 200, body)
        elif path == "/predictions" and method == "GET" and self.prediction_log is not None:
            # The sampled recent inputs, as JSON lines: what a drift check compares with the reference.
            body = "\n".join(self.prediction_log.recent).encode()
            await _respond(send, 200, body, b"application/x-ndjson")
        elif path == "/metrics" and method == "GET":
            await _respond(send, 200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST.encode())
        else:
            await _respond(send, 404, orjson.dumps({"error": f"no route {method} {path}"}))

    async def _invocations(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        metrics = self.metrics
        code = 200
        self.batcher.arriving += 1
        arrived = False
        try:
            content_type = b"application/json"
            for name, value in scope.get("headers") or ():
                if name == b"content-type":
                    content_type = value.split(b";")[0].strip().lower()
            if content_type != b"application/json":
                code = 415
                metrics.error("content_type")
                await _respond(send, code, _error("send application/json"))
                return
            body = await _read_body(receive)
            try:
                table = parse_table(decode(body))
            except PayloadError as error:
                code = 400
                metrics.error("payload")
                await _respond(send, code, _error(str(error)))
                return
            self.batcher.arriving -= 1
            arrived = True
            try:
                predictions = await self.batcher.predict(table)
            except PayloadError as error:
                code = 400
                metrics.error("payload")
                await _respond(send, code, _error(str(error)))
                return
            except Exception as error:  # the model's own failure: reported, counted, never fatal
                code = 500
                metrics.error("model")
                await _respond(send, code, _error(f"{type(error).__name__}: {error}", "INTERNAL_ERROR"))
                return
            await _respond(
                send,
                200,
                orjson.dumps({"predictions": jsonable(predictions)}, option=orjson.OPT_SERIALIZE_NUMPY),
            )
            try:
                predicted = scores(predictions).tolist()
            except (ValueError, TypeError):
                predicted = []
            metrics.scored(table.rows, predicted)
            if self.prediction_log is not None:
                self.prediction_log.offer(table, predicted, metrics.version)
        except _BodyTooLarge:
            code = 413
            metrics.error("too_large")
            await _respond(send, code, _error(f"the body is larger than {MAX_BODY_BYTES} bytes"))
        finally:
            if not arrived:
                self.batcher.arriving -= 1
            metrics.request(code, time.perf_counter() - started)

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
    return orjson.dumps({"error_code": code, "message": message})


async def _respond(send: Send, status: int, body: bytes, content_type: bytes = b"application/json") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})

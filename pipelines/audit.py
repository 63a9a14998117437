"""The audit trail: one event per step and per run, with who, what, when, result and durations."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class AuditEvent(BaseModel):
    """One thing that happened to one model version."""

    model_config = ConfigDict(extra="forbid")

    kind: str
    """'step' or 'run'."""
    run_id: str
    stack: str
    team: str
    model: str
    environment: str
    actor: str
    source_commit: str
    step: str | None = None
    version: str | None = None
    outcome: str
    detail: str = ""
    started_at: float
    finished_at: float
    numbers: dict[str, float] = Field(default_factory=dict)
    steps: dict[str, float] = Field(default_factory=dict)
    """For a run: each step's duration in seconds."""


class AuditSink(Protocol):
    """Where events go."""

    def write(self, event: AuditEvent) -> None:
        """Keep one event."""


class FileSink:
    """JSON lines in one file, appended under a lock so concurrent runs do not interleave."""

    def __init__(self, path: Path) -> None:
        """Write to path (made when missing)."""
        self.path = path

    def write(self, event: AuditEvent) -> None:
        """Append the event as one line."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as log:
            fcntl.flock(log, fcntl.LOCK_EX)
            log.write(event.model_dump_json() + "\n")
            log.flush()
            fcntl.flock(log, fcntl.LOCK_UN)


class ObjectStoreSink:
    """One object per event under a prefix of the artifact store: nothing is rewritten."""

    def __init__(self, bucket: str, prefix: str, client: Any = None) -> None:
        """Write under s3://bucket/prefix/."""
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=os.environ.get("MLFLOW_S3_ENDPOINT_URL"))
        self.bucket, self.prefix, self.client = bucket, prefix.strip("/"), client

    def write(self, event: AuditEvent) -> None:
        """Put the event as its own object."""
        name = f"{event.finished_at:.6f}-{event.run_id}-{event.step or 'run'}.json"
        key = f"{self.prefix}/{event.team}/{event.model}/{name}"
        self.client.put_object(Bucket=self.bucket, Key=key, Body=event.model_dump_json().encode())


def read_events(path: Path) -> list[AuditEvent]:
    """Every event of a file sink, in the order written."""
    if not path.exists():
        return []
    return [
        AuditEvent.model_validate(json.loads(line))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line
    ]


def sink_from_environment() -> AuditSink:
    """SLIPWAY_AUDIT_URI: s3://bucket/prefix in a cluster, or a file path."""
    uri = os.environ.get("SLIPWAY_AUDIT_URI", ".slipway/audit.jsonl")
    if uri.startswith("s3://"):
        bucket, _, prefix = uri[len("s3://") :].partition("/")
        return ObjectStoreSink(bucket, prefix or "audit")
    return FileSink(Path(uri))

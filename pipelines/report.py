"""The deployment report: DORA's four measures from the audit trail, per model and per team.

Definitions, each computed only from run and step events:
- a deployment is a run that ended with its version promoted to champion;
- deployment frequency is deployments per week over the report's window (from --since, or the
  first run, to the last run);
- lead time for changes is a deployment's time from pipeline start to the champion serving;
- change failure rate is the share of changes that reached live traffic (promoted or rolled
  back) and were rolled back; versions stopped by a gate never met traffic and do not count;
- time to restore is, for each rolled-back change, the time from the start of its deploy step
  (traffic reached the bad version) to the end of its rollback step (the champion alone again).
Every figure keeps the run ids it was computed from.
"""

from __future__ import annotations

import html
import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pipelines.audit import AuditEvent, read_events

DAY = 86_400.0
WEEK = 7 * DAY


@dataclass(frozen=True)
class Measures:
    """The four measures for one group of runs, each with the runs behind it."""

    group: str
    window_days: float
    deployments: tuple[str, ...]
    lead_times: dict[str, float] = field(default_factory=dict)
    changes: tuple[str, ...] = ()
    failures: tuple[str, ...] = ()
    restore_times: dict[str, float] = field(default_factory=dict)

    @property
    def frequency_per_week(self) -> float:
        """Deployments per week."""
        return len(self.deployments) / (self.window_days / 7) if self.window_days > 0 else 0.0

    @property
    def lead_time_median(self) -> float | None:
        """Median lead time in seconds."""
        return statistics.median(self.lead_times.values()) if self.lead_times else None

    @property
    def change_failure_rate(self) -> float | None:
        """Rolled-back changes over changes that met traffic."""
        return len(self.failures) / len(self.changes) if self.changes else None

    @property
    def restore_median(self) -> float | None:
        """Median time to restore in seconds."""
        return statistics.median(self.restore_times.values()) if self.restore_times else None


def load(source: str) -> list[AuditEvent]:
    """Events from a file sink's JSON lines, or from an object-store prefix (s3://bucket/prefix)."""
    if source.startswith("s3://"):
        import boto3

        bucket, _, prefix = source[len("s3://") :].partition("/")
        client = boto3.client("s3")
        events = []
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                events.append(AuditEvent.model_validate(json.loads(body)))
        return sorted(events, key=lambda event: event.finished_at)
    return read_events(Path(source))


def _steps(events: Iterable[AuditEvent]) -> dict[tuple[str, str], AuditEvent]:
    return {(event.run_id, event.step or ""): event for event in events if event.kind == "step"}


def measure(
    events: list[AuditEvent], group: str, since: float | None = None, until: float | None = None
) -> Measures:
    """The measures over one group's events."""
    runs = sorted(
        (e for e in events if e.kind == "run" and (since is None or e.started_at >= since)),
        key=lambda e: e.started_at,
    )
    steps = _steps(events)
    start = since if since is not None else (runs[0].started_at if runs else 0.0)
    end = until if until is not None else (max(run.finished_at for run in runs) if runs else start)
    deployments = [run for run in runs if run.outcome == "promoted"]
    rolled_back = [run for run in runs if run.outcome == "rolled_back"]
    restore: dict[str, float] = {}
    for run in rolled_back:
        deploy, rollback = steps.get((run.run_id, "deploy")), steps.get((run.run_id, "rollback"))
        if deploy is not None and rollback is not None:
            restore[run.run_id] = rollback.finished_at - deploy.started_at
    changes = sorted(deployments + rolled_back, key=lambda run: run.started_at)
    return Measures(
        group=group,
        window_days=(end - start) / DAY,
        deployments=tuple(run.run_id for run in deployments),
        lead_times={run.run_id: run.finished_at - run.started_at for run in deployments},
        changes=tuple(run.run_id for run in changes),
        failures=tuple(run.run_id for run in rolled_back),
        restore_times=restore,
    )


def by_group(
    events: list[AuditEvent], team: str | None = None, model: str | None = None, since: float | None = None
) -> list[Measures]:
    """Measures per model, then per team, then for everything selected."""
    selected = [e for e in events if (team is None or e.team == team) and (model is None or e.model == model)]
    until = max((e.finished_at for e in selected if e.kind == "run"), default=None)
    groups: list[Measures] = []
    for key in sorted({(e.team, e.model) for e in selected}):
        members = [e for e in selected if (e.team, e.model) == key]
        groups.append(measure(members, f"model {key[1]} (team {key[0]})", since, until))
    for name in sorted({e.team for e in selected}):
        groups.append(measure([e for e in selected if e.team == name], f"team {name}", since, until))
    if len({e.team for e in selected}) > 1:
        groups.append(measure(selected, "all teams", since, until))
    return groups


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.1f}m"
    return f"{seconds / 3600:.1f}h"


def terminal(groups: list[Measures]) -> str:
    """One row per group."""
    lines = [f"{'group':<40} {'deploys/week':>12} {'lead time':>10} {'failure rate':>12} {'restore':>8}"]
    for group in groups:
        rate = group.change_failure_rate
        lines.append(
            f"{group.group:<40} {group.frequency_per_week:>12.2f} {_duration(group.lead_time_median):>10} "
            f"{'-' if rate is None else f'{rate:.0%}':>12} {_duration(group.restore_median):>8}"
        )
    return "\n".join(lines)


def _svg_series(title: str, points: list[tuple[float, float, str]], unit: str) -> str:
    width, height, pad = 640, 200, 40
    if not points:
        return f"<p>{html.escape(title)}: no data</p>"
    xs = [x for x, _, _ in points]
    low, high = min(xs), max(xs) or 1.0
    span = (high - low) or 1.0
    peak = max(y for _, y, _ in points) or 1.0
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" role="img">']
    parts.append(f'<text x="10" y="16" font-size="13">{html.escape(title)}</text>')
    for x, y, label in points:
        cx = pad + (x - low) / span * (width - 2 * pad)
        cy = height - (y / peak) * (height - 2 * pad)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="#2b6cb0"><title>{html.escape(label)}: '
            f"{y:.3g} {unit}</title></circle>"
        )
    first = datetime.fromtimestamp(low, UTC).strftime("%Y-%m-%d")
    last = datetime.fromtimestamp(high, UTC).strftime("%Y-%m-%d")
    parts.append(f'<text x="{pad}" y="{height + 20}" font-size="10">{first}</text>')
    parts.append(
        f'<text x="{width - pad}" y="{height + 20}" font-size="10" text-anchor="end">{last}</text></svg>'
    )
    return "".join(parts)


def html_report(groups: list[Measures], events: list[AuditEvent]) -> str:
    """A page per the terminal table, with a chart per measure over time and the runs behind each."""
    runs = {e.run_id: e for e in events if e.kind == "run"}
    sections = []
    for group in groups:
        deployments = [(runs[r].finished_at, 1.0, r) for r in group.deployments]
        lead = [(runs[r].finished_at, seconds / 60, r) for r, seconds in group.lead_times.items()]
        failures = []
        seen = 0
        failed = 0
        for run_id in group.changes:
            seen += 1
            failed += run_id in group.failures
            failures.append((runs[run_id].finished_at, failed / seen, run_id))
        restore = [(runs[r].finished_at, seconds / 60, r) for r, seconds in group.restore_times.items()]
        trace = "".join(
            f"<tr><td>{html.escape(r)}</td><td>{runs[r].outcome}</td>"
            f"<td>{datetime.fromtimestamp(runs[r].started_at, UTC).isoformat(timespec='seconds')}</td>"
            f"<td>{html.escape(runs[r].version or '-')}</td></tr>"
            for r in group.changes
        )
        sections.append(
            f"<h2>{html.escape(group.group)}</h2>"
            + _svg_series("Deployments (each point one promotion)", deployments, "deployment")
            + _svg_series("Lead time for changes (minutes)", lead, "minutes")
            + _svg_series("Change failure rate (running share of changes rolled back)", failures, "share")
            + _svg_series("Time to restore (minutes)", restore, "minutes")
            + "<table><tr><th>run</th><th>outcome</th><th>started (UTC)</th><th>version</th></tr>"
            + f"{trace}</table>"
        )
    table = html.escape(terminal(groups))
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Deployment report</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:3px 8px;text-align:left}</style></head>"
        f"<body><h1>Deployment report</h1><pre>{table}</pre>{''.join(sections)}</body></html>"
    )

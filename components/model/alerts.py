"""The model's alert rules: latency SLO, error rate, drift, and no traffic at all."""

from __future__ import annotations

from typing import Any

from components.declaration.model import ModelDeclaration


def error_rate(selector: str, window: str) -> str:
    """PromQL: the share of scoring requests that failed."""
    total = f"sum(rate(model_requests_total{{{selector}}}[{window}]))"
    return f'sum(rate(model_requests_total{{{selector},code=~"5.."}}[{window}])) / {total}'


def latency_p99_seconds(selector: str, window: str) -> str:
    """PromQL: the 99th percentile of request latency, in seconds."""
    buckets = f"rate(model_request_latency_seconds_bucket{{{selector}}}[{window}])"
    return f"histogram_quantile(0.99, sum by (le) ({buckets}))"


def rule_groups(declaration: ModelDeclaration, namespace: str) -> list[dict[str, Any]]:
    """Prometheus rule groups for one model, with thresholds from its declaration."""
    name = declaration.model.name
    analysis = declaration.rollout.analysis
    selector = f'namespace="{namespace}",service="{name}-metrics"'
    labels = {"severity": "page", "team": declaration.team, "model": name}
    return [
        {
            "name": f"{name}-serving",
            "rules": [
                {
                    "alert": "ModelLatencySloBreached",
                    "expr": f"{latency_p99_seconds(selector, '5m')} * 1000 > {analysis.max_latency_p99_ms}",
                    "for": "10m",
                    "labels": labels,
                    "annotations": {
                        "summary": f"{name}: p99 latency above {analysis.max_latency_p99_ms} ms",
                        "description": "The 99th percentile of request latency has been above the declared "
                        "threshold for 10 minutes.",
                    },
                },
                {
                    "alert": "ModelErrorRateHigh",
                    "expr": f"{error_rate(selector, '5m')} > {analysis.max_error_rate}",
                    "for": "5m",
                    "labels": labels,
                    "annotations": {
                        "summary": f"{name}: error rate above {analysis.max_error_rate:.1%}",
                        "description": "More scoring requests fail than the declared error rate allows.",
                    },
                },
                {
                    "alert": "ModelNoTraffic",
                    "expr": f"sum(rate(model_requests_total{{{selector}}}[15m])) == 0",
                    "for": "30m",
                    "labels": {**labels, "severity": "ticket"},
                    "annotations": {
                        "summary": f"{name}: no scoring requests for 30 minutes",
                        "description": "The model answers nothing: its callers may have stopped reaching it.",
                    },
                },
                {
                    "alert": "ModelInputDrift",
                    "expr": f'max(slipway_drift_detected{{model="{name}"}}) > 0',
                    "for": "0m",
                    "labels": {**labels, "severity": "ticket"},
                    "annotations": {
                        "summary": f"{name}: live inputs drifted from the champion's reference",
                        "description": "The scheduled drift check found drifted features; see its report.",
                    },
                },
            ],
        }
    ]

"""Drift of live inputs against the reference profile a version was registered with.

Numeric features are compared by the Wasserstein distance between the two distributions, read
off their quantile functions and divided by the reference's standard deviation: a shift of the
mean by a tenth of a standard deviation scores 0.1, and so does a comparable change of spread.
Categorical features are compared by the Jensen-Shannon distance of their frequencies, and
categories the reference never had are named. A jump in missing values drifts any feature. The
reference needs only its stored quantiles and frequencies, never the training rows.
"""

from __future__ import annotations

import html
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pipelines.datasets import PROFILE_QUANTILES, profile

# Drift, and no drift, are both normal answers: the exit code tells a CronWorkflow which it was.
EXIT_NO_DRIFT, EXIT_DRIFT = 0, 3
NEW_CATEGORY_MIN_SHARE = 0.01


@dataclass(frozen=True)
class FeatureDrift:
    """The verdict on one feature."""

    feature: str
    kind: str
    score: float
    drifted: bool
    reasons: tuple[str, ...] = ()
    new_categories: tuple[str, ...] = ()
    missing_reference: float = 0.0
    missing_current: float = 0.0


@dataclass(frozen=True)
class DriftReport:
    """The verdict on a whole frame."""

    threshold: float
    rows: int
    features: tuple[FeatureDrift, ...]
    reference: dict[str, Any] = field(repr=False, default_factory=dict)
    current: dict[str, Any] = field(repr=False, default_factory=dict)

    @property
    def drifted(self) -> list[FeatureDrift]:
        """The features that drifted."""
        return [feature for feature in self.features if feature.drifted]

    @property
    def share(self) -> float:
        """The share of checked features that drifted."""
        return len(self.drifted) / len(self.features) if self.features else 0.0

    @property
    def exit_code(self) -> int:
        """EXIT_DRIFT when any feature drifted."""
        return EXIT_DRIFT if self.drifted else EXIT_NO_DRIFT


def _wasserstein_normed(reference: dict[str, Any], values: np.ndarray) -> float:
    expected = np.asarray(reference["quantiles"], dtype=float)
    if len(values) == 0 or len(expected) != len(PROFILE_QUANTILES):
        return math.inf
    found = np.quantile(values, PROFILE_QUANTILES)
    # The area between the two quantile functions is the Wasserstein-1 distance.
    distance = float(np.trapezoid(np.abs(found - expected), PROFILE_QUANTILES))
    scale = float(reference["std"]) or float(np.abs(expected).mean()) or 1.0
    return distance / scale


def _jensen_shannon(reference: dict[str, float], current: dict[str, float]) -> float:
    keys = sorted(set(reference) | set(current))
    p = np.array([reference.get(key, 0.0) for key in keys]) + 1e-12
    q = np.array([current.get(key, 0.0) for key in keys]) + 1e-12
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2
    divergence = 0.5 * float(np.sum(p * np.log2(p / m))) + 0.5 * float(np.sum(q * np.log2(q / m)))
    return math.sqrt(max(divergence, 0.0))


def _check_feature(name: str, expected: dict[str, Any], column: pd.Series, threshold: float) -> FeatureDrift:
    missing = float(column.isna().mean()) if len(column) else 1.0
    reasons = []
    if missing - float(expected["missing"]) > threshold:
        reasons.append(f"missing in {missing:.0%} of rows (reference {expected['missing']:.0%})")
    present = column.dropna()
    new: tuple[str, ...] = ()
    if expected["kind"] == "numeric":
        values = pd.to_numeric(present, errors="coerce").dropna().to_numpy(dtype=float)
        score = _wasserstein_normed(expected, values)
        if score > threshold:
            reasons.append(f"distribution moved by {score:.2f} reference standard deviations")
    else:
        counts = present.astype(str).value_counts(normalize=True)
        frequencies = {str(key): float(value) for key, value in counts.items()}
        known = set(expected["frequencies"])
        # Categories the reference folded into 'other' are not new: only a reference without any
        # 'other' share can say that a category was never seen.
        if float(expected.get("other", 0.0)) == 0.0:
            new = tuple(
                sorted(
                    key
                    for key, share in frequencies.items()
                    if key not in known and share >= NEW_CATEGORY_MIN_SHARE
                )
            )
        reference = {**expected["frequencies"], "__other__": float(expected.get("other", 0.0))}
        current = {key: share for key, share in frequencies.items() if key in known}
        current["__other__"] = float(sum(share for key, share in frequencies.items() if key not in known))
        score = _jensen_shannon(reference, current)
        if score > threshold:
            reasons.append(f"frequencies moved (Jensen-Shannon distance {score:.2f})")
        if new:
            reasons.append(f"new categories: {', '.join(new)}")
    return FeatureDrift(
        feature=name,
        kind=str(expected["kind"]),
        score=score,
        drifted=bool(reasons),
        reasons=tuple(reasons),
        new_categories=new,
        missing_reference=float(expected["missing"]),
        missing_current=missing,
    )


def check(
    reference: dict[str, Any], current: pd.DataFrame, threshold: float, features: list[str] | None = None
) -> DriftReport:
    """Judge every feature of the current frame against the reference profile."""
    if threshold <= 0:
        raise ValueError(f"the drift threshold must be above 0, got {threshold}")
    columns = reference.get("columns", {})
    names = features or list(columns)
    unknown = [name for name in names if name not in columns]
    if unknown:
        raise ValueError(f"no reference for {', '.join(unknown)}; the reference has {', '.join(columns)}")
    verdicts = []
    for name in names:
        column = current[name] if name in current.columns else pd.Series([None] * len(current), dtype=object)
        verdicts.append(_check_feature(name, columns[name], column, threshold))
    return DriftReport(threshold=threshold, rows=len(current), features=tuple(verdicts), reference=reference)


def _records(text: str) -> pd.DataFrame:
    rows = [json.loads(line)["features"] for line in text.splitlines() if line.strip()]
    return pd.DataFrame.from_records(rows)


def load_current(path: Path | str) -> pd.DataFrame:
    """Live inputs: a model server's /predictions, a prediction log (JSON lines), CSV or Parquet."""
    if isinstance(path, str) and path.startswith(("http://", "https://")):
        import httpx

        response = httpx.get(path, timeout=30)
        response.raise_for_status()
        return _records(response.text)
    path = Path(path)
    if path.suffix == ".jsonl":
        return _records(path.read_text(encoding="utf-8"))
    if path.suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    return pd.read_csv(path)


def load_reference(source: str) -> dict[str, Any]:
    """A reference profile: a profile JSON file, a dataset to profile, or a registered model's."""
    if source.startswith("models:/"):
        from pipelines import registry

        name, _, selector = source[len("models:/") :].partition("@")
        if not selector:
            name, _, selector = source[len("models:/") :].rpartition("/")
        client = registry.client()
        version = registry.champion(client, name) if selector == "champion" else selector
        profile_found = registry.reference_profile(client, name, version) if version else None
        if profile_found is None:
            raise ValueError(f"{source} has no reference profile")
        return profile_found
    path = Path(source)
    if path.suffix == ".json":
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    return profile(load_current(path))


def terminal(report: DriftReport) -> str:
    """A short report: one line per feature, drifted first, and the verdict."""
    lines = [f"drift check: {report.rows} rows, threshold {report.threshold}"]
    for feature in sorted(report.features, key=lambda f: (not f.drifted, f.feature)):
        mark = "DRIFT" if feature.drifted else "ok"
        detail = "; ".join(feature.reasons)
        lines.append(
            f"  {mark:<5} {feature.feature:<24} {feature.kind:<11} {feature.score:7.3f}  {detail}".rstrip()
        )
    verdict = "drift" if report.drifted else "no drift"
    lines.append(f"{verdict}: {len(report.drifted)} of {len(report.features)} features ({report.share:.0%})")
    return "\n".join(lines)


def prometheus_text(report: DriftReport, model: str) -> str:
    """The verdict as Prometheus metrics, for a textfile collector or an Argo workflow metric."""
    label = model.replace('"', "")
    lines = [
        "# HELP slipway_drift_score Drift score of one feature against the model's reference.",
        "# TYPE slipway_drift_score gauge",
    ]
    for feature in report.features:
        score = feature.score if math.isfinite(feature.score) else 1e9
        lines.append(f'slipway_drift_score{{model="{label}",feature="{feature.feature}"}} {score:.6f}')
    lines += [
        "# HELP slipway_drift_detected Whether any feature drifted (1) or none did (0).",
        "# TYPE slipway_drift_detected gauge",
        f'slipway_drift_detected{{model="{label}"}} {1 if report.drifted else 0}',
        "# HELP slipway_drift_share Share of checked features that drifted.",
        "# TYPE slipway_drift_share gauge",
        f'slipway_drift_share{{model="{label}"}} {report.share:.6f}',
    ]
    return "\n".join(lines) + "\n"


def _bars(title: str, labels: list[str], reference: list[float], current: list[float]) -> str:
    width, height, top = 640, 220, 30
    slot = (width - 40) / max(len(labels), 1)
    peak = max([*reference, *current, 1e-9])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 60}" role="img">',
        f'<text x="10" y="18" font-size="14">{html.escape(title)}</text>',
    ]
    for index, (label, ours, theirs) in enumerate(zip(labels, reference, current, strict=True)):
        x = 30 + index * slot
        for offset, value, colour in ((0.1, ours, "#8aa4c8"), (0.5, theirs, "#d9822b")):
            bar = (value / peak) * (height - top)
            parts.append(
                f'<rect x="{x + offset * slot:.1f}" y="{top + height - top - bar:.1f}" '
                f'width="{slot * 0.38:.1f}" height="{bar:.1f}" fill="{colour}"/>'
            )
        parts.append(
            f'<text x="{x + slot * 0.5:.1f}" y="{height + 14}" font-size="10" text-anchor="middle">'
            f"{html.escape(label[:10])}</text>"
        )
    parts.append(
        f'<text x="10" y="{height + 45}" font-size="11"><tspan fill="#8aa4c8">reference</tspan> '
        '<tspan fill="#d9822b">current</tspan></text></svg>'
    )
    return "".join(parts)


def _chart(feature: FeatureDrift, reference: dict[str, Any], current: pd.Series) -> str:
    if feature.kind == "numeric":
        edges = np.unique(np.asarray(reference["quantiles"], dtype=float)[::10])
        values = pd.to_numeric(current, errors="coerce").dropna().to_numpy(dtype=float)
        counts = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)[0]
        share = (counts / max(counts.sum(), 1)).tolist()
        labels = [f"{low:.3g}" for low in edges[:-1]]
        expected = [1.0 / len(labels)] * len(labels)
        return _bars(f"{feature.feature}: share of rows per reference decile", labels, expected, share)
    frequencies = current.dropna().astype(str).value_counts(normalize=True)
    keys = sorted(
        set(reference["frequencies"]) | set(frequencies.index),
        key=lambda k: -reference["frequencies"].get(k, 0),
    )
    keys = keys[:12]
    return _bars(
        f"{feature.feature}: share of rows per category",
        keys,
        [float(reference["frequencies"].get(key, 0.0)) for key in keys],
        [float(frequencies.get(key, 0.0)) for key in keys],
    )


def html_report(report: DriftReport, current: pd.DataFrame, title: str) -> str:
    """A page with the verdict, a table of every feature and a chart per drifted feature."""
    rows = "".join(
        f"<tr><td>{html.escape(f.feature)}</td><td>{f.kind}</td><td>{f.score:.3f}</td>"
        f"<td>{'drift' if f.drifted else 'ok'}</td><td>{html.escape('; '.join(f.reasons))}</td></tr>"
        for f in sorted(report.features, key=lambda f: (not f.drifted, f.feature))
    )
    empty = pd.Series(dtype=object)
    columns = report.reference["columns"]
    sections = [_chart(f, columns[f.feature], current.get(f.feature, empty)) for f in report.drifted]
    charts = "".join(f"<section>{chart}</section>" for chart in sections)
    verdict = (
        f"{len(report.drifted)} of {len(report.features)} features drifted" if report.drifted else "no drift"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:4px 10px;text-align:left}"
        "tr:nth-child(even){background:#f3f3f3}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{report.rows} rows, threshold {report.threshold}: {verdict}</p>"
        "<table><tr><th>feature</th><th>kind</th><th>score</th><th>verdict</th><th>why</th></tr>"
        f"{rows}</table>{charts}</body></html>"
    )


def main(argv: list[str] | None = None) -> int:
    """The scheduled check in the cluster: python -m pipelines.drift --reference ... --current URL."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m pipelines.drift", description=main.__doc__)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--current", required=True)
    parser.add_argument("--threshold", type=float, default=0.1)
    parser.add_argument("--features", default="")
    parser.add_argument("--model", default="model")
    parser.add_argument("--metrics-out", type=Path)
    parser.add_argument("--verdict-out", type=Path, help="write 'drift' or 'none' here and exit 0 either way")
    parser.add_argument("--detected-out", type=Path, help="write 1 (drift) or 0 here, for a workflow metric")
    args = parser.parse_args(argv)
    features = [name for name in args.features.split(",") if name] or None
    try:
        report = check(load_reference(args.reference), load_current(args.current), args.threshold, features)
    except (ValueError, OSError, KeyError) as error:
        print(f"drift check: {error}", file=sys.stderr)
        return 2
    print(terminal(report))
    if args.metrics_out:
        args.metrics_out.write_text(prometheus_text(report, args.model), encoding="utf-8")
    if args.detected_out:
        args.detected_out.write_text("1" if report.drifted else "0", encoding="utf-8")
    if args.verdict_out:
        args.verdict_out.write_text("drift" if report.drifted else "none", encoding="utf-8")
        return EXIT_NO_DRIFT
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())

"""Drift checks on frames with known changes: none, shifted, scaled, new categories, missing values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from components.cli import main
from pipelines import drift
from pipelines.datasets import profile

ROWS = 20_000


def frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)

    def sample() -> pd.DataFrame:
        return pd.DataFrame(
            {
                "amount": rng.lognormal(3.6, 1.0, ROWS),
                "hour": rng.integers(0, 24, ROWS).astype(float),
                "score": rng.normal(0.0, 1.0, ROWS),
                "country": rng.choice(["GB", "DE", "FR", "ES"], ROWS, p=[0.4, 0.3, 0.2, 0.1]),
            }
        )

    return sample(), sample()


def verdicts(report: drift.DriftReport) -> dict[str, bool]:
    return {feature.feature: feature.drifted for feature in report.features}


def test_no_drift_between_two_samples_of_one_distribution():
    reference, current = frames()
    report = drift.check(profile(reference), current, threshold=0.1)
    assert verdicts(report) == {"amount": False, "hour": False, "score": False, "country": False}
    assert report.exit_code == drift.EXIT_NO_DRIFT
    assert max(feature.score for feature in report.features) < 0.05


def test_a_shifted_feature_is_flagged_alone():
    reference, current = frames()
    current["score"] += 0.3
    report = drift.check(profile(reference), current, threshold=0.1)
    assert [feature.feature for feature in report.drifted] == ["score"]
    (shifted,) = report.drifted
    assert shifted.score == pytest.approx(0.3, abs=0.03)
    assert "distribution moved by 0.3" in shifted.reasons[0]
    assert report.exit_code == drift.EXIT_DRIFT


def test_a_scaled_feature_is_flagged_though_its_mean_hardly_moves():
    reference, current = frames()
    current["score"] *= 1.6
    report = drift.check(profile(reference), current, threshold=0.1)
    assert [feature.feature for feature in report.drifted] == ["score"]
    assert abs(current["score"].mean() - reference["score"].mean()) < 0.05


def test_new_categories_are_named():
    reference, current = frames()
    current.loc[: ROWS // 10, "country"] = "BR"
    report = drift.check(profile(reference), current, threshold=0.1)
    (country,) = report.drifted
    assert country.feature == "country"
    assert country.new_categories == ("BR",)
    assert "new categories: BR" in country.reasons


def test_a_rare_newcomer_is_not_a_new_category():
    reference, current = frames()
    current.loc[:10, "country"] = "BR"
    assert drift.check(profile(reference), current, threshold=0.1).drifted == []


def test_missing_values_drift_any_feature():
    reference, current = frames()
    current.loc[: ROWS // 2, "hour"] = np.nan
    report = drift.check(profile(reference), current, threshold=0.1)
    (hour,) = report.drifted
    assert hour.feature == "hour"
    assert hour.reasons[0] == "missing in 50% of rows (reference 0%)"
    absent = drift.check(profile(reference), current.drop(columns=["amount"]), 0.1, ["amount"])
    assert absent.drifted[0].missing_current == 1.0


def test_only_the_named_features_are_checked_and_unknown_ones_are_refused():
    reference, current = frames()
    current["score"] += 1.0
    assert drift.check(profile(reference), current, 0.1, ["amount"]).drifted == []
    with pytest.raises(ValueError, match="no reference for colour"):
        drift.check(profile(reference), current, 0.1, ["colour"])
    with pytest.raises(ValueError, match="above 0"):
        drift.check(profile(reference), current, 0.0)


def test_reports_name_each_drifted_feature_with_a_chart():
    reference, current = frames()
    current["score"] += 0.5
    current.loc[: ROWS // 5, "country"] = "BR"
    report = drift.check(profile(reference), current, threshold=0.1)
    text = drift.terminal(report)
    assert text.splitlines()[-1] == "drift: 2 of 4 features (50%)"
    assert text.splitlines()[1].split()[:2] == ["DRIFT", "country"]
    page = drift.html_report(report, current, "Drift of fraud-detector")
    assert page.count("<svg") == 2
    assert "score: share of rows per reference decile" in page
    assert "country: share of rows per category" in page
    metrics = drift.prometheus_text(report, "fraud-detector")
    assert 'slipway_drift_detected{model="fraud-detector"} 1' in metrics
    assert 'slipway_drift_share{model="fraud-detector"} 0.500000' in metrics
    assert 'slipway_drift_score{model="fraud-detector",feature="score"}' in metrics


def test_the_command_exits_3_on_drift_and_0_without(tmp_path, capsys):
    reference, current = frames()
    (tmp_path / "reference.json").write_text(json.dumps(profile(reference)))
    reference.head(5000).to_csv(tmp_path / "same.csv", index=False)
    log = tmp_path / "predictions.jsonl"
    shifted = current.head(5000).assign(score=lambda f: f["score"] + 1.0)
    log.write_text(
        "\n".join(json.dumps({"features": row, "score": 0.1}) for row in shifted.to_dict("records"))
    )
    base = ["drift", "check", "--reference", str(tmp_path / "reference.json")]
    assert main([*base, "--current", str(tmp_path / "same.csv")]) == 0
    html_out, metrics_out = tmp_path / "report.html", tmp_path / "drift.prom"
    code = main([*base, "--current", str(log), "--html", str(html_out), "--metrics-out", str(metrics_out)])
    assert code == 3
    assert "DRIFT score" in " ".join(capsys.readouterr().out.split())
    assert html_out.read_text().count("<svg") == 1
    assert 'slipway_drift_detected{model="model"} 1' in metrics_out.read_text()


def test_the_command_names_bad_input(tmp_path, capsys):
    code = main(
        [
            "drift",
            "check",
            "--reference",
            str(tmp_path / "none.json"),
            "--current",
            str(tmp_path / "none.csv"),
        ]
    )
    assert code == 2
    assert "none.csv: no such file" in capsys.readouterr().err

"""The pipeline's pure parts: settings from a declaration, gates, metrics, live judgement, audit."""

from __future__ import annotations

import json

import boto3
import numpy as np
import pandas as pd
import pytest
from botocore.stub import ANY, Stubber

from components.declaration import load_stack
from pipelines import datasets, metrics
from pipelines.audit import AuditEvent, FileSink, ObjectStoreSink, read_events
from pipelines.state import Gate, Settings, seconds
from pipelines.steps import run_outcome
from pipelines.targets.local import judge, replay_rows
from tests.conftest import PROJECT_DIR


def test_settings_carry_what_the_prod_stack_declares():
    settings = Settings.from_declaration(
        "fraud-detector-prod", load_stack(PROJECT_DIR, "fraud-detector-prod")
    )
    assert settings.primary_gate == Gate(metric="roc_auc", min=0.9)
    assert settings.champion_margin == 0.002
    assert settings.approval_required is True
    assert settings.analysis.max_latency_p99_ms == 150
    assert settings.analysis.interval_seconds == 60
    assert settings.drift_features == ("amount", "merchant_category", "hour_of_day", "country")


@pytest.mark.parametrize(("text", "expected"), [("30s", 30), ("5m", 300), ("2h", 7200)])
def test_durations(text, expected):
    assert seconds(text) == expected


@pytest.mark.parametrize(
    ("gate", "value", "failure"),
    [
        (Gate(metric="roc_auc", min=0.85), 0.9, None),
        (Gate(metric="roc_auc", min=0.85), 0.8, "roc_auc 0.8000 is below the minimum 0.85"),
        (Gate(metric="log_loss", max=0.4), 0.5, "log_loss 0.5000 is above the maximum 0.4"),
        (Gate(metric="log_loss", max=0.4), 0.4, None),
    ],
)
def test_gates_name_the_metric_and_the_numbers(gate, value, failure):
    assert gate.failure(value) == failure


def test_metrics_on_known_answers():
    labels = np.array([0, 0, 1, 1])
    scores = np.array([0.1, 0.4, 0.35, 0.8])
    found = metrics.compute(["roc_auc", "accuracy", "precision", "recall"], labels, scores)
    assert found == {"roc_auc": 0.75, "accuracy": 0.75, "precision": 1.0, "recall": 0.5}
    with pytest.raises(ValueError, match="unknown metric auc; known: accuracy"):
        metrics.compute(["auc"], labels, scores)


def test_judge_fails_only_past_the_failure_limit():
    rows = [{"i": index} for index in range(40)]

    def send(row):
        return (500 if row["i"] < 5 else 200), 3.0

    once = judge(send, rows, max_error_rate=0.01, max_latency_p99_ms=100, failure_limit=1, intervals=4)
    assert once.passed, "one bad interval is within a failure limit of one"
    assert once.numbers["failed_intervals"] == 1
    strict = judge(send, rows, max_error_rate=0.01, max_latency_p99_ms=100, failure_limit=0, intervals=4)
    assert not strict.passed
    assert strict.detail == "interval 1: error rate 50.0% > 1.0%"
    assert strict.numbers["error_rate"] == 5 / 40


def test_judge_holds_latency_to_the_p99_threshold():
    def slow(row):
        return 200, 400.0

    result = judge(slow, [{"i": i} for i in range(8)], 0.01, 250, 0, intervals=2)
    assert not result.passed
    assert "p99 400 ms > 250 ms" in result.detail
    assert not judge(slow, [], 0.01, 250, 0).passed


def test_replay_prefers_what_the_champion_was_really_asked(tmp_path):
    log = tmp_path / "predictions.jsonl"
    log.write_text(
        "\n".join(json.dumps({"features": {"n": n}, "score": 0.1}) for n in range(3)) + "\nnot json\n"
    )
    evaluation = pd.DataFrame({"n": [10, 11, 12, 13]})
    assert replay_rows(log, evaluation, 5) == [{"n": 2}, {"n": 1}, {"n": 0}, {"n": 10}, {"n": 11}]
    assert replay_rows(tmp_path / "missing.jsonl", evaluation, 2) == [{"n": 10}, {"n": 11}]


def test_data_errors_name_the_file(tmp_path):
    with pytest.raises(datasets.DataError, match="nothing.csv: no such file"):
        datasets.load(str(tmp_path / "nothing.csv"))
    empty = tmp_path / "empty.csv"
    empty.write_text("a,b\n")
    with pytest.raises(datasets.DataError, match="empty.csv: no rows"):
        datasets.load(str(empty))
    frame = pd.DataFrame({"a": [1, 2], "label": [0, None]})
    with pytest.raises(datasets.DataError, match="1 rows have no 'label'"):
        datasets.split_label(frame, "label", "x.csv")
    with pytest.raises(datasets.DataError, match="no label column 'target'; columns: a, label"):
        datasets.split_label(frame, "target", "x.csv")
    with pytest.raises(datasets.DataError, match="unsupported scheme 'ftp'"):
        datasets.load("ftp://host/data.csv")


def test_profile_and_schema_checks():
    frame = pd.DataFrame({"amount": [1.0, 2.0, None, 4.0], "country": ["GB", "GB", "DE", None]})
    profile = datasets.profile(frame)
    assert profile["columns"]["amount"]["kind"] == "numeric"
    assert profile["columns"]["amount"]["missing"] == 0.25
    assert profile["columns"]["country"]["frequencies"] == {"GB": 2 / 3, "DE": 1 / 3}
    assert datasets.schema_problems(frame, {"amount": "double", "age": "long", "country": "double"}) == [
        "missing column 'age'",
        f"column 'country' should be numeric (double), is {frame['country'].dtype}",
    ]
    holes = datasets.profile(frame.assign(amount=[None, None, None, 4.0]))
    assert datasets.statistics_problems(holes, profile) == [
        "column 'amount' is missing in 75% of rows (reference 25%)"
    ]


def _event(**changes):
    fields = dict(
        kind="step",
        run_id="r1",
        stack="s",
        team="payments",
        model="fraud-detector",
        environment="dev",
        actor="ana",
        source_commit="abc",
        step="evaluate",
        outcome="failed",
        started_at=1.0,
        finished_at=2.5,
    )
    return AuditEvent(**{**fields, **changes})


def test_file_sink_appends_one_line_per_event(tmp_path):
    sink = FileSink(tmp_path / "audit" / "events.jsonl")
    sink.write(_event())
    sink.write(_event(kind="run", step=None, outcome="rolled_back"))
    events = read_events(tmp_path / "audit" / "events.jsonl")
    assert [(e.kind, e.outcome) for e in events] == [("step", "failed"), ("run", "rolled_back")]


def test_object_store_sink_writes_one_object_per_event():
    client = boto3.client("s3", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y")
    stub = Stubber(client)
    stub.add_response(
        "put_object",
        {},
        {
            "Bucket": "artifacts",
            "Key": "audit/payments/fraud-detector/2.500000-r1-evaluate.json",
            "Body": ANY,
        },
    )
    with stub:
        ObjectStoreSink("artifacts", "audit/", client).write(_event())
    stub.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("status", "failures", "expected"),
    [
        ("Succeeded", "", "promoted"),
        ("Failed", json.dumps([{"displayName": "evaluate", "message": "gate"}]), "failed"),
        ("Failed", json.dumps([{"displayName": "rollback", "message": "rolled back"}]), "rolled_back"),
        ("Error", "not json", "failed"),
    ],
)
def test_a_finished_workflows_outcome(status, failures, expected):
    assert run_outcome(status, failures).value == expected

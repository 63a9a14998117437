"""The deployment report on an audit trail with hand-computed answers, failed and rolled-back runs too."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from components.cli import main
from pipelines import report
from pipelines.audit import AuditEvent, FileSink

T0 = datetime(2026, 1, 5, tzinfo=UTC).timestamp()
DAY = 86_400


def _run(run_id, team, model, start, finish, outcome, steps=()):
    common = dict(
        run_id=run_id,
        stack=f"{model}-prod",
        team=team,
        model=model,
        environment="prod",
        actor="ana",
        source_commit="abc",
        version=run_id,
    )
    events = [
        AuditEvent(kind="step", step=name, outcome="passed", started_at=begin, finished_at=end, **common)
        for name, begin, end in steps
    ]
    events.append(AuditEvent(kind="run", outcome=outcome, started_at=start, finished_at=finish, **common))
    return events


def trail() -> list[AuditEvent]:
    fraud = ("payments", "fraud-detector")
    churn = ("growth", "churn")
    return [
        *_run("r1", *fraud, T0, T0 + 600, "promoted"),
        *_run("r2", *fraud, T0 + DAY, T0 + DAY + 120, "failed"),  # stopped at a gate: never met traffic
        *_run(
            "r3",
            *fraud,
            T0 + 2 * DAY,
            T0 + 2 * DAY + 910,
            "rolled_back",
            steps=[
                ("deploy", T0 + 2 * DAY + 300, T0 + 2 * DAY + 320),
                ("rollback", T0 + 2 * DAY + 880, T0 + 2 * DAY + 900),
            ],
        ),
        *_run("r4", *fraud, T0 + 4 * DAY, T0 + 4 * DAY + 1200, "promoted"),
        *_run("g1", *churn, T0 + 3 * DAY, T0 + 3 * DAY + 300, "promoted"),
        *_run(
            "g2",
            *churn,
            T0 + 5 * DAY,
            T0 + 5 * DAY + 410,
            "rolled_back",
            steps=[
                ("deploy", T0 + 5 * DAY + 100, T0 + 5 * DAY + 110),
                ("rollback", T0 + 5 * DAY + 390, T0 + 5 * DAY + 400),
            ],
        ),
        *_run("r5", *fraud, T0 + 7 * DAY - 900, T0 + 7 * DAY, "promoted"),
    ]


def by_name(groups):
    return {group.group: group for group in groups}


def test_measures_per_model_team_and_overall_match_the_hand_computed_answers():
    groups = by_name(report.by_group(trail()))
    fraud = groups["model fraud-detector (team payments)"]
    assert fraud.window_days == 7
    assert fraud.frequency_per_week == 3  # r1, r4, r5 in one week
    assert fraud.lead_times == {"r1": 600, "r4": 1200, "r5": 900}
    assert fraud.lead_time_median == 900
    assert fraud.changes == ("r1", "r3", "r4", "r5")  # r2 never reached traffic
    assert fraud.change_failure_rate == 0.25
    assert fraud.restore_times == {"r3": 600}  # deploy start 300 s to rollback end 900 s
    churn = groups["model churn (team growth)"]
    assert churn.window_days == 4  # its first run (day 3) to the last run of the report (day 7)
    assert churn.frequency_per_week == pytest.approx(1.75)
    assert churn.change_failure_rate == 0.5
    assert churn.restore_median == 300
    assert groups["team payments"].deployments == fraud.deployments
    overall = groups["all teams"]
    assert overall.frequency_per_week == 4
    assert overall.lead_time_median == 750  # of 300, 600, 900, 1200
    assert overall.change_failure_rate == pytest.approx(2 / 6)
    assert overall.restore_median == 450  # of 300 and 600


def test_filters_by_team_model_and_date():
    assert [g.group for g in report.by_group(trail(), team="growth")] == [
        "model churn (team growth)",
        "team growth",
    ]
    since = by_name(report.by_group(trail(), model="fraud-detector", since=T0 + 2 * DAY))
    fraud = since["model fraud-detector (team payments)"]
    assert fraud.deployments == ("r4", "r5")
    assert fraud.window_days == 5
    assert fraud.frequency_per_week == pytest.approx(2 / (5 / 7))
    assert fraud.change_failure_rate == pytest.approx(1 / 3)


def test_no_changes_means_no_rate_not_zero():
    events = _run("x1", "payments", "m", T0, T0 + 60, "failed")
    (model, _team) = report.by_group(events)
    assert model.change_failure_rate is None
    assert model.lead_time_median is None
    assert "-" in report.terminal([model]).splitlines()[1]


def test_the_command_prints_the_table_and_writes_charts_tracing_each_run(tmp_path, capsys):
    audit = tmp_path / "audit.jsonl"
    sink = FileSink(audit)
    for event in trail():
        sink.write(event)
    page = tmp_path / "report.html"
    code = main(["report", "--audit", str(audit), "--html", str(page)])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["group", "deploys/week", "lead", "time", "failure", "rate", "restore"]
    fraud = next(line for line in out if line.startswith("model fraud-detector"))
    assert fraud.split()[-4:] == ["3.00", "15.0m", "25%", "10.0m"]
    text = page.read_text()
    assert text.count("<svg") == 4 * 5  # four measures for each of five groups
    for run_id in ("r1", "r3", "r4", "r5", "g1", "g2"):
        assert f"<td>{run_id}</td>" in text
    assert "<td>r2</td>" not in text


def test_the_command_names_a_missing_trail_and_a_bad_date(tmp_path, capsys):
    assert main(["report", "--audit", str(tmp_path / "none.jsonl")]) == 2
    assert "no audit trail at" in capsys.readouterr().err
    audit = tmp_path / "audit.jsonl"
    FileSink(audit).write(trail()[0])
    assert main(["report", "--audit", str(audit), "--since", "5 Jan"]) == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err

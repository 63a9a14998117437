"""`slipway new model`: a stack file that validates as written, and never an overwritten one."""

from __future__ import annotations

import shutil

import pytest

from components.cli import main
from tests.conftest import PROJECT_DIR


@pytest.fixture
def project(tmp_path):
    shutil.copy(PROJECT_DIR / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    shutil.copytree(PROJECT_DIR / "stacks", tmp_path / "stacks")
    return tmp_path


def test_a_new_model_stack_validates_as_written(project, capsys):
    code = main(
        [
            "--project",
            str(project),
            "new",
            "model",
            "churn",
            "--team",
            "growth",
            "--env",
            "dev",
            "--platform",
            "platform-dev",
        ]
    )
    assert code == 0
    path = project / "stacks" / "Pulumi.churn-dev.yaml"
    text = path.read_text()
    assert text.startswith("# churn of team growth in dev.")
    assert "slipway:platformStack: platform-dev" in text
    assert "required: false" in text
    capsys.readouterr()
    assert main(["--project", str(project), "validate", "churn-dev"]) == 0
    assert (
        capsys.readouterr().out.strip() == "ok  stacks/Pulumi.churn-dev.yaml (model churn, dev, team growth)"
    )


def test_prod_models_ask_for_approval_and_more_replicas(project):
    assert (
        main(
            [
                "--project",
                str(project),
                "new",
                "model",
                "churn",
                "--team",
                "growth",
                "--env",
                "prod",
                "--platform",
                "platform-prod",
            ]
        )
        == 0
    )
    text = (project / "stacks" / "Pulumi.churn-prod.yaml").read_text()
    assert "required: true" in text
    assert "minReplicas: 3" in text


def test_an_existing_file_is_never_overwritten(project, capsys):
    path = project / "stacks" / "Pulumi.fraud-detector-dev.yaml"
    before = path.read_text()
    code = main(
        [
            "--project",
            str(project),
            "new",
            "model",
            "fraud-detector",
            "--team",
            "payments",
            "--env",
            "dev",
            "--platform",
            "platform-dev",
        ]
    )
    assert code == 2
    assert (
        capsys.readouterr().err.strip()
        == "stacks/Pulumi.fraud-detector-dev.yaml: file: exists already; it is never overwritten"
    )
    assert path.read_text() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Churn", "--team", "growth", "--env", "dev", "--platform", "platform-dev"], "NAME: got 'Churn'"),
        (
            ["churn", "--team", "growth", "--env", "qa", "--platform", "platform-dev"],
            "--env: got 'qa'; allowed: dev, staging, prod, preview",
        ),
        (
            ["churn", "--team", "ops", "--env", "dev", "--platform", "platform-dev"],
            "--team: got 'ops', not a team of 'platform-dev'",
        ),
        (
            ["churn", "--team", "growth", "--env", "prod", "--platform", "platform-dev"],
            "'platform-dev' is a 'dev' platform, not 'prod'",
        ),
        (
            ["churn", "--team", "growth", "--env", "dev", "--platform", "platform-qa"],
            "--platform: got 'platform-qa'",
        ),
    ],
)
def test_bad_arguments_are_named_and_nothing_is_written(project, capsys, args, message):
    before = sorted(p.name for p in (project / "stacks").iterdir())
    assert main(["--project", str(project), "new", "model", *args]) == 2
    assert message in capsys.readouterr().err
    assert sorted(p.name for p in (project / "stacks").iterdir()) == before

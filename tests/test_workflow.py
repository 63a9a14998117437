"""The model's WorkflowTemplate: pinned by golden files, valid against Argo's schema, shaped as declared."""

from __future__ import annotations

import copy
import os
import socket
from pathlib import Path

import jsonschema
import pytest
import yaml

from components.cli import main
from components.declaration import load_stack
from pipelines.workflow import PlatformLink, SubmitError, manifest, platform_link, submit
from tests.conftest import PROJECT_DIR, SHARED_DIR
from tests.schemas import close

GOLDEN_DIR = Path(__file__).parent / "golden"
STACKS = ["fraud-detector-dev", "fraud-detector-prod"]
needs_shared = pytest.mark.skipif(not (SHARED_DIR / "schemas").is_dir(), reason="needs ../shared/schemas")


def rendered(stack: str) -> dict:
    declaration = load_stack(PROJECT_DIR, stack)
    return manifest(stack, declaration, platform_link(PROJECT_DIR, declaration))


@pytest.mark.parametrize("stack", STACKS)
def test_rendered_template_matches_its_golden_file(stack, tmp_path):
    code = main(["--project", str(PROJECT_DIR), "pipeline", "render", stack, "--out", str(tmp_path)])
    assert code == 0
    (written,) = tmp_path.glob("*.yaml")
    golden = GOLDEN_DIR / f"{stack}.yaml"
    if os.environ.get("SLIPWAY_UPDATE_GOLDEN") == "1":
        golden.write_text(written.read_text())
    assert written.read_text() == golden.read_text(), (
        "regenerate with SLIPWAY_UPDATE_GOLDEN=1 after a deliberate change"
    )


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("stack", STACKS)
def test_template_validates_against_argos_schema_closed(stack):
    root = close(yaml.safe_load((SHARED_DIR / "schemas" / "argo-workflows.schema.json").read_text()))
    root.pop("oneOf", None)
    root["$ref"] = "#/definitions/io.argoproj.workflow.v1alpha1.WorkflowTemplate"
    validator = jsonschema.Draft202012Validator(root)
    template = rendered(stack)
    assert sorted(e.message for e in validator.iter_errors(template)) == []
    misspelt = copy.deepcopy(template)
    misspelt["spec"]["entrypont"] = "pipeline"
    assert any("entrypont" in e.message for e in validator.iter_errors(misspelt))


def _tasks(template: dict) -> dict[str, dict]:
    (dag,) = [t for t in template["spec"]["templates"] if t["name"] == "pipeline"]
    return {task["name"]: task for task in dag["dag"]["tasks"]}


def test_steps_run_in_order_and_the_verdict_decides_promote_or_rollback():
    tasks = _tasks(rendered("fraud-detector-dev"))
    order = ["start", "train", "validate-data", "evaluate", "compare", "register", "deploy", "analyse"]
    for before, after in zip(order, order[1:], strict=False):
        assert tasks[after]["depends"] == before
    assert tasks["analyse"]["continueOn"] == {"failed": True}
    assert tasks["promote"]["when"] == "{{tasks.analyse.status}} == Succeeded"
    assert tasks["rollback"]["when"] == "{{tasks.analyse.status}} == Failed"
    assert (
        tasks["rollback"]["arguments"]["parameters"][0]["value"]
        == "{{tasks.deploy.outputs.parameters.state}}"
    )


def test_approval_suspends_before_deploy_only_where_declared():
    assert "approval" not in _tasks(rendered("fraud-detector-dev"))
    prod = _tasks(rendered("fraud-detector-prod"))
    assert prod["approval"]["depends"] == "register"
    assert prod["deploy"]["depends"] == "approval"
    templates = {t["name"]: t for t in rendered("fraud-detector-prod")["spec"]["templates"]}
    assert templates["approval"]["suspend"] == {}


def test_every_run_ends_in_the_record_exit_handler():
    template = rendered("fraud-detector-dev")
    assert template["spec"]["onExit"] == "record"
    (handler,) = [t for t in template["spec"]["templates"] if t["name"] == "record" and "dag" in t]
    (task,) = handler["dag"]["tasks"]
    values = {p["name"]: p["value"] for p in task["arguments"]["parameters"]}
    assert values["status"] == "{{workflow.status}}"
    assert values["failures"] == "{{workflow.failures}}"


def test_steps_run_the_runtime_image_as_the_pipeline_account_restricted():
    template = rendered("fraud-detector-prod")
    spec = template["spec"]
    assert spec["serviceAccountName"] == "pipeline"
    assert spec["securityContext"]["runAsNonRoot"] is True
    scripts = [t for t in spec["templates"] if "script" in t]
    assert len(scripts) == 11
    for entry in scripts:
        script = entry["script"]
        assert script["image"].endswith("/slipway-prod/runtime:0.1.0")
        assert script["args"][:3] == ["-m", "hera.workflows.runner", "-e"]
        assert script["args"][3].startswith("pipelines.steps:")
        assert script["securityContext"]["readOnlyRootFilesystem"] is True
        env = {e["name"]: e for e in script["env"]}
        assert env["MLFLOW_TRACKING_URI"]["value"] == "http://mlflow.slipway-mlflow.svc:5000"
        assert env["MLFLOW_TRACKING_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == "mlflow-credentials"
        assert env["SLIPWAY_NAMESPACE"]["value"] == template["metadata"]["namespace"]


def test_the_declared_settings_travel_with_the_template():
    tasks = _tasks(rendered("fraud-detector-prod"))
    settings = {p["name"]: p["value"] for p in tasks["start"]["arguments"]["parameters"]}["settings"]
    assert '"champion_margin":0.002' in settings
    assert '"metric":"roc_auc","min":0.9' in settings


def test_submit_to_an_unreachable_server_is_a_clear_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    declaration = load_stack(PROJECT_DIR, "fraud-detector-dev")
    with pytest.raises(SubmitError, match=f"127.0.0.1:{port}"):
        submit("fraud-detector-dev", declaration, f"http://127.0.0.1:{port}", None, None, {})


def test_submit_command_exits_1_naming_the_server(capsys):
    code = main(
        [
            "--project",
            str(PROJECT_DIR),
            "pipeline",
            "submit",
            "fraud-detector-dev",
            "--server",
            "http://127.0.0.1:9",
        ]
    )
    assert code == 1
    assert "http://127.0.0.1:9" in capsys.readouterr().err


def test_render_of_a_platform_stack_is_refused(capsys, tmp_path):
    code = main(["--project", str(PROJECT_DIR), "pipeline", "render", "platform-dev", "--out", str(tmp_path)])
    assert code == 2
    assert "platform-dev is a platform stack" in capsys.readouterr().err


def test_platform_link_comes_from_the_platforms_planned_outputs():
    link = platform_link(PROJECT_DIR, load_stack(PROJECT_DIR, "fraud-detector-dev"))
    assert link == PlatformLink(
        runtime_image=link.runtime_image,
        mlflow_url="http://mlflow.slipway-mlflow.svc:5000",
        audit_uri=link.audit_uri,
        serving_port=8080,
    )
    assert link.runtime_image.endswith("/slipway-dev/runtime:0.1.0")
    assert link.audit_uri.startswith("s3://slipway-dev-artifacts-bucket-") and link.audit_uri.endswith(
        "/audit"
    )

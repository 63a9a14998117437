"""The offline plan: the real program under the mock runtime, recorded and written deterministically."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
from pulumi.runtime import rpc

from components.aws.kms import KeyPurpose
from components.cli import main
from components.offline.engine import engine_config, plan_stack
from components.offline.mocks import PlanError
from components.offline.render import kubernetes_objects, manifest_filename, write_plan
from components.offline.values import SECRET, plain
from tests.conftest import PROJECT_DIR, STACKS, planned, stack_config

RESOURCE_FIELDS = {"urn", "type", "name", "parent", "provider", "dependencies", "inputs"}


@pytest.mark.parametrize("stack", STACKS)
def test_plan_json_has_the_documented_fields(tmp_path, stack):
    plan_path, _ = write_plan(planned(stack), tmp_path)
    document = json.loads(plan_path.read_text())
    assert document["project"] == "slipway"
    assert document["stack"] == stack
    assert document["resources"], "a stack that creates nothing says nothing"
    for resource in document["resources"]:
        assert set(resource) - {"options"} == RESOURCE_FIELDS
        assert resource.get("options", {"ignoreChanges": []}), "options appear only when set"
        assert resource["urn"].startswith(f"urn:pulumi:{stack}::slipway::")
    assert (tmp_path / "manifests").is_dir()


@pytest.mark.parametrize("stack", ["platform-dev", "platform-local", "fraud-detector-prod"])
def test_two_plans_are_byte_identical(tmp_path, stack):
    # Fresh plans, not the session's cached one: the comparison must cover two real runs.
    first, second = tmp_path / "first", tmp_path / "second"
    write_plan(plan_stack(PROJECT_DIR, stack), first)
    write_plan(plan_stack(PROJECT_DIR, stack), second)
    first_files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    second_files = sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert first_files == second_files
    for relative in first_files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_components_and_their_children_are_recorded():
    plan = planned("platform-dev")
    by_urn = {r.urn: r for r in plan.registrations}
    store = next(r for r in plan.registrations if r.type == "slipway:aws:ArtifactStore")
    assert not store.custom
    children = {r.type for r in plan.registrations if r.parent == store.urn}
    assert children == {
        "aws:s3/bucket:Bucket",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    }
    # Every AWS resource goes through the declared provider, never an ambient default one.
    for registration in plan.registrations:
        if registration.custom and registration.type.startswith("aws:"):
            assert registration.provider in by_urn
            assert by_urn[registration.provider].type == "pulumi:providers:aws"


def test_provider_computed_outputs_are_filled():
    outputs = plain(planned("platform-dev").outputs)
    assert outputs["runtimeImageRepository"] == (
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/slipway-dev/runtime"
    )
    assert outputs["artifactBucketArn"] == f"arn:aws:s3:::{outputs['artifactBucket']}"
    assert outputs["registryKmsKeyArn"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    assert outputs["registryKmsKeyArn"] != outputs["artifactsKmsKeyArn"]


def test_model_plan_receives_its_platforms_planned_outputs():
    platform = plain(planned("platform-prod").outputs)
    model = planned("fraud-detector-prod")
    outputs = plain(model.outputs)
    assert outputs["artifactBucket"] == platform["artifactBucket"]
    assert outputs["imageRepository"] == (
        f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{platform['registryNamespace']}"
        "/payments/fraud-detector"
    )
    repository = next(
        plain(r.inputs) for r in model.registrations if r.type == "aws:ecr/repository:Repository"
    )
    assert repository["encryptionConfigurations"][0]["kmsKey"] == platform["registryKmsKeyArn"]
    reference = next(r for r in model.registrations if r.type == "pulumi:pulumi:StackReference")
    assert plain(reference.inputs)["name"] == "organization/slipway/platform-prod"


def test_platform_local_builds_no_aws_resource():
    plan = planned("platform-local")
    assert plan.registrations
    assert not [r.type for r in plan.registrations if "aws" in r.type.split(":")[:2]]
    provider = next(r for r in plan.registrations if r.type == "pulumi:providers:kubernetes")
    assert plain(provider.inputs)["context"] == "kind-slipway"


def test_manifests_are_one_file_per_kubernetes_object(tmp_path):
    plan = planned("platform-local")
    _, count = write_plan(plan, tmp_path)
    files = sorted(p.name for p in (tmp_path / "manifests").iterdir())
    assert count == len(files) == len(list(kubernetes_objects(plan)))
    assert len(set(files)) == len(files)
    assert "namespace.cluster.slipway-mlflow.yaml" in files
    assert "networkpolicy.slipway-mlflow.default-deny.yaml" in files


def test_manifest_filename_names_kind_namespace_and_name():
    obj = {"kind": "NetworkPolicy", "metadata": {"name": "default-deny", "namespace": "team-a"}}
    assert manifest_filename(obj) == "networkpolicy.team-a.default-deny.yaml"
    assert manifest_filename({"kind": "Namespace", "metadata": {"name": "team-a"}}) == (
        "namespace.cluster.team-a.yaml"
    )


def test_secrets_are_shown_as_a_marker_never_their_value():
    wrapped = {rpc._special_sig_key: rpc._special_secret_sig, "value": "hunter2"}
    assert plain({"password": wrapped, "nested": [wrapped]}) == {
        "password": SECRET,
        "nested": [SECRET],
    }


def test_encrypted_config_reaches_the_program_as_a_secret_placeholder():
    config = {
        "slipway:role": "platform",
        "slipway:cluster": {"name": "x"},
        "slipway:alertWebhook": {"secure": "v1:abc"},
    }
    encoded, secret_keys = engine_config(config)
    assert encoded["slipway:alertWebhook"] == SECRET
    assert secret_keys == ["slipway:alertWebhook"]
    assert json.loads(encoded["slipway:cluster"]) == {"name": "x"}


def test_plan_cli_prints_tree_counts_and_a_summary(capsys, tmp_path):
    code = main(["--project", str(PROJECT_DIR), "plan", "platform-dev", "--out", str(tmp_path)])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0] == "slipway platform-dev"
    assert "├─ slipway:aws:ArtifactStore slipway-dev-artifacts" in out
    plan = planned("platform-dev")
    keys = sum(1 for r in plan.registrations if r.type == "aws:kms/key:Key")
    components = sum(1 for r in plan.registrations if not r.custom)
    resources = sum(1 for r in plan.registrations if r.custom)
    assert keys == len(KeyPurpose)
    assert any(line.strip() == f"{keys}  aws:kms/key:Key" for line in out)
    assert components == sum(
        1 for r in plan.registrations if r.type.startswith(("slipway:", "pulumi:pulumi:"))
    )
    assert out[-2].startswith(f"plan platform-dev: {resources} resources in {components} components")
    assert (tmp_path / "plan.json").is_file()


def test_plan_of_an_undeclared_referenced_stack_is_a_clear_error(scratch_project, capsys):
    config = stack_config("fraud-detector-dev")
    config["slipway:platformStack"] = "platform-staging"
    project = scratch_project({"lonely": config})
    code = main(["--project", str(project), "plan", "lonely"])
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "slipway: stack reference 'organization/slipway/platform-staging' is not a stack of this "
        "project; the offline plan resolves: none"
    )


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux)")
def test_plan_runs_with_the_network_unplugged(tmp_path):
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("this machine does not allow a private network namespace")
    command = [sys.executable, "-m", "components", "plan", "platform-dev", "--out", str(tmp_path)]
    result = subprocess.run(
        ["unshare", "-rn", *command],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "plan.json").read_text())["stack"] == "platform-dev"


def test_component_method_calls_are_answered_and_recorded():
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import resource_pb2

    from components.offline.mocks import PlanMocks
    from components.offline.monitor import RecordingMonitor

    monitor = RecordingMonitor(PlanMocks(region="eu-central-1"))
    request = resource_pb2.ResourceCallRequest(
        tok="aws:index/getRegion:getRegion",
        args=struct_pb2.Struct(),
        provider="urn:pulumi:s::p::pulumi:providers:aws::aws::id-1",
    )
    response = monitor.Call(request)
    returned = rpc.deserialize_properties(getattr(response, "return"))
    assert returned["name"] == "eu-central-1"
    (call,) = monitor.calls
    assert call.token == "aws:index/getRegion:getRegion"
    assert call.provider == "urn:pulumi:s::p::pulumi:providers:aws::aws"


def test_an_unanswerable_invoke_fails_loudly():
    from pulumi.runtime.mocks import MockCallArgs

    from components.offline.mocks import PlanError, PlanMocks

    with pytest.raises(PlanError, match="no offline stand-in for function aws:rds/getEngineVersion"):
        PlanMocks().call(MockCallArgs("aws:rds/getEngineVersion:getEngineVersion", {}, ""))


def test_a_failed_plan_leaves_nothing_behind_for_the_next(scratch_project):
    config = stack_config("fraud-detector-dev")
    config["slipway:platformStack"] = "platform-staging"
    project = scratch_project({"lonely": config})
    with pytest.raises(PlanError, match="platform-staging"):
        plan_stack(project, "lonely")
    # The next plan in the same process runs clean: no error or task of the failed one carries over.
    assert plan_stack(PROJECT_DIR, "platform-local").outputs["cloud"] == "kubernetes"

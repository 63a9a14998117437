"""Bad declarations: each exits 2 with one line naming the file, the key path and what is allowed."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from components.cli import main
from tests.conftest import PROJECT_DIR, stack_config

Config = dict[str, Any]
SOURCE = "stacks/Pulumi.broken.yaml"


def _set(path: str, value: Any) -> Callable[[Config], None]:
    """A mutation that sets one key path (dots and [index]) to a value."""

    def mutate(config: Config) -> None:
        head, *rest = path.split(".")
        target: Any = config
        parts = [f"slipway:{head}", *rest]
        for part in parts[:-1]:
            target = _step(target, part)
        last = parts[-1]
        if last.endswith("]"):
            name, index = last[:-1].split("[")
            _step(target, name)[int(index)] = value
        else:
            target[last] = value

    return mutate


def _step(target: Any, part: str) -> Any:
    if part.endswith("]"):
        name, index = part[:-1].split("[")
        return target[name][int(index)]
    return target[part]


def _drop(key: str) -> Callable[[Config], None]:
    return lambda config: config.pop(f"slipway:{key}")


def _add_pool(pool: dict[str, Any]) -> Callable[[Config], None]:
    return lambda config: config["slipway:nodePools"].append(pool)


GPU_POOL = {
    "name": "gpu",
    "kind": "gpu",
    "instanceTypes": ["g5.xlarge"],
    "minSize": 0,
    "maxSize": 2,
}

PLATFORM_CASES = [
    pytest.param(
        _set("cluster.versoin", "1.33"),
        "slipway:cluster.versoin: unknown key; allowed keys: name, version, endpoint, "
        "logRetentionDays, admins",
        id="misspelt-nested-key",
    ),
    pytest.param(
        lambda c: c.update({"slipway:nodepools": []}),
        "slipway:nodepools: unknown key; allowed keys: role, environment, cloud, aws, kubernetes, "
        "cluster, nodePools, registry, artifactStore, mlflow, argo, monitoring, gpu, teams, tags",
        id="misspelt-top-level-key",
    ),
    pytest.param(
        _set("aws.regoin", "eu-west-1"),
        "slipway:aws.regoin: unknown key; allowed keys: region, availabilityZones, vpcCidr, natGateways",
        id="misspelt-aws-key",
    ),
    pytest.param(
        _set("nodePools[0].minSise", 1),
        "slipway:nodePools[0].minSise: unknown key; allowed keys: name, kind, instanceTypes, "
        "capacityType, minSize, maxSize, desiredSize, diskSizeGb, labels",
        id="misspelt-key-in-list-item",
    ),
    pytest.param(
        _set("cluster.version", 1.3),
        "slipway:cluster.version: expected a string, got 1.3 (quote it)",
        id="unquoted-version",
    ),
    pytest.param(
        _set("nodePools[0].minSize", "1"),
        "slipway:nodePools[0].minSize: expected a whole number, got '1'",
        id="number-as-string",
    ),
    pytest.param(
        _set("nodePools[0].maxSize", 2.5),
        "slipway:nodePools[0].maxSize: expected a whole number, got 2.5",
        id="fractional-size",
    ),
    pytest.param(
        _set("cluster", "slipway-dev"),
        "slipway:cluster: expected a mapping, got 'slipway-dev'",
        id="scalar-for-mapping",
    ),
    pytest.param(
        _set("nodePools", {"name": "system"}),
        "slipway:nodePools: expected a list, got a mapping",
        id="mapping-for-list",
    ),
    pytest.param(
        _set("cluster.endpoint", {"public": "yes"}),
        "slipway:cluster.endpoint.public: expected true or false, got 'yes'",
        id="string-for-bool",
    ),
    pytest.param(
        _set("environment", "qa"),
        "slipway:environment: got 'qa'; allowed: 'dev', 'staging', 'prod' or 'preview'",
        id="unknown-environment",
    ),
    pytest.param(
        _set("cloud", "gcp"),
        "slipway:cloud: got 'gcp'; allowed: 'aws' or 'kubernetes'",
        id="unknown-cloud",
    ),
    pytest.param(
        _set("nodePools[1].capacityType", "cheap"),
        "slipway:nodePools[1].capacityType: got 'cheap'; allowed: 'onDemand' or 'spot'",
        id="unknown-capacity-type",
    ),
    pytest.param(
        _set("argo", {"serverAuthMode": "server"}),
        "slipway:argo.serverAuthMode: got 'server'; allowed: 'client' or 'sso'",
        id="open-argo-server",
    ),
    pytest.param(
        _set("aws.availabilityZones", 1),
        "slipway:aws.availabilityZones: got 1; allowed: 2 or more",
        id="too-few-zones",
    ),
    pytest.param(
        _set("aws.availabilityZones", 7),
        "slipway:aws.availabilityZones: got 7; allowed: 6 or less",
        id="too-many-zones",
    ),
    pytest.param(
        _set("nodePools[0].minSize", -1),
        "slipway:nodePools[0].minSize: got -1; allowed: 0 or more",
        id="negative-size",
    ),
    pytest.param(
        _set("mlflow", {"database": {"backupRetentionDays": 3}}),
        "slipway:mlflow.database.backupRetentionDays: got 3; allowed: 7 or more",
        id="short-backups",
    ),
    pytest.param(
        _set("nodePools[0].instanceTypes", []),
        "slipway:nodePools[0].instanceTypes: got 0 items; allowed: at least 1",
        id="no-instance-types",
    ),
    pytest.param(
        _set("aws.region", "Europe"),
        "slipway:aws.region: got 'Europe'; allowed: an AWS region such as 'eu-west-1'",
        id="bad-region",
    ),
    pytest.param(
        _set("aws.vpcCidr", "8.8.0.0/16"),
        "slipway:aws.vpcCidr: got '8.8.0.0/16'; allowed: a private IPv4 network from /16 to /20, "
        "such as '10.40.0.0/16'",
        id="public-vpc-cidr",
    ),
    pytest.param(
        _set("cluster.version", "1.20"),
        "slipway:cluster.version: got '1.20'; allowed: a quoted Kubernetes minor version "
        'from "1.29" to "1.35"',
        id="unsupported-kubernetes",
    ),
    pytest.param(
        _set("cluster.name", "Slipway_Dev"),
        "slipway:cluster.name: got 'Slipway_Dev'; allowed: a lowercase DNS label of at most "
        "40 characters (a-z, 0-9, '-'), starting with a letter",
        id="bad-cluster-name",
    ),
    pytest.param(
        _set("mlflow", {"image": "ghcr.io/mlflow/mlflow:latest"}),
        "slipway:mlflow.image: got 'ghcr.io/mlflow/mlflow:latest'; allowed: an image pinned to a "
        "version tag or a digest, never ':latest'",
        id="latest-image",
    ),
    pytest.param(
        _set("argo", {"workflowsChartVersion": "^0.45"}),
        "slipway:argo.workflowsChartVersion: got '^0.45'; allowed: an exact chart version such as "
        "'0.45.27' (no ranges)",
        id="chart-range",
    ),
    pytest.param(
        _drop("cluster"),
        "slipway:cluster: required key is missing",
        id="missing-cluster",
    ),
    pytest.param(
        _drop("role"),
        "slipway:role: required key is missing; allowed: platform, model",
        id="missing-role",
    ),
    pytest.param(
        _set("role", "service"),
        "slipway:role: got 'service'; allowed: platform, model",
        id="unknown-role",
    ),
    pytest.param(
        _drop("aws"),
        "slipway:aws: required when cloud is 'aws'; allowed: a mapping with at least 'region'",
        id="aws-without-settings",
    ),
    pytest.param(
        _set("kubernetes", {"context": "kind-x"}),
        "slipway:kubernetes: only for cloud 'kubernetes'; remove it or set cloud: kubernetes",
        id="byo-settings-on-aws",
    ),
    pytest.param(
        _set("cluster.endpoint", {"public": True}),
        "slipway:cluster.endpoint.publicCidrs: required when public is true; allowed: one or more "
        "networks such as '203.0.113.0/24'",
        id="public-endpoint-without-cidrs",
    ),
    pytest.param(
        _set("cluster.endpoint", {"public": True, "publicCidrs": ["0.0.0.0/0"]}),
        "slipway:cluster.endpoint.publicCidrs[0]: got '0.0.0.0/0'; allowed: an IPv4 network of /8 "
        "or narrower, such as '203.0.113.0/24'",
        id="public-endpoint-open-to-all",
    ),
    pytest.param(
        _add_pool({**GPU_POOL, "minSize": 3, "maxSize": 1}),
        "slipway:nodePools[2].minSize: got 3, more than maxSize 1; allowed: 0 to 1",
        id="gpu-pool-min-over-max",
    ),
    pytest.param(
        _add_pool({**GPU_POOL, "instanceTypes": ["m7i.xlarge"]}),
        "slipway:nodePools[2].instanceTypes[0]: got 'm7i.xlarge', family 'm7i' has no NVIDIA GPU; "
        "allowed families: g4dn, g5, g5g, g6, g6e, g6f, gr6, p3, p3dn, p4d, p4de, p5, p5e, p5en",
        id="gpu-pool-unknown-family",
    ),
    pytest.param(
        _add_pool({**GPU_POOL, "kind": "cpu"}),
        "slipway:nodePools[2].instanceTypes[0]: got 'g5.xlarge', a GPU family in a cpu pool; "
        "allowed: set kind: gpu, or a non-GPU instance type",
        id="gpu-family-in-cpu-pool",
    ),
    pytest.param(
        _add_pool({**GPU_POOL, "desiredSize": 5}),
        "slipway:nodePools[2].desiredSize: got 5; allowed: from minSize 0 to maxSize 2",
        id="desired-outside-range",
    ),
    pytest.param(
        _add_pool({**GPU_POOL, "name": "cpu"}),
        "slipway:nodePools[2].name: pool 'cpu' is declared twice; names must be unique",
        id="duplicate-pool",
    ),
    pytest.param(
        _set("nodePools[0].kind", "cpu"),
        "slipway:nodePools: got 0 pools of kind 'system'; allowed: exactly one",
        id="no-system-pool",
    ),
    pytest.param(
        _set("nodePools[0].labels", {"Team Name": "x"}),
        "slipway:nodePools[0].labels.Team Name (key): got 'Team Name'; allowed: a lowercase DNS "
        "label of at most 40 characters (a-z, 0-9, '-'), starting with a letter",
        id="bad-label-key",
    ),
    pytest.param(
        _set("teams[1].name", "payments"),
        "slipway:teams[1].name: team 'payments' is declared twice; names must be unique",
        id="duplicate-team",
    ),
    pytest.param(
        _set("cluster.admins", []),
        "slipway:cluster.admins: required when cloud is 'aws': the cluster grants its creator nothing; "
        "allowed: IAM role ARNs such as 'arn:aws:iam::111122223333:role/platform-admin'",
        id="no-cluster-admins",
    ),
    pytest.param(
        _set("cluster.admins", ["arn:aws:iam::111122223333:group/admins"]),
        "slipway:cluster.admins[0]: got 'arn:aws:iam::111122223333:group/admins'; allowed: an IAM role "
        "or user ARN such as 'arn:aws:iam::111122223333:role/platform-admin'",
        id="admin-is-a-group",
    ),
    pytest.param(
        _set(
            "cluster.admins",
            ["arn:aws:iam::111122223333:role/slipway-platform-admin"] * 2,
        ),
        "slipway:cluster.admins[1]: 'arn:aws:iam::111122223333:role/slipway-platform-admin' is listed "
        "twice; list each principal once",
        id="admin-listed-twice",
    ),
    pytest.param(
        _set("nodePools[1].instanceTypes", ["m7i.xlarge", "m7g.xlarge"]),
        "slipway:nodePools[1].instanceTypes: mixes CPU architectures (arm64, x86_64); allowed: all "
        "Graviton (arm64) or all x86_64 types in one pool",
        id="pool-mixes-architectures",
    ),
    pytest.param(
        _add_pool({**GPU_POOL, "instanceTypes": ["inf2.xlarge"]}),
        "slipway:nodePools[2].instanceTypes[0]: got 'inf2.xlarge', family 'inf2' has no NVIDIA GPU; "
        "allowed families: g4dn, g5, g5g, g6, g6e, g6f, gr6, p3, p3dn, p4d, p4de, p5, p5e, p5en",
        id="gpu-pool-inferentia-family",
    ),
    pytest.param(
        _set("argo", {"serverAuthMode": "sso"}),
        "slipway:argo.sso: required when serverAuthMode is 'sso'; "
        "allowed: a mapping with issuer and redirectUrl",
        id="sso-without-settings",
    ),
    pytest.param(
        _set(
            "argo",
            {"sso": {"issuer": "https://login.example.com", "redirectUrl": "https://argo.example.com/cb"}},
        ),
        "slipway:argo.sso: only used when serverAuthMode is 'sso'; remove it or set serverAuthMode: sso",
        id="sso-settings-without-sso-mode",
    ),
    pytest.param(
        _set(
            "argo",
            {
                "serverAuthMode": "sso",
                "sso": {"issuer": "http://login.example.com", "redirectUrl": "https://a.example.com"},
            },
        ),
        "slipway:argo.sso.issuer: got 'http://login.example.com'; allowed: an https:// URL such as "
        "'https://login.example.com'",
        id="sso-issuer-not-https",
    ),
    pytest.param(
        _set("argo", {"serverAuthMode": "server"}),
        "slipway:argo.serverAuthMode: got 'server'; allowed: 'client' or 'sso'",
        id="argo-server-auth-mode-open",
    ),
    pytest.param(
        _set("gpu", {"devicePluginChartVersion": "0.19"}),
        "slipway:gpu.devicePluginChartVersion: got '0.19'; allowed: an exact chart version such as '0.45.27' "
        "(no ranges)",
        id="gpu-chart-not-exact",
    ),
    pytest.param(
        lambda c: c.update({"aws:region": "eu-west-1"}),
        "aws:region: only 'slipway:<key>' entries are read; allowed: slipway:role, "
        "slipway:environment, slipway:cloud, slipway:aws, slipway:kubernetes, slipway:cluster, "
        "slipway:nodePools, slipway:registry, slipway:artifactStore, slipway:mlflow, slipway:argo, "
        "slipway:monitoring, slipway:gpu, slipway:teams, slipway:tags, slipway:platformStack, slipway:team, "
        "slipway:model, slipway:serving, slipway:rollout, slipway:gates, slipway:drift, "
        "slipway:approval",
        id="foreign-namespace",
    ),
]

MODEL_CASES = [
    pytest.param(
        _set("model.framwork", "sklearn"),
        "slipway:model.framwork: unknown key; allowed keys: name, framework, evaluationData, training",
        id="model-misspelt-key",
    ),
    pytest.param(
        _set("model.framework", "tensorflow"),
        "slipway:model.framework: got 'tensorflow'; allowed: 'sklearn', 'xgboost', 'lightgbm', "
        "'pytorch', 'onnx' or 'pyfunc'",
        id="unknown-framework",
    ),
    pytest.param(
        _set("serving.minReplicas", 0),
        "slipway:serving.minReplicas: got 0; allowed: 1 or more",
        id="zero-replicas",
    ),
    pytest.param(
        _set("serving.minReplicas", 5),
        "slipway:serving.minReplicas: got 5, more than maxReplicas 2; allowed: 1 to 2",
        id="replicas-min-over-max",
    ),
    pytest.param(
        _set("serving.memory", "2GB"),
        "slipway:serving.memory: got '2GB'; allowed: a Kubernetes quantity such as '500m', '2', "
        "'512Mi' or '4Gi'",
        id="bad-quantity",
    ),
    pytest.param(
        _set("rollout.steps[1].weight", 20),
        "slipway:rollout.steps[1].weight: got 20; allowed: more than the previous step's 25, "
        "weights only grow",
        id="shrinking-canary",
    ),
    pytest.param(
        _set("rollout.steps[0].weight", 100),
        "slipway:rollout.steps[0].weight: got 100; allowed: 99 or less",
        id="canary-at-full-weight",
    ),
    pytest.param(
        _set("rollout.steps[0].pause", "5 minutes"),
        "slipway:rollout.steps[0].pause: got '5 minutes'; allowed: a duration such as '30s', '5m' or '1h'",
        id="bad-duration",
    ),
    pytest.param(
        _set("rollout.strategy", "linear"),
        "slipway:rollout.strategy: got 'linear'; allowed: 'canary', 'blueGreen' or 'shadow'",
        id="unknown-strategy",
    ),
    pytest.param(
        _set("rollout.analysis", {"maxErrorRate": 5}),
        "slipway:rollout.analysis.maxErrorRate: got 5; allowed: 1.0 or less",
        id="error-rate-over-one",
    ),
    pytest.param(
        _set("gates.metrics[0]", {"metric": "roc_auc"}),
        "slipway:gates.metrics[0]: needs exactly one bound; allowed: 'min' (higher is better) or "
        "'max' (lower is better)",
        id="gate-without-bound",
    ),
    pytest.param(
        _set("gates.metrics[1].metric", "roc_auc"),
        "slipway:gates.metrics[1].metric: metric 'roc_auc' is gated twice; allowed: one gate per metric",
        id="gate-twice",
    ),
    pytest.param(
        _set("gates.metrics[0].metric", "ROC AUC"),
        "slipway:gates.metrics[0].metric: got 'ROC AUC'; allowed: a metric name in snake_case, "
        "such as 'roc_auc'",
        id="bad-metric-name",
    ),
    pytest.param(
        _drop("gates"),
        "slipway:gates: required key is missing",
        id="missing-gates",
    ),
    pytest.param(
        _set("drift.schedule", "hourly"),
        "slipway:drift.schedule: got 'hourly'; allowed: a five-field cron schedule such as '0 */6 * * *'",
        id="bad-cron",
    ),
    pytest.param(
        _set("drift.threshold", 0),
        "slipway:drift.threshold: got 0; allowed: 0.0 exclusive, more than that",
        id="zero-drift-threshold",
    ),
    pytest.param(
        _set("approval", {"required": "yes"}),
        "slipway:approval.required: expected true or false, got 'yes'",
        id="approval-not-bool",
    ),
    pytest.param(
        _set("platformStack", "platform dev"),
        "slipway:platformStack: got 'platform dev'; allowed: a stack name such as 'platform-prod' "
        "or 'org/slipway/platform-prod'",
        id="bad-platform-stack-name",
    ),
]


def _run_validate(
    scratch_project: Callable[..., Any], stacks: dict[str, Any], capsys: Any
) -> tuple[int, list[str]]:
    project = scratch_project(stacks)
    code = main(["--project", str(project), "validate", "broken"])
    err = capsys.readouterr().err
    return code, err.splitlines()


@pytest.mark.parametrize(("mutate", "expected"), PLATFORM_CASES)
def test_bad_platform_declaration(scratch_project, capsys, mutate, expected):
    config = copy.deepcopy(stack_config("platform-dev"))
    mutate(config)
    code, lines = _run_validate(scratch_project, {"broken": config}, capsys)
    assert code == 2
    assert lines == [f"{SOURCE}: {expected}"]


@pytest.mark.parametrize(("mutate", "expected"), MODEL_CASES)
def test_bad_model_declaration(scratch_project, capsys, mutate, expected):
    config = copy.deepcopy(stack_config("fraud-detector-dev"))
    mutate(config)
    stacks = {"broken": config, "platform-dev": stack_config("platform-dev")}
    code, lines = _run_validate(scratch_project, stacks, capsys)
    assert code == 2
    assert lines == [f"{SOURCE}: {expected}"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "config:\n  slipway:role: platform\n   bad: indent\n",
            "line 3, column 7: not valid YAML: mapping values are not allowed here",
            id="malformed-yaml",
        ),
        pytest.param(
            "configuration:\n  slipway:role: platform\n",
            "configuration: unknown top-level key; allowed: config, secretsprovider, encryptedkey, "
            "encryptionsalt, environment",
            id="unknown-top-level",
        ),
        pytest.param(
            "- just\n- a list\n",
            "(document): expected a mapping with a 'config' key",
            id="not-a-mapping",
        ),
    ],
)
def test_unreadable_stack_file(scratch_project, capsys, text, expected):
    code, lines = _run_validate(scratch_project, {"broken": text}, capsys)
    assert code == 2
    assert lines[0] == f"{SOURCE}: {expected}"


def test_unknown_stack_names_the_declared_ones(capsys):
    code = main(["--project", str(PROJECT_DIR), "validate", "platform-qa"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        "stacks/Pulumi.platform-qa.yaml: platform-qa: no such stack; declared stacks: "
        "fraud-detector-dev, fraud-detector-prod, platform-dev, platform-local, platform-prod"
    ]


def test_model_joining_a_platform_of_another_environment(scratch_project, capsys):
    config = stack_config("fraud-detector-prod")
    config["slipway:platformStack"] = "platform-dev"
    stacks = {"broken": config, "platform-dev": stack_config("platform-dev")}
    code, lines = _run_validate(scratch_project, stacks, capsys)
    assert code == 2
    assert lines == [
        f"{SOURCE}: slipway:platformStack: 'platform-dev' is a 'dev' platform but this model is "
        "'prod'; allowed: a platform stack of the same environment"
    ]


def test_model_of_an_undeclared_team(scratch_project, capsys):
    config = stack_config("fraud-detector-dev")
    config["slipway:team"] = "risk"
    stacks = {"broken": config, "platform-dev": stack_config("platform-dev")}
    code, lines = _run_validate(scratch_project, stacks, capsys)
    assert code == 2
    assert lines == [
        f"{SOURCE}: slipway:team: got 'risk', not a team of 'platform-dev'; allowed: payments, growth"
    ]


def test_plan_refuses_the_same_link_errors_from_the_platforms_outputs(scratch_project, capsys):
    # The program reads the platform through its StackReference, so the rule is enforced at
    # `pulumi up` too, not only by `slipway validate`.
    config = stack_config("fraud-detector-dev")
    config["slipway:team"] = "risk"
    project = scratch_project({"broken": config, "platform-dev": stack_config("platform-dev")})
    code = main(["--project", str(project), "plan", "broken"])
    assert code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{SOURCE}: slipway:team: got 'risk', not a team of 'platform-dev'; allowed: payments, growth"
    ]


def test_console_script_exits_2_without_traceback(scratch_project):
    config = stack_config("platform-dev")
    config["slipway:cluster"]["versoin"] = "1.33"
    project = scratch_project({"broken": config})
    result = subprocess.run(
        [sys.executable, "-m", "components", "validate", "broken"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"{SOURCE}: slipway:cluster.versoin: unknown key; allowed keys: name, version, endpoint, "
        "logRetentionDays, admins"
    ]


def test_at_least_thirty_bad_declarations_are_covered():
    assert len(PLATFORM_CASES) + len(MODEL_CASES) >= 30


def test_cluster_admins_are_refused_on_a_cluster_the_user_brings(scratch_project, capsys):
    config = copy.deepcopy(stack_config("platform-local"))
    config["slipway:cluster"]["admins"] = ["arn:aws:iam::111122223333:role/slipway-platform-admin"]
    code, lines = _run_validate(scratch_project, {"broken": config}, capsys)
    assert code == 2
    assert lines == [
        f"{SOURCE}: slipway:cluster.admins: only for cloud 'aws' (EKS access entries); remove it"
    ]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        pytest.param(
            "registryNodePort",
            80,
            "slipway:kubernetes.registryNodePort: got 80; allowed: 30000 or more",
            id="node-port-out-of-range",
        ),
        pytest.param(
            "apiServerCidrs",
            ["10.0.0.0/33"],
            "slipway:kubernetes.apiServerCidrs[0]: got '10.0.0.0/33'; allowed: an IPv4 network such as "
            "'10.0.0.0/8' or '0.0.0.0/0'",
            id="bad-api-server-cidr",
        ),
    ],
)
def test_bad_byo_cluster_settings(scratch_project, capsys, key, value, expected):
    config = copy.deepcopy(stack_config("platform-local"))
    config["slipway:kubernetes"][key] = value
    code, lines = _run_validate(scratch_project, {"broken": config}, capsys)
    assert code == 2
    assert lines == [f"{SOURCE}: {expected}"]


def test_a_model_asking_for_more_gpus_than_its_team_may_use(scratch_project, capsys):
    config = copy.deepcopy(stack_config("fraud-detector-prod"))
    config["slipway:serving"] = {**config["slipway:serving"], "gpus": 1, "maxReplicas": 3}
    stacks = {"broken": config, "platform-prod": stack_config("platform-prod")}
    code, lines = _run_validate(scratch_project, stacks, capsys)
    assert code == 2
    assert lines == [
        f"{SOURCE}: slipway:serving.gpus: got 1 per replica x maxReplicas 3 = 3 GPUs, "
        "more than team 'payments' may use in 'platform-prod'; allowed: 2 in total"
    ]
    config["slipway:serving"].update(minReplicas=2, maxReplicas=2)
    code, lines = _run_validate(scratch_project, stacks, capsys)
    assert code == 0, lines

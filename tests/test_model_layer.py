"""The model layer on recorded plans: every object, shaped by the declaration, nothing shared across teams."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from components.model.identity import ECR_LOGIN
from components.offline.engine import Plan, plan_stack
from components.offline.render import kubernetes_objects
from tests.conftest import planned, registrations, resources_of, stack_config

NAMESPACE = "payments-fraud-detector"
promtool = shutil.which("promtool")


def objects(plan: Plan) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in kubernetes_objects(plan)}


def test_the_prod_model_stack_has_every_object():
    found = objects(planned("fraud-detector-prod"))
    for kind, name in [
        ("Namespace", NAMESPACE),
        ("ResourceQuota", "fraud-detector-quota"),
        ("LimitRange", "fraud-detector-limits"),
        ("NetworkPolicy", "default-deny"),
        ("NetworkPolicy", "allow-model-clients"),
        ("ServiceAccount", "serving"),
        ("ServiceAccount", "pipeline"),
        ("Role", "pipeline"),
        ("RoleBinding", "pipeline"),
        ("Rollout", "fraud-detector"),
        ("Service", "fraud-detector-stable"),
        ("Service", "fraud-detector-canary"),
        ("AnalysisTemplate", "fraud-detector-health"),
        ("HorizontalPodAutoscaler", "fraud-detector"),
        ("PodDisruptionBudget", "fraud-detector"),
        ("ServiceMonitor", "fraud-detector"),
        ("PrometheusRule", "fraud-detector"),
        ("ConfigMap", "fraud-detector-dashboard"),
        ("WorkflowTemplate", "fraud-detector-deploy"),
        ("CronWorkflow", "fraud-detector-drift"),
    ]:
        assert (kind, name) in found, (kind, name)
    for obj in found.values():
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == NAMESPACE


def test_the_namespace_is_restricted_and_opts_into_the_platform_services():
    labels = objects(planned("fraud-detector-prod"))[("Namespace", NAMESPACE)]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for client in ("slipway.dev/mlflow-client", "slipway.dev/argo-client", "slipway.dev/artifact-client"):
        assert labels[client] == "true"


def test_the_rollout_follows_the_declared_canary_and_analysis():
    plan = planned("fraud-detector-prod")
    found = objects(plan)
    declaration = plan.declaration
    canary = found[("Rollout", "fraud-detector")]["spec"]["strategy"]["canary"]
    expected = []
    for step in declaration.rollout.steps:
        expected += [{"setWeight": step.weight}, {"pause": {"duration": step.pause}}]
    assert canary["steps"] == expected
    assert canary["analysis"]["templates"] == [{"templateName": "fraud-detector-health"}]
    metrics = {m["name"]: m for m in found[("AnalysisTemplate", "fraud-detector-health")]["spec"]["metrics"]}
    assert metrics["error-rate"]["successCondition"].endswith("result[0] <= 0.005")
    assert metrics["latency-p99"]["successCondition"].endswith("result[0] <= 150")
    assert metrics["error-rate"]["failureLimit"] == 1
    address = metrics["error-rate"]["provider"]["prometheus"]["address"]
    assert address == "http://slipway-prometheus.slipway-monitoring.svc:9090"


def test_serving_pods_are_restricted_sized_and_probed():
    found = objects(planned("fraud-detector-prod"))
    pod = found[("Rollout", "fraud-detector")]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["serviceAccountName"] == "serving"
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}
    assert {"startupProbe", "readinessProbe", "livenessProbe"} <= set(container)
    uri = next(e for e in container["env"] if e["name"] == "SLIPWAY_MODEL_URI")
    assert uri["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.annotations['slipway.dev/model-uri']"
    hpa = found[("HorizontalPodAutoscaler", "fraud-detector")]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 12)
    assert hpa["scaleTargetRef"]["kind"] == "Rollout"


def test_gpu_serving_requests_gpus_and_tolerates_the_taint(scratch_project):
    config = copy.deepcopy(stack_config("fraud-detector-prod"))
    config["slipway:serving"] = {**config["slipway:serving"], "gpus": 1, "minReplicas": 1, "maxReplicas": 2}
    project = scratch_project({"fraud-detector-prod": config, "platform-prod": stack_config("platform-prod")})
    found = objects(plan_stack(project, "fraud-detector-prod"))
    pod = found[("Rollout", "fraud-detector")]["spec"]["template"]["spec"]
    assert pod["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert found[("ResourceQuota", "fraud-detector-quota")]["spec"]["hard"]["requests.nvidia.com/gpu"] == "4"


def test_the_pipeline_may_change_this_rollout_only():
    role = objects(planned("fraud-detector-prod"))[("Role", "pipeline")]
    rollouts = [rule for rule in role["rules"] if "rollouts" in rule["resources"]]
    assert rollouts and all(rule["resourceNames"] == ["fraud-detector"] for rule in rollouts)
    assert all("*" not in rule["verbs"] for rule in role["rules"])


def test_the_pipeline_role_names_only_the_models_own_arns():
    plan = planned("fraud-detector-prod")
    (role,) = [r for r in resources_of(plan, "aws:iam/role:Role")]
    (statement,) = json.loads(role["assumeRolePolicy"])["Statement"]
    assert statement["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == NAMESPACE
    assert statement["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "pipeline"
    (policy,) = resources_of(plan, "aws:iam/rolePolicy:RolePolicy")
    for entry in json.loads(policy["policy"])["Statement"]:
        if entry["Resource"] == ["*"]:
            assert entry["Action"] == [ECR_LOGIN], "only ECR's login has no resource of its own"
    assert plan.outputs["artifactPrefixes"] == [f"argo/{NAMESPACE}/", "audit/payments/fraud-detector/"]


def test_the_drift_schedule_retrains_through_the_pipeline_when_it_finds_drift():
    cron = objects(planned("fraud-detector-prod"))[("CronWorkflow", "fraud-detector-drift")]["spec"]
    assert cron["schedules"] == ["0 * * * *"]
    templates = {t["name"]: t for t in cron["workflowSpec"]["templates"]}
    args = templates["check"]["container"]["args"]
    assert "--threshold=0.2" in args
    assert "--features=amount,merchant_category,hour_of_day,country" in args
    (_, [retrain]) = templates["drift"]["steps"]
    assert retrain["templateRef"] == {"name": "fraud-detector-deploy", "template": "pipeline"}
    assert retrain["when"] == "{{steps.check.outputs.parameters.verdict}} == drift"


@pytest.fixture
def two_teams(scratch_project):
    growth = copy.deepcopy(stack_config("fraud-detector-dev"))
    growth["slipway:team"] = "growth"
    growth["slipway:model"] = {**growth["slipway:model"], "name": "churn"}
    project = scratch_project(
        {
            "platform-dev": stack_config("platform-dev"),
            "fraud-detector-dev": stack_config("fraud-detector-dev"),
            "churn-dev": growth,
        }
    )
    return plan_stack(project, "fraud-detector-dev"), plan_stack(project, "churn-dev")


def test_two_teams_share_no_namespace_prefix_or_repository(two_teams):
    payments, growth = two_teams
    mine = {"namespace": "payments-fraud-detector", "repository": "slipway-dev/payments/fraud-detector"}
    theirs = {"namespace": "growth-churn", "repository": "slipway-dev/growth/churn"}
    for plan, other in ((payments, theirs), (growth, mine)):
        text = json.dumps(
            [
                r.inputs
                for r in plan.registrations
                if r.type.startswith(("kubernetes:", "aws:iam", "aws:ecr", "aws:eks"))
            ],
            default=str,
        )
        assert other["namespace"] not in text
        assert other["repository"] not in text
    assert growth.outputs["artifactPrefixes"] == ["argo/growth-churn/", "audit/growth/churn/"]
    for plan in (payments, growth):
        for policy in resources_of(plan, "kubernetes:networking.k8s.io/v1:NetworkPolicy"):
            for rule in policy["spec"].get("ingress", []) + policy["spec"].get("egress", []):
                peers = rule.get("from", []) + rule.get("to", [])
                named = [
                    p["namespaceSelector"]["matchLabels"].get("kubernetes.io/metadata.name")
                    for p in peers
                    if "namespaceSelector" in p
                ]
                assert not {"payments-fraud-detector", "growth-churn"} & set(named), policy["metadata"]


def _groups() -> list[dict[str, Any]]:
    return objects(planned("fraud-detector-dev"))[("PrometheusRule", "fraud-detector")]["spec"]["groups"]


def _rules_file(tmp_path) -> str:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": _groups()}))
    return str(path)


def _fired(name: str) -> list[dict[str, Any]]:
    (rule,) = [r for group in _groups() for r in group["rules"] if r["alert"] == name]
    return [{"exp_labels": rule["labels"], "exp_annotations": rule["annotations"]}]


@pytest.mark.skipif(promtool is None, reason="needs promtool (Debian package prometheus)")
def test_promtool_accepts_the_rules(tmp_path):
    checked = subprocess.run(
        [promtool, "check", "rules", _rules_file(tmp_path)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "4 rules found" in checked.stdout


@pytest.mark.skipif(promtool is None, reason="needs promtool (Debian package prometheus)")
def test_the_alerts_fire_and_stay_quiet_where_they_should(tmp_path):
    rules = _rules_file(tmp_path)
    labels = 'namespace="payments-fraud-detector",service="fraud-detector-metrics"'

    def series(name: str, values: str) -> dict[str, str]:
        return {"series": name, "values": values}

    requests = f"model_requests_total{{{labels},code=%s}}"
    bucket = f"model_request_latency_seconds_bucket{{{labels},le=%s}}"
    drift = 'slipway_drift_detected{model="fraud-detector"}'
    tests = {
        "rule_files": [rules],
        "evaluation_interval": "1m",
        "tests": [
            {
                # Healthy: 10 requests a second, none failing, all within 50 ms. Nothing fires.
                "interval": "1m",
                "input_series": [
                    series(requests % '"200"', "0+600x60"),
                    series(requests % '"500"', "0x60"),
                    series(bucket % '"0.05"', "0+600x60"),
                    series(bucket % '"0.5"', "0+600x60"),
                    series(bucket % '"+Inf"', "0+600x60"),
                    series(drift, "0x60"),
                ],
                "alert_rule_test": [
                    {"eval_time": "40m", "alertname": name, "exp_alerts": []}
                    for name in (
                        "ModelLatencySloBreached",
                        "ModelErrorRateHigh",
                        "ModelNoTraffic",
                        "ModelInputDrift",
                    )
                ],
            },
            {
                # Broken: a fifth of requests fail and all take 50-500 ms for 20 minutes, then traffic
                # stops altogether; drift is found after 10 minutes.
                "interval": "1m",
                "input_series": [
                    series(requests % '"200"', "0+480x20 9600x80"),
                    series(requests % '"500"', "0+120x20 2400x80"),
                    series(bucket % '"0.05"', "0x100"),
                    series(bucket % '"0.5"', "0+600x20 12000x80"),
                    series(bucket % '"+Inf"', "0+600x20 12000x80"),
                    series(drift, "0x10 1x90"),
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "18m",
                        "alertname": "ModelErrorRateHigh",
                        "exp_alerts": _fired("ModelErrorRateHigh"),
                    },
                    {
                        "eval_time": "18m",
                        "alertname": "ModelLatencySloBreached",
                        "exp_alerts": _fired("ModelLatencySloBreached"),
                    },
                    {"eval_time": "40m", "alertname": "ModelNoTraffic", "exp_alerts": []},
                    {
                        "eval_time": "70m",
                        "alertname": "ModelNoTraffic",
                        "exp_alerts": _fired("ModelNoTraffic"),
                    },
                    {"eval_time": "5m", "alertname": "ModelInputDrift", "exp_alerts": []},
                    {
                        "eval_time": "12m",
                        "alertname": "ModelInputDrift",
                        "exp_alerts": _fired("ModelInputDrift"),
                    },
                ],
            },
        ],
    }
    path = tmp_path / "rules.test.yaml"
    path.write_text(yaml.safe_dump(tests, sort_keys=False))
    tested = subprocess.run([promtool, "test", "rules", str(path)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_no_model_object_is_left_without_its_team_label():
    for obj in kubernetes_objects(planned("fraud-detector-prod")):
        if obj["kind"] not in ("Namespace", "NetworkPolicy"):
            assert obj["metadata"]["labels"]["slipway.dev/team"] == "payments", obj["kind"]
    assert registrations(planned("fraud-detector-prod"), "pulumi:providers:kubernetes")


def test_the_model_signs_in_to_mlflow_with_its_teams_account():
    plan = planned("fraud-detector-prod")
    secret = objects(plan)[("Secret", "mlflow-credentials")]
    assert (
        secret["stringData"] == {"username": "[secret]", "password": "[secret]"}
        or secret["stringData"]["username"] == "payments"
    )
    (registration,) = [r for r in registrations(plan, "kubernetes:core/v1:Secret")]
    from components.offline.values import reveal

    assert reveal(registration.inputs)["stringData"]["username"] == "payments"
    assert (
        reveal(registration.inputs)["stringData"]["password"]
        == reveal(planned("platform-prod").outputs)["mlflowTeamPasswords"]["payments"]
    )


def test_on_a_cluster_the_user_brings_workflows_reach_the_in_cluster_store(scratch_project):
    config = copy.deepcopy(stack_config("fraud-detector-dev"))
    config["slipway:platformStack"] = "platform-local"
    project = scratch_project(
        {"fraud-detector-local": config, "platform-local": stack_config("platform-local")}
    )
    plan = plan_stack(project, "fraud-detector-local")
    assert not [r.type for r in plan.registrations if r.type.startswith("aws:")]
    found = objects(plan)
    assert ("Secret", "artifact-store-argo") in found
    template = found[("WorkflowTemplate", "fraud-detector-deploy")]
    (script,) = [t["script"] for t in template["spec"]["templates"] if t["name"] == "evaluate"]
    env = {e["name"]: e for e in script["env"]}
    assert env["MLFLOW_S3_ENDPOINT_URL"]["value"] == "http://object-store.slipway-data.svc:8333"
    assert env["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"] == {
        "name": "artifact-store-argo",
        "key": "accesskey",
    }
    (provider,) = registrations(plan, "pulumi:providers:kubernetes")
    assert provider.inputs["context"] == "kind-slipway"

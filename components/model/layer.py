"""A model's objects in its platform's cluster: tenancy, identity, serving, observability, pipelines."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.containers import api_spec, object_meta
from components.cluster.namespace import SecureNamespace, SecureNamespaceArgs
from components.declaration.model import ModelDeclaration
from components.model import manifests
from components.model.schedule import drift_schedule
from components.model.tenancy import model_allows
from components.services import ARGO_CLIENT_LABEL, ARTIFACT_CLIENT_LABEL, MLFLOW_CLIENT_LABEL, model_namespace
from pipelines.workflow import OBJECT_STORE_SECRET, PlatformLink, manifest

PLATFORM_OUTPUTS = (
    "cloud",
    "kubernetesVersion",
    "mlflowUrl",
    "prometheusUrl",
    "runtimeImage",
    "apiServerCidrs",
)
# Only on clusters the user brings: the in-cluster object store.
OPTIONAL_OUTPUTS = ("objectStoreEndpoint",)


def _apply(name: str, document: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource:
    """Create one manifest with the typed resource of its kind, or as a custom resource."""
    kind, meta = (
        document["kind"],
        object_meta(**{k: document["metadata"].get(k) for k in ("name", "namespace", "labels")}),
    )
    if kind == "ResourceQuota":
        return k8s.core.v1.ResourceQuota(name, metadata=meta, spec=api_spec(document["spec"]), opts=opts)
    if kind == "LimitRange":
        return k8s.core.v1.LimitRange(name, metadata=meta, spec=api_spec(document["spec"]), opts=opts)
    if kind == "Service":
        return k8s.core.v1.Service(name, metadata=meta, spec=api_spec(document["spec"]), opts=opts)
    if kind == "ConfigMap":
        return k8s.core.v1.ConfigMap(name, metadata=meta, data=document["data"], opts=opts)
    if kind == "Role":
        return k8s.rbac.v1.Role(name, metadata=meta, rules=api_spec(document["rules"]), opts=opts)
    if kind == "RoleBinding":
        return k8s.rbac.v1.RoleBinding(
            name,
            metadata=meta,
            role_ref=api_spec(document["roleRef"]),
            subjects=api_spec(document["subjects"]),
            opts=opts,
        )
    if kind == "HorizontalPodAutoscaler":
        return k8s.autoscaling.v2.HorizontalPodAutoscaler(
            name, metadata=meta, spec=api_spec(document["spec"]), opts=opts
        )
    if kind == "PodDisruptionBudget":
        return k8s.policy.v1.PodDisruptionBudget(
            name, metadata=meta, spec=api_spec(document["spec"]), opts=opts
        )
    return k8s.apiextensions.CustomResource(
        name, api_version=document["apiVersion"], kind=kind, metadata=meta, spec=document["spec"], opts=opts
    )


def build_model_layer(
    stack: str,
    declaration: ModelDeclaration,
    outputs: dict[str, Any],
    provider: k8s.Provider,
    audit_uri: str,
    mlflow_password: pulumi.Input[str],
    object_store_keys: pulumi.Input[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """Declare the model's Kubernetes objects; return the stack outputs they add."""
    name, team = declaration.model.name, declaration.team
    namespace = model_namespace(team, name)
    on_cluster = pulumi.ResourceOptions(providers=[provider])
    view = manifests.PlatformView(
        runtime_image=str(outputs["runtimeImage"]),
        mlflow_url=str(outputs["mlflowUrl"]),
        prometheus_url=str(outputs["prometheusUrl"]),
    )
    home = SecureNamespace(
        namespace,
        SecureNamespaceArgs(
            namespace=namespace,
            kubernetes_version=str(outputs["kubernetesVersion"]),
            labels={
                "slipway.dev/team": team,
                "slipway.dev/model": name,
                MLFLOW_CLIENT_LABEL: "true",
                ARGO_CLIENT_LABEL: "true",
                ARTIFACT_CLIENT_LABEL: "true",
            },
            allows=model_allows(
                declaration.serving.port, str(outputs["cloud"]), list(outputs["apiServerCidrs"])
            ),
        ),
        opts=on_cluster,
    )
    inside = pulumi.ResourceOptions(providers=[provider], depends_on=[home])
    accounts = [
        k8s.core.v1.ServiceAccount(
            f"{name}-{account}",
            metadata=object_meta(account, namespace, manifests.labels(declaration)),
            automount_service_account_token=account == manifests.PIPELINE_ACCOUNT,
            opts=inside,
        )
        for account in (manifests.SERVING_ACCOUNT, manifests.PIPELINE_ACCOUNT)
    ]
    # The team's MLflow account, made by the platform: the pipeline and the servers sign in with it.
    credentials = k8s.core.v1.Secret(
        f"{name}-mlflow-credentials",
        metadata=object_meta(manifests.MLFLOW_CREDENTIALS, namespace, manifests.labels(declaration)),
        string_data={"username": team, "password": mlflow_password},
        opts=inside,
    )
    store_secrets: list[pulumi.Resource] = []
    if object_store_keys is not None:
        store_secrets.append(
            k8s.core.v1.Secret(
                f"{name}-object-store-credentials",
                metadata=object_meta(OBJECT_STORE_SECRET, namespace, manifests.labels(declaration)),
                string_data=object_store_keys,
                opts=inside,
            )
        )
    link = PlatformLink(
        view.runtime_image,
        view.mlflow_url,
        audit_uri,
        declaration.serving.port,
        outputs.get("objectStoreEndpoint"),
    )
    documents = [
        manifests.quota(declaration, namespace),
        manifests.limit_range(declaration, namespace),
        manifests.pipeline_role(declaration, namespace),
        manifests.role_binding(declaration, namespace),
        *(manifests.service(declaration, namespace, role) for role in ("stable", "canary", "metrics")),
        manifests.analysis_template(declaration, namespace, view),
        manifests.rollout(declaration, namespace, view),
        manifests.autoscaler(declaration, namespace),
        manifests.disruption_budget(declaration, namespace),
        manifests.service_monitor(declaration, namespace),
        manifests.prometheus_rule(declaration, namespace),
        manifests.dashboard(declaration, namespace),
        manifest(stack, declaration, link),
    ]
    schedule = drift_schedule(declaration, namespace, view)
    if schedule is not None:
        documents.append(schedule)
    after_accounts = pulumi.ResourceOptions(
        providers=[provider], depends_on=[home, credentials, *store_secrets, *accounts]
    )
    for document in documents:
        _apply(f"{name}-{document['kind'].lower()}-{document['metadata']['name']}", document, after_accounts)
    return {
        "namespace": namespace,
        "endpoint": f"http://{name}-stable.{namespace}.svc:{declaration.serving.port}",
        "workflowTemplate": f"{name}-deploy",
    }

"""The model's deployment pipeline as an Argo WorkflowTemplate, built with Hera from its stack."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hera.workflows import (
    DAG,
    Env,
    Parameter,
    Resources,
    SecretEnv,
    Suspend,
    WorkflowTemplate,
    models,
    script,
)

from components.declaration.model import ModelDeclaration
from components.services import model_namespace
from pipelines import steps
from pipelines.state import Settings

PIPELINE_SERVICE_ACCOUNT = "pipeline"
MLFLOW_CREDENTIALS_SECRET = "mlflow-credentials"
# The same Secret name Argo's artifact repository uses on clusters the user brings.
OBJECT_STORE_SECRET = "artifact-store-argo"
RUN_USER_ID = 1000
# Long enough for a slow canary (the declared steps and pauses) and its analysis.
ACTIVE_DEADLINE_SECONDS = 6 * 3600


class SubmitError(RuntimeError):
    """The Argo server could not be reached or refused the run; the message says which."""


@dataclass(frozen=True)
class PlatformLink:
    """What the pipeline needs from the platform stack."""

    runtime_image: str
    mlflow_url: str
    audit_uri: str
    """s3://bucket/audit on AWS, the in-cluster store's bucket elsewhere."""
    serving_port: int = 8080
    object_store_endpoint: str | None = None
    """The in-cluster S3 endpoint on clusters the user brings; None on AWS (S3 with Pod Identity)."""


def template_name(declaration: ModelDeclaration) -> str:
    """The WorkflowTemplate's name: '<model>-deploy'."""
    return f"{declaration.model.name}-deploy"


def _security() -> tuple[models.PodSecurityContext, models.SecurityContext]:
    pod = models.PodSecurityContext(
        run_as_non_root=True,
        run_as_user=RUN_USER_ID,
        run_as_group=RUN_USER_ID,
        fs_group=RUN_USER_ID,
        seccomp_profile=models.SeccompProfile(type="RuntimeDefault"),
    )
    container = models.SecurityContext(
        allow_privilege_escalation=False,
        read_only_root_filesystem=True,
        run_as_non_root=True,
        capabilities=models.Capabilities(drop=["ALL"]),
        seccomp_profile=models.SeccompProfile(type="RuntimeDefault"),
    )
    return pod, container


def build(stack: str, declaration: ModelDeclaration, platform: PlatformLink) -> WorkflowTemplate:
    """The WorkflowTemplate of one model stack."""
    settings = Settings.from_declaration(stack, declaration)
    name = declaration.model.name
    namespace = model_namespace(declaration.team, name)
    pod_security, container_security = _security()
    environment = [
        Env(name="MLFLOW_TRACKING_URI", value=platform.mlflow_url),
        Env(name="SLIPWAY_AUDIT_URI", value=platform.audit_uri),
        Env(name="SLIPWAY_PROJECT_DIR", value="/opt/slipway"),
        Env(name="SLIPWAY_NAMESPACE", value=namespace),
        Env(name="SLIPWAY_ROLLOUT", value=name),
        Env(name="SLIPWAY_ENDPOINT", value=f"http://{name}-stable.{namespace}.svc:{platform.serving_port}"),
        Env(name="MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", value="true"),
        Env(name="HOME", value="/tmp"),
        # The model's own MLflow account, made by its model stack; never the admin's.
        SecretEnv(
            name="MLFLOW_TRACKING_USERNAME", secret_name=MLFLOW_CREDENTIALS_SECRET, secret_key="username"
        ),
        SecretEnv(
            name="MLFLOW_TRACKING_PASSWORD", secret_name=MLFLOW_CREDENTIALS_SECRET, secret_key="password"
        ),
    ]
    if platform.object_store_endpoint:
        # The audit trail and evaluation data live in the in-cluster store, reached with its keys.
        environment += [
            Env(name="MLFLOW_S3_ENDPOINT_URL", value=platform.object_store_endpoint),
            Env(name="AWS_DEFAULT_REGION", value="us-east-1"),
            SecretEnv(name="AWS_ACCESS_KEY_ID", secret_name=OBJECT_STORE_SECRET, secret_key="accesskey"),
            SecretEnv(name="AWS_SECRET_ACCESS_KEY", secret_name=OBJECT_STORE_SECRET, secret_key="secretkey"),
        ]
    scratch = [models.VolumeMount(name="tmp", mount_path="/tmp")]

    def step(function: Any, template: str, cpu: str = "500m", memory: str = "1Gi") -> Any:
        return script(
            constructor="runner",
            name=template,
            image=platform.runtime_image,
            env=environment,
            security_context=container_security,
            resources=Resources(cpu_request=cpu, memory_request=memory, memory_limit=memory),
            volume_mounts=scratch,
        )(function)

    settings_json = settings.model_dump_json()
    with WorkflowTemplate(
        name=template_name(declaration),
        namespace=namespace,
        entrypoint="pipeline",
        service_account_name=PIPELINE_SERVICE_ACCOUNT,
        on_exit="record",
        active_deadline_seconds=ACTIVE_DEADLINE_SECONDS,
        security_context=pod_security,
        volumes=[models.Volume(name="tmp", empty_dir=models.EmptyDirVolumeSource(size_limit="2Gi"))],
        labels={
            "app.kubernetes.io/part-of": "slipway",
            "slipway.dev/model": name,
            "slipway.dev/team": declaration.team,
        },
        arguments=[
            Parameter(
                name="model-uri", value="", description="judge this MLflow model instead of training one"
            ),
            Parameter(
                name="training-arguments", value="{}", description="JSON object for the training entrypoint"
            ),
            Parameter(
                name="source-commit", value="unknown", description="the commit the model was built from"
            ),
        ],
    ) as template:
        start = step(steps.start, "start", "100m", "256Mi")
        train = step(steps.train, "train", "2", "4Gi")
        validate = step(steps.validate_data, "validate-data")
        evaluate = step(steps.evaluate, "evaluate", "1", "2Gi")
        compare = step(steps.compare, "compare", "1", "2Gi")
        register = step(steps.register, "register")
        deploy = step(steps.deploy, "deploy", "100m", "256Mi")
        analyse = step(steps.analyse, "analyse", "100m", "256Mi")
        promote = step(steps.promote, "promote", "100m", "256Mi")
        rollback = step(steps.rollback, "rollback", "100m", "256Mi")
        record = step(steps.record, "record", "100m", "256Mi")
        approval = Suspend(name="approval") if settings.approval_required else None

        with DAG(name="pipeline"):
            first = start(
                arguments={
                    "settings": settings_json,
                    "model_uri": "{{workflow.parameters.model-uri}}",
                    "training_arguments": "{{workflow.parameters.training-arguments}}",
                    "source_commit": "{{workflow.parameters.source-commit}}",
                    "run_id": "{{workflow.name}}",
                    "actor": "{{workflow.labels.workflows.argoproj.io/creator}}",
                }
            )
            chain = [first]
            for action, label in (
                (train, "train"),
                (validate, "validate-data"),
                (evaluate, "evaluate"),
                (compare, "compare"),
                (register, "register"),
            ):
                task = action(name=label, arguments={"state": chain[-1].get_parameter("state")})
                chain[-1] >> task
                chain.append(task)
            registered = chain[-1]
            deployed = deploy(name="deploy", arguments={"state": registered.get_parameter("state")})
            if approval is not None:
                approved = approval(name="approval")
                registered >> approved >> deployed
            else:
                registered >> deployed
            analysed = analyse(
                name="analyse",
                arguments={"state": deployed.get_parameter("state")},
                continue_on=models.ContinueOn(failed=True),
            )
            deployed >> analysed
            promoted = promote(
                name="promote",
                arguments={"state": analysed.get_parameter("state")},
                when=f"{{{{tasks.{analysed.name}.status}}}} == Succeeded",
            )
            rolled = rollback(
                name="rollback",
                arguments={"state": deployed.get_parameter("state")},
                when=f"{{{{tasks.{analysed.name}.status}}}} == Failed",
            )
            analysed >> [promoted, rolled]

        with DAG(name="record"):
            record(
                name="record",
                arguments={
                    "settings": settings_json,
                    "run_id": "{{workflow.name}}",
                    "status": "{{workflow.status}}",
                    "failures": "{{workflow.failures}}",
                    "actor": "{{workflow.labels.workflows.argoproj.io/creator}}",
                    "source_commit": "{{workflow.parameters.source-commit}}",
                    "created": "{{workflow.creationTimestamp}}",
                },
            )
    return template


def manifest(stack: str, declaration: ModelDeclaration, platform: PlatformLink) -> dict[str, Any]:
    """The WorkflowTemplate as the API server takes it."""
    built: dict[str, Any] = build(stack, declaration, platform).to_dict()
    return built


def platform_link(project_dir: Path, declaration: ModelDeclaration) -> PlatformLink:
    """The platform's outputs the pipeline needs, from the platform stack's offline plan."""
    from components.offline.engine import plan_stack
    from components.offline.values import reveal

    platform = plan_stack(project_dir, declaration.platform_stack.rsplit("/", 1)[-1])
    outputs = reveal(platform.outputs)
    bucket = outputs.get("artifactBucket") or outputs.get("artifactRepository", {}).get("s3", {}).get(
        "bucket"
    )
    return PlatformLink(
        runtime_image=str(outputs["runtimeImage"]),
        mlflow_url=str(outputs["mlflowUrl"]),
        audit_uri=f"s3://{bucket}/audit",
        serving_port=declaration.serving.port,
        object_store_endpoint=outputs.get("objectStoreEndpoint"),
    )


def render_to(stack: str, declaration: ModelDeclaration, out: Path, project_dir: Path | None = None) -> Path:
    """Write the stack's WorkflowTemplate as YAML under out; return its path."""
    import yaml

    link = platform_link(project_dir or Path.cwd(), declaration)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"workflowtemplate.{template_name(declaration)}.yaml"
    path.write_text(yaml.safe_dump(manifest(stack, declaration, link), sort_keys=True), encoding="utf-8")
    return path


def submit(
    stack: str,
    declaration: ModelDeclaration,
    server: str,
    token: str | None,
    model_uri: str | None,
    training_arguments: dict[str, str],
    verify_tls: bool = True,
) -> str:
    """Start a run of the model's WorkflowTemplate on an Argo server; return the workflow's name."""
    from hera.exceptions import HeraException
    from hera.workflows import Workflow, WorkflowsService

    namespace = model_namespace(declaration.team, declaration.model.name)
    service = WorkflowsService(
        host=server, token=f"Bearer {token}" if token else None, verify_ssl=verify_tls, namespace=namespace
    )
    workflow = Workflow(
        generate_name=f"{template_name(declaration)}-",
        namespace=namespace,
        workflow_template_ref=models.WorkflowTemplateRef(name=template_name(declaration)),
        arguments=[
            Parameter(name="model-uri", value=model_uri or ""),
            Parameter(name="training-arguments", value=json.dumps(training_arguments, sort_keys=True)),
        ],
        workflows_service=service,
    )
    try:
        created = workflow.create()
    except HeraException as error:
        raise SubmitError(f"the Argo server at {server} refused the run of {stack}: {error}") from error
    except OSError as error:
        raise SubmitError(f"cannot reach the Argo server at {server}: {error}") from error
    except (
        Exception
    ) as error:  # requests' and urllib3's connection errors are not OSError subclasses everywhere
        raise SubmitError(f"cannot submit {stack} to {server}: {type(error).__name__}: {error}") from error
    return str(created.metadata.name if created.metadata else "")

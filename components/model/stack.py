"""The model stack: joins its platform through a StackReference and builds the model's own resources."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws.registry import ContainerRegistry, ContainerRegistryArgs
from components.aws.workload_role import WorkloadRole, WorkloadRoleArgs
from components.declaration.errors import DeclarationError, Problem
from components.declaration.links import platform_link_findings
from components.declaration.model import ModelDeclaration
from components.model.identity import ModelArns, pipeline_statements, prefixes
from components.model.layer import OPTIONAL_OUTPUTS, build_model_layer
from components.model.layer import PLATFORM_OUTPUTS as MODEL_LAYER_OUTPUTS
from components.model.manifests import PIPELINE_ACCOUNT
from components.services import ServiceIdentity, model_namespace

# What a model stack reads from its platform; nothing else crosses the boundary.
PLATFORM_OUTPUTS = ("environment", "cloud", "teams")
AWS_PLATFORM_OUTPUTS = ("region", "registryNamespace", "registryKmsKeyArn", "artifactBucket")


def platform_stack_name(declared: str) -> str:
    """The fully qualified name of a platform stack given as 'stack' or 'org/project/stack'."""
    if "/" in declared:
        return declared
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{declared}"


def build_model(stack: str, declaration: ModelDeclaration, source: str) -> None:
    """Declare every resource of a model stack.

    The platform's outputs decide what is built (an ECR repository only on AWS), so the
    building happens after they are read, in Pulumi's asynchronous entrypoint: resources
    declared there are still known at preview time, unlike resources made inside `apply`.
    """
    platform = pulumi.StackReference(
        f"{stack}-platform", stack_name=platform_stack_name(declaration.platform_stack)
    )

    async def build() -> pulumi.Inputs:
        outputs = {name: (await platform.get_output_details(name)).value for name in PLATFORM_OUTPUTS}
        problems = [
            Problem(source, path, message) for path, message in platform_link_findings(declaration, outputs)
        ]
        if problems:
            raise DeclarationError(problems)
        exports: dict[str, pulumi.Input[object]] = {
            "model": declaration.model.name,
            "team": declaration.team,
            "environment": declaration.environment.value,
            "platformStack": declaration.platform_stack,
        }
        found = {name: (await platform.get_output_details(name)).value for name in MODEL_LAYER_OUTPUTS}
        for name in OPTIONAL_OUTPUTS:
            found[name] = (await platform.get_output_details(name)).value
        store_keys: pulumi.Output[dict[str, str]] | None = None
        if outputs["cloud"] == "aws":
            exports.update(_build_aws(stack, declaration, platform))
            provider = k8s.Provider(
                "cluster", kubeconfig=platform.get_output("kubeconfig"), delete_unreachable=False
            )
            bucket = (await platform.get_output_details("artifactBucket")).value
        else:
            context = (await platform.get_output_details("kubeContext")).value
            # Read as a secret; the keys only ever reach a Secret of the model's namespace.
            store_keys = platform.get_output("objectStoreCredentials").apply(
                lambda keys: {str(k): str(v) for k, v in dict(keys).items()}
            )
            provider = k8s.Provider("cluster", context=context, delete_unreachable=False)
            bucket = (
                ((await platform.get_output_details("artifactRepository")).value or {})
                .get("s3", {})
                .get("bucket")
            )
        exports.update(
            build_model_layer(
                stack,
                declaration,
                {**outputs, **found},
                provider,
                f"s3://{bucket}/audit",
                pulumi.Output.secret(
                    platform.get_output("mlflowTeamPasswords").apply(
                        lambda passwords: str(passwords[declaration.team])
                    )
                ),
                store_keys,
            )
        )
        return exports

    pulumi.run(build)


def _build_aws(
    stack: str, declaration: ModelDeclaration, platform: pulumi.StackReference
) -> dict[str, pulumi.Input[object]]:
    provider = aws.Provider(
        "aws",
        region=platform.require_output("region"),
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                "slipway:stack": stack,
                "slipway:environment": declaration.environment.value,
                "slipway:team": declaration.team,
                "slipway:model": declaration.model.name,
            }
        ),
    )
    name = declaration.model.name
    images = ContainerRegistry(
        f"{name}-images",
        ContainerRegistryArgs(
            repository_name=pulumi.Output.concat(
                platform.require_output("registryNamespace"), "/", declaration.team, "/", name
            ),
            kms_key_arn=platform.require_output("registryKmsKeyArn"),
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    namespace = model_namespace(declaration.team, name)
    region = platform.require_output("region")
    arns = pulumi.Output.all(
        region,
        platform.require_output("artifactBucketArn"),
        platform.require_output("artifactsKmsKeyArn"),
        images.repository_arn,
    ).apply(
        lambda values: ModelArns(
            region=str(values[0]),
            artifact_bucket=str(values[1]),
            artifacts_key=str(values[2]),
            repository=str(values[3]),
        )
    )
    pipeline_role = WorkloadRole(
        f"{name}-pipeline",
        WorkloadRoleArgs(
            cluster_name=platform.require_output("clusterName"),
            cluster_arn=platform.require_output("clusterArn"),
            identity=ServiceIdentity(namespace, PIPELINE_ACCOUNT),
            statements=arns.apply(
                lambda found: pipeline_statements(found, namespace, declaration.team, name)
            ),
            description=f"The deployment pipeline of {declaration.team}/{name}",
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    artifacts, audit = prefixes(namespace, declaration.team, name)
    return {
        "imageRepository": images.repository_url,
        "artifactBucket": platform.require_output("artifactBucket"),
        "artifactPrefixes": [f"{artifacts}/", f"{audit}/"],
        "pipelineRoleArn": pipeline_role.role_arn,
    }

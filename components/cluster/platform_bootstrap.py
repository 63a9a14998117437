"""The Job that makes each service's database role (and, on BYO clusters, the artifact bucket).

It runs `python -m pipelines.bootstrap` from the platform's runtime image inside the cluster,
where the database is reachable; Pulumi waits for it to finish before starting the services.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.containers import api_spec, object_meta, resources, scratch_volume, secret_env
from components.cluster.pod_security import restricted_container, restricted_pod
from components.options import child_options
from components.services import ServiceIdentity

USERS_DIR = "/var/run/slipway/db-users"
ADMIN_DIR = "/var/run/slipway/db-admin"
RUNTIME_USER_ID = 1000
# A bootstrap that cannot finish in ten minutes will not finish; Pulumi then reports the failure.
DEADLINE_SECONDS = 600


@dataclass(frozen=True)
class ServiceDatabase:
    """A service's login role, its generated password, and the databases it owns."""

    user: str
    password: pulumi.Input[str]
    databases: Sequence[str]


@dataclass(frozen=True)
class ObjectStoreAccess:
    """The in-cluster object store, for creating the artifact bucket on BYO clusters."""

    endpoint: str
    bucket: str
    access_key: pulumi.Input[str]
    secret_key: pulumi.Input[str]


@dataclass(frozen=True)
class PlatformBootstrapArgs:
    """Inputs of a PlatformBootstrap."""

    identity: ServiceIdentity
    image: pulumi.Input[str]
    database_host: pulumi.Input[str]
    database_port: pulumi.Input[int]
    ssl_mode: str
    services: Sequence[ServiceDatabase]
    admin_secret_arn: pulumi.Input[str] | None = None
    """AWS: the Secrets Manager secret RDS keeps the admin credentials in (read via Pod Identity)."""
    admin_password: pulumi.Input[str] | None = None
    """BYO: the in-cluster server's superuser password."""
    object_store: ObjectStoreAccess | None = None
    extra_env: Mapping[str, str] = field(default_factory=dict)


def users_spec(services: Sequence[ServiceDatabase]) -> str:
    """The SLIPWAY_DB_USERS value: 'user=db1,db2;user2=db3'."""
    return ";".join(f"{service.user}={','.join(service.databases)}" for service in services)


def _digest(*values: Any) -> str:
    # Changes when a password changes, so the Job (immutable) is replaced and runs again.
    return hashlib.sha256("\x1f".join(str(value) for value in values).encode()).hexdigest()[:16]


class PlatformBootstrap(pulumi.ComponentResource):
    """Service account, credential Secrets and the bootstrap Job."""

    job: k8s.batch.v1.Job

    def __init__(
        self, name: str, args: PlatformBootstrapArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        """Create the Secrets the Job reads and the Job itself."""
        # Checked before registering, so a refused component leaves nothing half-declared.
        if (args.admin_secret_arn is None) == (args.admin_password is None):
            raise ValueError("the bootstrap needs exactly one of an admin secret ARN or an admin password")
        super().__init__("slipway:cluster:PlatformBootstrap", name, None, opts)
        child = child_options(self, opts)
        namespace = args.identity.namespace
        account = k8s.core.v1.ServiceAccount(
            f"{name}-account",
            metadata=object_meta(args.identity.service_account, namespace),
            automount_service_account_token=False,
            opts=child,
        )
        users_secret = k8s.core.v1.Secret(
            f"{name}-db-users",
            metadata=object_meta("bootstrap-db-users", namespace),
            string_data={service.user: service.password for service in args.services},
            opts=child,
        )
        env: list[dict[str, Any]] = [
            {"name": "SLIPWAY_DB_HOST", "value": args.database_host},
            {"name": "SLIPWAY_DB_PORT", "value": pulumi.Output.from_input(args.database_port).apply(str)},
            {"name": "SLIPWAY_DB_SSLMODE", "value": args.ssl_mode},
            {"name": "SLIPWAY_DB_USERS", "value": users_spec(args.services)},
            {"name": "SLIPWAY_DB_PASSWORDS_DIR", "value": USERS_DIR},
            *({"name": key, "value": value} for key, value in sorted(args.extra_env.items())),
        ]
        volumes: list[dict[str, Any]] = [
            {"name": "db-users", "secret": {"secretName": "bootstrap-db-users"}},
            scratch_volume("tmp"),
        ]
        mounts: list[dict[str, Any]] = [
            {"name": "db-users", "mountPath": USERS_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ]
        secrets: list[pulumi.Resource] = [users_secret]
        if args.admin_secret_arn is not None:
            env.append({"name": "SLIPWAY_DB_ADMIN_SECRET_ARN", "value": args.admin_secret_arn})
        else:
            secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-db-admin",
                    metadata=object_meta("bootstrap-db-admin", namespace),
                    string_data={"password": pulumi.Output.from_input(args.admin_password).apply(str)},
                    opts=child,
                )
            )
            env += [
                {"name": "SLIPWAY_DB_ADMIN_USER", "value": "postgres"},
                {"name": "SLIPWAY_DB_ADMIN_PASSWORD_FILE", "value": f"{ADMIN_DIR}/password"},
            ]
            volumes.append({"name": "db-admin", "secret": {"secretName": "bootstrap-db-admin"}})
            mounts.append({"name": "db-admin", "mountPath": ADMIN_DIR, "readOnly": True})
        store = args.object_store
        if store is not None:
            secrets.append(
                k8s.core.v1.Secret(
                    f"{name}-object-store",
                    metadata=object_meta("bootstrap-object-store", namespace),
                    string_data={"accesskey": store.access_key, "secretkey": store.secret_key},
                    opts=child,
                )
            )
            env += [
                {"name": "SLIPWAY_S3_ENDPOINT", "value": f"http://{store.endpoint}"},
                {"name": "SLIPWAY_BUCKET", "value": store.bucket},
                {"name": "AWS_DEFAULT_REGION", "value": "us-east-1"},
                secret_env("AWS_ACCESS_KEY_ID", "bootstrap-object-store", "accesskey"),
                secret_env("AWS_SECRET_ACCESS_KEY", "bootstrap-object-store", "secretkey"),
            ]
        # A digest of random passwords reveals nothing of them; kept plain, the Job stays readable.
        fingerprint = pulumi.Output.unsecret(
            pulumi.Output.all(*[service.password for service in args.services]).apply(
                lambda passwords: _digest(*passwords)
            )
        )
        self.job = k8s.batch.v1.Job(
            f"{name}-job",
            metadata=object_meta(
                "platform-bootstrap", namespace, {"app.kubernetes.io/name": "platform-bootstrap"}
            ),
            spec=api_spec(
                {
                    "backoffLimit": 3,
                    "activeDeadlineSeconds": DEADLINE_SECONDS,
                    "template": {
                        "metadata": {
                            "labels": {"app.kubernetes.io/name": "platform-bootstrap"},
                            "annotations": {"slipway.dev/credentials-digest": fingerprint},
                        },
                        "spec": {
                            "serviceAccountName": args.identity.service_account,
                            "automountServiceAccountToken": False,
                            "restartPolicy": "Never",
                            "securityContext": restricted_pod(RUNTIME_USER_ID, fs_group=RUNTIME_USER_ID),
                            "containers": [
                                {
                                    "name": "bootstrap",
                                    "image": args.image,
                                    "command": ["python", "-m", "pipelines.bootstrap"],
                                    "env": env,
                                    "resources": resources("100m", "128Mi", "500m", "256Mi"),
                                    "securityContext": restricted_container(),
                                    "volumeMounts": mounts,
                                }
                            ],
                            "volumes": volumes,
                        },
                    },
                }
            ),
            opts=child_options(self, opts, [account, *secrets]),
        )
        self.register_outputs({})

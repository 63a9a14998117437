"""What the cloud layer would give, for clusters the user brings: PostgreSQL, an S3 store, a registry.

Each runs in the data namespace under Pod Security 'restricted', keeps its data on a persistent
volume, and accepts only the generated credentials held in Secrets.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.containers import (
    api_spec,
    exec_probe,
    http_probe,
    object_meta,
    resources,
    scratch_volume,
    secret_env,
    selector_labels,
)
from components.cluster.pod_security import restricted_container, restricted_pod
from components.options import child_options

POSTGRES_IMAGE = "postgres:17.6"
POSTGRES_PORT = 5432
POSTGRES_USER_ID = 999  # the postgres user of the official Debian-based image
OBJECT_STORE_IMAGE = "chrislusf/seaweedfs:4.36"
OBJECT_STORE_PORT = 8333
REGISTRY_IMAGE = "registry:3.0.0"
REGISTRY_PORT = 5000
# Only used to hash the registry password with bcrypt at start-up, in an init container.
HTPASSWD_IMAGE = "httpd:2.4.65-alpine"
SERVICE_USER_ID = 1000


@dataclass(frozen=True)
class Storage:
    """A persistent volume claim template's size and class."""

    size_gb: int
    storage_class: str | None = None

    def claim(self, name: str) -> dict[str, Any]:
        """The StatefulSet volume claim template."""
        spec: dict[str, Any] = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": f"{self.size_gb}Gi"}},
        }
        if self.storage_class:
            spec["storageClassName"] = self.storage_class
        return {"metadata": {"name": name}, "spec": spec}


def _service(
    name: str, namespace: str, port: int, opts: pulumi.ResourceOptions, node_port: int | None = None
) -> k8s.core.v1.Service:
    port_spec: dict[str, Any] = {"name": "main", "port": port, "targetPort": port, "protocol": "TCP"}
    if node_port is not None:
        port_spec["nodePort"] = node_port
    return k8s.core.v1.Service(
        name,
        metadata=object_meta(name, namespace, selector_labels(name)),
        spec=api_spec(
            {
                "type": "NodePort" if node_port is not None else "ClusterIP",
                "selector": selector_labels(name),
                "ports": [port_spec],
            }
        ),
        opts=opts,
    )


def _stateful_set(
    name: str,
    namespace: str,
    container: dict[str, Any],
    storage: Storage,
    opts: pulumi.ResourceOptions,
    volumes: list[dict[str, Any]],
    init_containers: list[dict[str, Any]] | None = None,
    user: int = SERVICE_USER_ID,
) -> k8s.apps.v1.StatefulSet:
    pod_spec: dict[str, Any] = {
        "automountServiceAccountToken": False,
        # fsGroup makes the volume writable by the non-root user.
        "securityContext": restricted_pod(user, fs_group=user),
        "containers": [container],
        "volumes": volumes,
    }
    if init_containers:
        pod_spec["initContainers"] = init_containers
    return k8s.apps.v1.StatefulSet(
        name,
        metadata=object_meta(name, namespace, selector_labels(name)),
        spec=api_spec(
            {
                "serviceName": name,
                "replicas": 1,
                "selector": {"matchLabels": selector_labels(name)},
                "template": {"metadata": {"labels": selector_labels(name)}, "spec": pod_spec},
                "volumeClaimTemplates": [storage.claim("data")],
            }
        ),
        opts=opts,
    )


class InClusterPostgres(pulumi.ComponentResource):
    """A single PostgreSQL server whose superuser password is generated and kept in a Secret."""

    host: str
    admin_secret: str

    def __init__(
        self,
        name: str,
        namespace: str,
        admin_password: pulumi.Input[str],
        storage: Storage,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the Secret, Service and StatefulSet."""
        super().__init__("slipway:cluster:InClusterPostgres", name, None, opts)
        child = child_options(self, opts)
        self.admin_secret = f"{name}-admin"
        secret = k8s.core.v1.Secret(
            self.admin_secret,
            metadata=object_meta(self.admin_secret, namespace),
            string_data={"password": admin_password},
            opts=child,
        )
        _service(name, namespace, POSTGRES_PORT, child)
        container = {
            "name": "postgres",
            "image": POSTGRES_IMAGE,
            "ports": [{"name": "postgres", "containerPort": POSTGRES_PORT}],
            "env": [
                {"name": "POSTGRES_USER", "value": "postgres"},
                {"name": "POSTGRES_PASSWORD_FILE", "value": "/var/run/secrets/postgres/password"},
                {"name": "PGDATA", "value": "/var/lib/postgresql/data/pgdata"},
            ],
            "readinessProbe": exec_probe(["pg_isready", "-U", "postgres", "-h", "127.0.0.1"]),
            "livenessProbe": exec_probe(["pg_isready", "-U", "postgres", "-h", "127.0.0.1"], period=30),
            "resources": resources("250m", "512Mi", "1", "1Gi"),
            "securityContext": restricted_container(),
            "volumeMounts": [
                {"name": "data", "mountPath": "/var/lib/postgresql/data"},
                {"name": "admin", "mountPath": "/var/run/secrets/postgres", "readOnly": True},
                {"name": "run", "mountPath": "/var/run/postgresql"},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        _stateful_set(
            name,
            namespace,
            container,
            storage,
            child_options(self, opts, [secret]),
            volumes=[
                {"name": "admin", "secret": {"secretName": self.admin_secret}},
                scratch_volume("run", "16Mi"),
                scratch_volume("tmp"),
            ],
            user=POSTGRES_USER_ID,
        )
        self.host = f"{name}.{namespace}.svc"
        self.register_outputs({"host": self.host})


def seaweed_identities(credentials: Mapping[str, tuple[str, str]], bucket: str) -> str:
    """The object store's S3 identities: 'admin' may manage buckets, the others use one bucket."""
    identities = []
    for name, (access_key, secret_key) in sorted(credentials.items()):
        actions = (
            ["Admin", "Read", "Write", "List"]
            if name == "admin"
            else [f"{action}:{bucket}" for action in ("Read", "Write", "List", "Tagging")]
        )
        identities.append(
            {
                "name": name,
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": actions,
            }
        )
    return json.dumps({"identities": identities}, sort_keys=True)


class InClusterObjectStore(pulumi.ComponentResource):
    """An S3-compatible store (SeaweedFS) whose identities are generated and kept in a Secret."""

    endpoint: str

    def __init__(
        self,
        name: str,
        namespace: str,
        identities_json: pulumi.Input[str],
        storage: Storage,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the Secret, Service and StatefulSet."""
        super().__init__("slipway:cluster:InClusterObjectStore", name, None, opts)
        child = child_options(self, opts)
        config_secret = f"{name}-identities"
        secret = k8s.core.v1.Secret(
            config_secret,
            metadata=object_meta(config_secret, namespace),
            string_data={"s3.json": identities_json},
            opts=child,
        )
        _service(name, namespace, OBJECT_STORE_PORT, child)
        container = {
            "name": "seaweedfs",
            "image": OBJECT_STORE_IMAGE,
            "args": [
                "server",
                "-dir=/data",
                "-ip.bind=0.0.0.0",
                "-s3",
                f"-s3.port={OBJECT_STORE_PORT}",
                "-s3.config=/etc/seaweedfs/s3.json",
                "-master.volumeSizeLimitMB=1024",
            ],
            "ports": [{"name": "s3", "containerPort": OBJECT_STORE_PORT}],
            "readinessProbe": http_probe("/healthz", OBJECT_STORE_PORT),
            "livenessProbe": http_probe("/healthz", OBJECT_STORE_PORT, period=30),
            "resources": resources("250m", "512Mi", "1", "2Gi"),
            "securityContext": restricted_container(),
            "volumeMounts": [
                {"name": "data", "mountPath": "/data"},
                {"name": "identities", "mountPath": "/etc/seaweedfs", "readOnly": True},
                {"name": "tmp", "mountPath": "/tmp"},
            ],
        }
        _stateful_set(
            name,
            namespace,
            container,
            storage,
            child_options(self, opts, [secret]),
            volumes=[{"name": "identities", "secret": {"secretName": config_secret}}, scratch_volume("tmp")],
        )
        self.endpoint = f"{name}.{namespace}.svc:{OBJECT_STORE_PORT}"
        self.register_outputs({"endpoint": self.endpoint})


class InClusterRegistry(pulumi.ComponentResource):
    """An image registry behind a generated password, reachable by nodes on a node port."""

    pull_address: str
    credentials_secret: str

    def __init__(
        self,
        name: str,
        namespace: str,
        password: pulumi.Input[str],
        node_port: int,
        storage: Storage,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """Create the credentials Secret, Service and StatefulSet."""
        super().__init__("slipway:cluster:InClusterRegistry", name, None, opts)
        child = child_options(self, opts)
        self.credentials_secret = f"{name}-credentials"
        secret = k8s.core.v1.Secret(
            self.credentials_secret,
            metadata=object_meta(self.credentials_secret, namespace),
            string_data={"username": "slipway", "password": password},
            opts=child,
        )
        _service(name, namespace, REGISTRY_PORT, child, node_port=node_port)
        password_env = secret_env("REGISTRY_PASSWORD", self.credentials_secret, "password")
        hasher = {
            "name": "htpasswd",
            "image": HTPASSWD_IMAGE,
            "command": ["sh", "-c", 'htpasswd -Bbn slipway "$REGISTRY_PASSWORD" > /auth/htpasswd'],
            "env": [password_env],
            "resources": resources("50m", "32Mi", "200m", "64Mi"),
            "securityContext": restricted_container(),
            "volumeMounts": [{"name": "auth", "mountPath": "/auth"}],
        }
        container = {
            "name": "registry",
            "image": REGISTRY_IMAGE,
            "env": [
                {"name": "REGISTRY_HTTP_ADDR", "value": f":{REGISTRY_PORT}"},
                {"name": "REGISTRY_AUTH", "value": "htpasswd"},
                {"name": "REGISTRY_AUTH_HTPASSWD_REALM", "value": "slipway"},
                {"name": "REGISTRY_AUTH_HTPASSWD_PATH", "value": "/auth/htpasswd"},
                {"name": "REGISTRY_STORAGE_DELETE_ENABLED", "value": "true"},
                {"name": "OTEL_TRACES_EXPORTER", "value": "none"},
            ],
            "ports": [{"name": "registry", "containerPort": REGISTRY_PORT}],
            # /v2/ answers 401 without credentials; an open port is what readiness means here.
            "readinessProbe": {"tcpSocket": {"port": REGISTRY_PORT}, "periodSeconds": 10},
            "resources": resources("100m", "128Mi", "1", "512Mi"),
            "securityContext": restricted_container(),
            "volumeMounts": [
                {"name": "data", "mountPath": "/var/lib/registry"},
                {"name": "auth", "mountPath": "/auth", "readOnly": True},
            ],
        }
        _stateful_set(
            name,
            namespace,
            container,
            storage,
            child_options(self, opts, [secret]),
            volumes=[scratch_volume("auth", "1Mi")],
            init_containers=[hasher],
        )
        self.pull_address = f"localhost:{node_port}"
        self.register_outputs({"pullAddress": self.pull_address})

"""Provider stand-ins for the offline plan: plausible, deterministic values for computed outputs."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
PLAN_NAMESPACE = uuid.UUID("5e1f0a7c-2b1d-4c39-9b6f-3f1c2d8e9a10")


class PlanError(Exception):
    """The program asked for something the offline plan cannot stand in for."""


def digest(*parts: str, length: int = 8) -> str:
    """A short, stable hex digest of the given parts."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def stable_uuid(*parts: str) -> str:
    """A UUID that is the same on every run for the same parts."""
    return str(uuid.uuid5(PLAN_NAMESPACE, "\x1f".join(parts)))


def auto_name(name: str, typ: str) -> str:
    """The physical name a provider would pick: the logical name and a suffix (stable here)."""
    return f"{name}-{digest(typ, name, length=7)}"


@dataclass
class StackReferenceTarget:
    """The planned outputs of a stack that another stack references."""

    outputs: dict[str, Any]
    secret_output_names: list[str] = field(default_factory=list)


State = dict[str, Any]


@dataclass
class PlanMocks(pulumi.runtime.Mocks):
    """Stand-ins for the AWS, Kubernetes and Pulumi providers during an offline plan."""

    region: str = "us-east-1"
    references: Mapping[str, StackReferenceTarget] = field(default_factory=dict)

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, State]:
        """Return a resource's id and output state: its inputs plus computed values."""
        typ, name = args.typ, args.name
        inputs = dict(args.inputs)
        if typ == "pulumi:pulumi:StackReference":
            return self._stack_reference(inputs)
        if typ.startswith("pulumi:providers:"):
            return stable_uuid(typ, name), inputs
        if typ.startswith("kubernetes:"):
            return _kubernetes_object(typ, name, inputs)
        handler = _AWS_HANDLERS.get(typ)
        if handler is not None:
            return handler(self, name, inputs)
        if typ.startswith("aws:"):
            return self._aws_generic(typ, name, inputs)
        if typ.startswith("random:"):
            return _random_value(typ, name, inputs)
        if not args.custom:
            return None, inputs
        raise PlanError(f"no offline stand-in for resource type {typ} ({name})")

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """Answer the data-source invokes and component calls the program makes."""
        handler = _CALL_HANDLERS.get(args.token)
        if handler is None:
            # An unanswered invoke would quietly return empty fields; fail loudly instead.
            raise PlanError(f"no offline stand-in for function {args.token}")
        # No check failures: the stock monitor iterates this list.
        return handler(self, args.args), []

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        """An ARN in this plan's account and region."""
        region = self.region if regional else ""
        return f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{resource}"

    def _stack_reference(self, inputs: State) -> tuple[str, State]:
        full_name = str(inputs.get("name", ""))
        stack = full_name.rsplit("/", 1)[-1]
        target = self.references.get(stack)
        if target is None:
            known = ", ".join(sorted(self.references)) or "none"
            raise PlanError(
                f"stack reference {full_name!r} is not a stack of this project; "
                f"the offline plan resolves: {known}"
            )
        state = {
            "name": full_name,
            "outputs": target.outputs,
            "secretOutputNames": list(target.secret_output_names),
        }
        return full_name, state

    def _aws_generic(self, typ: str, name: str, inputs: State) -> tuple[str, State]:
        service = typ.split(":")[1].split("/")[0]
        kind = typ.rsplit(":", 1)[-1].lower()
        physical = str(inputs.get("name") or auto_name(name, typ))
        state = {"arn": self.arn(service, f"{kind}/{physical}"), **inputs}
        state.setdefault("name", physical)
        return physical, state


def _kubernetes_object(typ: str, name: str, inputs: State) -> tuple[str, State]:
    metadata = dict(inputs.get("metadata") or {})
    metadata.setdefault("name", auto_name(name, typ))
    metadata.setdefault("uid", stable_uuid(typ, name))
    state = {**inputs, "metadata": metadata}
    namespace = metadata.get("namespace")
    object_id = f"{namespace}/{metadata['name']}" if namespace else str(metadata["name"])
    return object_id, state


def _random_value(typ: str, name: str, inputs: State) -> tuple[str, State]:
    length = int(inputs.get("length") or 24)
    value = (digest(typ, name, length=64) * 2)[:length]
    return stable_uuid(typ, name), {**inputs, "result": value}


def _bucket(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    bucket = str(inputs.get("bucket") or auto_name(name, "aws:s3/bucket:Bucket"))
    return bucket, {
        **inputs,
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{mocks.region}.amazonaws.com",
        "region": mocks.region,
    }


def _repository(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    repository = str(inputs.get("name") or auto_name(name, "aws:ecr/repository:Repository"))
    return repository, {
        **inputs,
        "name": repository,
        "arn": mocks.arn("ecr", f"repository/{repository}"),
        "registryId": ACCOUNT_ID,
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{mocks.region}.amazonaws.com/{repository}",
    }


def _kms_key(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    key_id = stable_uuid("aws:kms/key:Key", name)
    return key_id, {**inputs, "keyId": key_id, "arn": mocks.arn("kms", f"key/{key_id}")}


def _kms_alias(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    alias = str(inputs.get("name") or f"alias/{name}")
    target = str(inputs.get("targetKeyId", ""))
    return alias, {
        **inputs,
        "name": alias,
        "arn": mocks.arn("kms", alias),
        "targetKeyArn": mocks.arn("kms", f"key/{target}"),
    }


# The id prefixes EC2 gives each kind of resource, for ids that read like the real ones.
_EC2_ID_PREFIXES = {
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/subnet:Subnet": "subnet",
    "aws:ec2/internetGateway:InternetGateway": "igw",
    "aws:ec2/natGateway:NatGateway": "nat",
    "aws:ec2/eip:Eip": "eipalloc",
    "aws:ec2/routeTable:RouteTable": "rtb",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "rtbassoc",
    "aws:ec2/securityGroup:SecurityGroup": "sg",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": "sg",
    "aws:ec2/flowLog:FlowLog": "fl",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpce",
    "aws:ec2/launchTemplate:LaunchTemplate": "lt",
}


def _ec2(typ: str) -> Callable[[PlanMocks, str, State], tuple[str, State]]:
    prefix = _EC2_ID_PREFIXES[typ]
    kind = {"eipalloc": "elastic-ip", "lt": "launch-template"}.get(prefix, typ.split("/")[1].split(":")[0])

    def handler(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
        resource_id = f"{prefix}-{digest(typ, name, length=17)}"
        state = {
            **inputs,
            "id": resource_id,
            "arn": mocks.arn("ec2", f"{kind}/{resource_id}"),
            "ownerId": ACCOUNT_ID,
        }
        if prefix == "eipalloc":
            state["allocationId"] = resource_id
            state["publicIp"] = "198.51.100." + str(int(digest(typ, name, length=2), 16) % 250 + 1)
        if prefix == "lt":
            state["latestVersion"] = 1
            state["defaultVersion"] = 1
        return resource_id, state

    return handler


def _iam_role(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    role = str(inputs.get("name") or auto_name(name, "aws:iam/role:Role"))
    return role, {
        **inputs,
        "name": role,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/{role}",
        "uniqueId": "AROA" + digest("aws:iam/role:Role", name, length=17).upper(),
    }


def _log_group(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    group = str(inputs.get("name") or auto_name(name, "aws:cloudwatch/logGroup:LogGroup"))
    return group, {**inputs, "name": group, "arn": mocks.arn("logs", f"log-group:{group}")}


def _eks_cluster(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    typ = "aws:eks/cluster:Cluster"
    cluster = str(inputs.get("name") or auto_name(name, typ))
    endpoint_id = digest(typ, name, length=32).upper()
    vpc_config = {
        **dict(inputs.get("vpcConfig") or {}),
        "clusterSecurityGroupId": f"sg-{digest(typ, name, 'sg', length=17)}",
        "vpcId": f"vpc-{digest(typ, name, 'vpc', length=17)}",
    }
    return cluster, {
        **inputs,
        "name": cluster,
        "arn": mocks.arn("eks", f"cluster/{cluster}"),
        "endpoint": f"https://{endpoint_id}.gr7.{mocks.region}.eks.amazonaws.com",
        "certificateAuthority": {"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{mocks.region}.amazonaws.com/id/{endpoint_id}"}]}
        ],
        "vpcConfig": vpc_config,
        "status": "ACTIVE",
    }


def _rds_instance(mocks: PlanMocks, name: str, inputs: State) -> tuple[str, State]:
    typ = "aws:rds/instance:Instance"
    identifier = str(inputs.get("identifier") or auto_name(name, typ))
    address = f"{identifier}.{digest(typ, name, length=12)}.{mocks.region}.rds.amazonaws.com"
    port = int(inputs.get("port") or 5432)
    secret = mocks.arn(
        "secretsmanager", f"secret:rds!db-{stable_uuid(typ, name)}-{digest(typ, name, length=6)}"
    )
    return identifier, {
        **inputs,
        "identifier": identifier,
        "arn": mocks.arn("rds", f"db:{identifier}"),
        "address": address,
        "endpoint": f"{address}:{port}",
        "port": port,
        "masterUserSecrets": [
            {
                "secretArn": secret,
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId", ""),
                "secretStatus": "active",
            }
        ],
    }


def _caller_identity(mocks: PlanMocks, _: State) -> dict[str, Any]:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role/slipway-plan",
        "userId": "AROAPLANOFFLINE:slipway",
        "id": ACCOUNT_ID,
    }


def _partition(mocks: PlanMocks, _: State) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}


def _region(mocks: PlanMocks, _: State) -> dict[str, Any]:
    return {"name": mocks.region, "region": mocks.region, "id": mocks.region}


def _availability_zones(mocks: PlanMocks, _: State) -> dict[str, Any]:
    suffixes = "abcdef"
    return {
        "names": [f"{mocks.region}{suffix}" for suffix in suffixes],
        "zoneIds": [f"az{index + 1}" for index in range(len(suffixes))],
        "id": mocks.region,
    }


_AWS_HANDLERS: dict[str, Callable[[PlanMocks, str, State], tuple[str, State]]] = {
    "aws:s3/bucket:Bucket": _bucket,
    "aws:ecr/repository:Repository": _repository,
    "aws:kms/key:Key": _kms_key,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:iam/role:Role": _iam_role,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:rds/instance:Instance": _rds_instance,
    **{typ: _ec2(typ) for typ in _EC2_ID_PREFIXES},
}

_CALL_HANDLERS: dict[str, Callable[[PlanMocks, State], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": _caller_identity,
    "aws:index/getPartition:getPartition": _partition,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getAvailabilityZones:getAvailabilityZones": _availability_zones,
}

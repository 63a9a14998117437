"""Constrained value types shared by the declaration models, each with a human 'allowed' text."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError


class Strict(BaseModel):
    """Base of every declaration model: camelCase keys, unknown keys rejected, no type coercion."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=False,
        validate_by_alias=True,
        frozen=True,
        strict=True,
    )


def invalid(value: object, allowed: str) -> PydanticCustomError:
    """An error whose message carries the offending value and what is allowed instead."""
    # Braces in user input would be read as placeholders by pydantic's formatter.
    text = f"got {value!r}; allowed: {allowed}".replace("{", "(").replace("}", ")")
    return PydanticCustomError("invalid_value", text)


def _matching(pattern: str, allowed: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise invalid(value, allowed)
        return value

    return AfterValidator(check)


def _checked(predicate: Callable[[str], bool], allowed: str) -> AfterValidator:
    def check(value: str) -> str:
        if not predicate(value):
            raise invalid(value, allowed)
        return value

    return AfterValidator(check)


def _is_private_cidr(value: str) -> bool:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return False
    return network.is_private and 16 <= network.prefixlen <= 20


def _is_ipv4_network(value: str) -> bool:
    try:
        ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return False
    return True


def _is_public_cidr(value: str) -> bool:
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError:
        return False
    # An allow-list that admits the whole internet is no allow-list.
    return network.prefixlen >= 8


DnsLabel = Annotated[
    str,
    _matching(
        r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?",
        "a lowercase DNS label of at most 40 characters (a-z, 0-9, '-'), starting with a letter",
    ),
]
StackName = Annotated[
    str,
    _matching(
        r"([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+",
        "a stack name such as 'platform-prod' or 'org/slipway/platform-prod'",
    ),
]
AwsRegion = Annotated[
    str,
    _matching(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]", "an AWS region such as 'eu-west-1'"),
]
KubernetesVersion = Annotated[
    str,
    _matching(
        r"1\.(29|3[0-5])",
        'a quoted Kubernetes minor version from "1.29" to "1.35"',
    ),
]
InstanceType = Annotated[
    str,
    _matching(r"[a-z][a-z0-9-]*\.[a-z0-9]+", "an EC2 instance type such as 'm7i.large'"),
]
ChartVersion = Annotated[
    str,
    _matching(r"[0-9]+\.[0-9]+\.[0-9]+", "an exact chart version such as '0.45.27' (no ranges)"),
]
ContainerImage = Annotated[
    str,
    _matching(
        r"[a-z0-9.\-/:]+?(:(?!latest$)[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})",
        "an image pinned to a version tag or a digest, never ':latest'",
    ),
]
Quantity = Annotated[
    str,
    _matching(
        r"[0-9]+(\.[0-9]+)?(m|Ki|Mi|Gi|Ti)?",
        "a Kubernetes quantity such as '500m', '2', '512Mi' or '4Gi'",
    ),
]
Duration = Annotated[
    str,
    _matching(r"[1-9][0-9]*(s|m|h)", "a duration such as '30s', '5m' or '1h'"),
]
Cron = Annotated[
    str,
    _matching(
        r"(\S+\s+){4}\S+",
        "a five-field cron schedule such as '0 */6 * * *'",
    ),
]
PrivateCidr = Annotated[
    str,
    _checked(_is_private_cidr, "a private IPv4 network from /16 to /20, such as '10.40.0.0/16'"),
]
PublicCidr = Annotated[
    str,
    _checked(_is_public_cidr, "an IPv4 network of /8 or narrower, such as '203.0.113.0/24'"),
]
IamPrincipalArn = Annotated[
    str,
    _matching(
        r"arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/[A-Za-z0-9+=,.@_/-]{1,512}",
        "an IAM role or user ARN such as 'arn:aws:iam::111122223333:role/platform-admin'",
    ),
]
HttpsUrl = Annotated[
    str,
    _matching(
        r"https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[^\s]*)?",
        "an https:// URL such as 'https://login.example.com'",
    ),
]
PrivateOrPublicCidr = Annotated[
    str,
    _checked(_is_ipv4_network, "an IPv4 network such as '10.0.0.0/8' or '0.0.0.0/0'"),
]
LabelValue = Annotated[
    str,
    _matching(
        r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?",
        "a Kubernetes label value (at most 63 characters: letters, digits, '-', '_', '.')",
    ),
]
MetricName = Annotated[
    str,
    _matching(r"[a-z][a-z0-9_]{0,62}", "a metric name in snake_case, such as 'roc_auc'"),
]


class Environment(StrEnum):
    """The environment a stack belongs to."""

    DEV = "dev"
    STAGING = "staging"
    PROD = "prod"
    PREVIEW = "preview"

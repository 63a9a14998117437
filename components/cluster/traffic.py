"""Network policy allows as plain data: who may talk to which pods, on which ports."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


class Direction(StrEnum):
    """Which way an allow opens traffic."""

    INGRESS = "Ingress"
    EGRESS = "Egress"


@dataclass(frozen=True)
class Peer:
    """The other side of an allow: pods (by namespace and labels) or a network."""

    namespace: str | None = None
    """A namespace by name; with neither namespace nor namespace_labels, this namespace."""
    namespace_labels: Mapping[str, str] | None = None
    """Every namespace carrying these labels, such as the model namespaces."""
    pods: Mapping[str, str] | None = None
    cidr: str | None = None
    except_cidrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Allow:
    """One NetworkPolicy that opens one direction for some pods of a namespace."""

    name: str
    direction: Direction
    peers: tuple[Peer, ...]
    ports: tuple[int, ...]
    """TCP ports; empty only together with all_ports."""
    pods: Mapping[str, str] = field(default_factory=dict)
    """The pods of the namespace it applies to; all of them when empty."""
    reason: str = ""
    """Why the traffic is needed, kept as an annotation on the policy."""
    all_ports: bool = False
    """Every port, for scrapers whose targets listen where they like; needs a reason."""


def _peer(peer: Peer) -> dict[str, Any]:
    if peer.cidr is not None:
        block: dict[str, Any] = {"cidr": peer.cidr}
        if peer.except_cidrs:
            block["except"] = list(peer.except_cidrs)
        return {"ipBlock": block}
    rendered: dict[str, Any] = {}
    if peer.namespace is not None:
        rendered["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: peer.namespace}}
    elif peer.namespace_labels is not None:
        rendered["namespaceSelector"] = {"matchLabels": dict(peer.namespace_labels)}
    rendered["podSelector"] = {"matchLabels": dict(peer.pods)} if peer.pods else {}
    return rendered


def policy_spec(allow: Allow) -> dict[str, Any]:
    """The NetworkPolicy spec of an allow, as the API server takes it."""
    if not allow.ports and not allow.all_ports:
        raise ValueError(f"allow {allow.name!r} names no port")
    if allow.all_ports and not allow.reason:
        raise ValueError(f"allow {allow.name!r} opens every port without a reason")
    if not allow.peers:
        raise ValueError(f"allow {allow.name!r} names no peer")
    side = "from" if allow.direction is Direction.INGRESS else "to"
    rule: dict[str, Any] = {side: [_peer(peer) for peer in allow.peers]}
    if not allow.all_ports:
        rule["ports"] = [{"protocol": "TCP", "port": port} for port in allow.ports]
    return {
        "podSelector": {"matchLabels": dict(allow.pods)} if allow.pods else {},
        "policyTypes": [allow.direction.value],
        "ingress" if allow.direction is Direction.INGRESS else "egress": [rule],
    }

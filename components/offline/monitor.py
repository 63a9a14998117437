"""A mock resource monitor that records every registration, stack output and method call."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockCallArgs, MockMonitor, Mocks
from pulumi.runtime.proto import provider_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass(frozen=True)
class Registration:
    """One resource as the engine received it."""

    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    custom: bool
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    """The lifecycle options that differ from the defaults: ignoreChanges, protect and the like."""


@dataclass(frozen=True)
class MethodCall:
    """One component method call (a provider function invoked on a resource)."""

    token: str
    provider: str | None
    args: dict[str, Any]


def provider_urn(reference: str) -> str | None:
    """The URN part of a provider reference ('<urn>::<id>')."""
    return reference.rsplit("::", 1)[0] if reference else None


def lifecycle_options(request: Any) -> dict[str, Any]:
    """The options of a registration that change how the engine treats the resource over time."""
    options: dict[str, Any] = {}
    # additionalSecretOutputs is left out: the provider SDKs set it on their own for every instance.
    for option in ("ignoreChanges", "replaceOnChanges"):
        values = sorted(getattr(request, option, ()) or ())
        if values:
            options[option] = values
    for flag in ("protect", "deleteBeforeReplace", "retainOnDelete"):
        if getattr(request, flag, False):
            options[flag] = True
    return options


class RecordingMonitor(MockMonitor):
    """MockMonitor that keeps what the program declared, for the plan and its tests."""

    def __init__(self, mocks: Mocks) -> None:
        """Start with nothing recorded."""
        super().__init__(mocks)
        # The SDK calls the monitor from executor threads.
        self._lock = threading.Lock()
        self.registrations: list[Registration] = []
        self.calls: list[MethodCall] = []
        self.stack_urn: str | None = None
        self.stack_outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """A URN as the engine forms it: the parent chain's types, less the root stack's."""
        qualified = type_
        if parent:
            parent_type = parent.split("::")[2]
            if parent_type != STACK_TYPE:
                qualified = f"{parent_type}${type_}"
        return "::".join([f"urn:pulumi:{settings.get_stack()}", settings.get_project(), qualified, name])

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        """Record the registration, then let the mocks answer it."""
        response = super().RegisterResource(request)
        if request.type == STACK_TYPE:
            with self._lock:
                self.stack_urn = response.urn
            return response
        self._record(request, response.urn, bool(request.custom), request.object, lifecycle_options(request))
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        """Record a read (a StackReference is one), then let the mocks answer it."""
        response = super().ReadResource(request)
        self._record(request, response.urn, True, request.properties)
        return response

    def _record(
        self, request: Any, urn: str, custom: bool, properties: Any, options: dict[str, Any] | None = None
    ) -> None:
        _ensure_event_loop()
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent or None,
            provider=provider_urn(request.provider),
            custom=custom,
            dependencies=tuple(sorted(set(request.dependencies))),
            inputs=rpc.deserialize_properties(properties, keep_unknowns=True),
            options=options or {},
        )
        with self._lock:
            self.registrations.append(registration)

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        """Keep the root stack's outputs: they are what a StackReference to this stack reads."""
        if request.urn and request.urn == self.stack_urn:
            _ensure_event_loop()
            outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
            with self._lock:
                self.stack_outputs = outputs
        return super().RegisterResourceOutputs(request)

    def Call(self, request: Any) -> Any:  # noqa: N802 - the gRPC method name
        """Answer a component method call through the mocks, and record it."""
        _ensure_event_loop()
        args = rpc.deserialize_properties(request.args)
        with self._lock:
            self.calls.append(MethodCall(request.tok, provider_urn(request.provider), args))
        result, _ = self.mocks.call(MockCallArgs(request.tok, args, request.provider))
        returned = _sync_await(rpc.serialize_properties(result, {}))
        return provider_pb2.CallResponse(**{"return": returned})

"""Turning engine property values into plain JSON: secrets hidden, unknowns named."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc

SECRET = "[secret]"
UNKNOWN = "[unknown]"


def is_secret(value: Any) -> bool:
    """Whether a deserialized engine value is a wrapped secret."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def plain(value: Any) -> Any:
    """A JSON-ready copy of an engine value, with every secret value replaced by "[secret]".

    A secret mapping keeps its keys (a Secret's key names are not secret, and the manifest must
    keep its shape to be validated); every value under it is hidden.
    """
    if is_secret(value):
        return masked(value["value"])
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if value == rpc.UNKNOWN:
        return UNKNOWN
    if isinstance(value, float) and value.is_integer():
        # The engine carries every number as a float; 3.0 reads better, and diffs less, as 3.
        return int(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    urn = getattr(value, "urn", None)
    return f"[resource {urn}]" if urn is not None else repr(value)


def masked(value: Any) -> Any:
    """A value's shape with every leaf replaced by "[secret]"."""
    if is_secret(value):
        return masked(value["value"])
    if isinstance(value, dict):
        return {str(key): masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [masked(item) for item in value]
    return SECRET


def reveal(value: Any) -> Any:
    """A copy of an engine value with secrets unwrapped, for handing to another stack's plan."""
    if is_secret(value):
        return reveal(value["value"])
    if isinstance(value, dict):
        return {str(key): reveal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [reveal(item) for item in value]
    return value

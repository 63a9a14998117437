"""Read a stack file or the Pulumi runtime's config into a typed, checked declaration."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from components.declaration.consistency import model_findings, platform_findings
from components.declaration.errors import DeclarationError, Problem
from components.declaration.model import ModelDeclaration
from components.declaration.platform import PlatformDeclaration

NAMESPACE = "slipway"
STACKS_DIR = "stacks"
# Keys the Pulumi CLI itself writes into a stack file beside `config`.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")

Declaration = PlatformDeclaration | ModelDeclaration
ROLES: dict[str, type[PlatformDeclaration] | type[ModelDeclaration]] = {
    "platform": PlatformDeclaration,
    "model": ModelDeclaration,
}

_TYPE_NAMES = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def stack_file(project_dir: Path, stack: str) -> Path:
    """Where a stack's declaration lives."""
    return project_dir / STACKS_DIR / f"Pulumi.{stack}.yaml"


def declared_stacks(project_dir: Path) -> list[str]:
    """Every stack declared under stacks/, sorted."""
    prefix, suffix = "Pulumi.", ".yaml"
    return sorted(
        path.name[len(prefix) : -len(suffix)]
        for path in (project_dir / STACKS_DIR).glob(f"{prefix}*{suffix}")
    )


def load_stack(project_dir: Path, stack: str) -> Declaration:
    """Read, type and check one stack's declaration; raise DeclarationError naming every problem."""
    path = stack_file(project_dir, stack)
    source = f"{STACKS_DIR}/{path.name}"
    if not path.is_file():
        known = ", ".join(declared_stacks(project_dir)) or "none yet"
        raise DeclarationError([Problem(source, stack, f"no such stack; declared stacks: {known}")])
    return parse_declaration(read_stack_config(path, source), source)


def read_stack_config(path: Path, source: str) -> dict[str, Any]:
    """The `config` mapping of a stack file, as the Pulumi CLI would read it."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(document)"
        problem = getattr(error, "problem", None) or str(error)
        raise DeclarationError([Problem(source, where, f"not valid YAML: {problem}")]) from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise DeclarationError([Problem(source, "(document)", "expected a mapping with a 'config' key")])
    problems = [
        Problem(source, str(key), f"unknown top-level key; allowed: {', '.join(STACK_FILE_KEYS)}")
        for key in document
        if key not in STACK_FILE_KEYS
    ]
    config = document.get("config")
    if not isinstance(config, dict):
        problems.append(Problem(source, "config", "expected a mapping of 'slipway:<key>' entries"))
    if problems:
        raise DeclarationError(problems)
    assert isinstance(config, dict)
    return config


def decode_runtime_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """Undo the CLI's encoding of structured values, which reach a program as JSON strings."""
    decoded: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        decoded[key] = value
    return decoded


def parse_declaration(config: Mapping[str, Any], source: str) -> Declaration:
    """Type and check a stack's config mapping (keys 'slipway:<key>')."""
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = str(key).partition(":")
        if namespace != NAMESPACE or not name:
            problems.append(
                Problem(
                    source,
                    str(key),
                    f"only '{NAMESPACE}:<key>' entries are read; allowed: {', '.join(_allowed_top_level())}",
                )
            )
            continue
        raw[name] = value
    if problems:
        raise DeclarationError(problems)

    role = raw.get("role")
    model_cls = ROLES.get(role) if isinstance(role, str) else None
    if model_cls is None:
        what = "required key is missing" if role is None else f"got {role!r}"
        raise DeclarationError([Problem(source, f"{NAMESPACE}:role", f"{what}; allowed: {', '.join(ROLES)}")])

    try:
        # JSON mode: strict typing as YAML means it (no "3" for 3), while enums take their values.
        declaration = model_cls.model_validate_json(json.dumps(raw, default=str), strict=True)
    except ValidationError as error:
        raise DeclarationError(
            Problem(source, _key_path(detail["loc"]), _describe(detail, model_cls))
            for detail in error.errors(include_url=False)
        ) from None

    findings = (
        platform_findings(declaration)
        if isinstance(declaration, PlatformDeclaration)
        else model_findings(declaration)
    )
    problems = [Problem(source, f"{NAMESPACE}:{path}", message) for path, message in findings]
    if problems:
        raise DeclarationError(problems)
    return declaration


def _allowed_top_level() -> list[str]:
    keys: dict[str, None] = {}
    for model_cls in ROLES.values():
        for alias in _aliases(model_cls):
            keys[f"{NAMESPACE}:{alias}"] = None
    return list(keys)


def _key_path(loc: Iterable[int | str]) -> str:
    path = NAMESPACE + ":"
    for index, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            path += " (key)"
        else:
            path += part if index == 0 else f".{part}"
    return path


def _describe(detail: ErrorDetails, root: type[BaseModel]) -> str:
    kind = detail["type"]
    value = detail.get("input")
    ctx = detail.get("ctx") or {}
    if kind == "missing":
        return "required key is missing"
    if kind == "invalid_value":
        return detail["msg"]
    if kind == "extra_forbidden":
        owner = _model_at(root, list(detail["loc"])[:-1])
        allowed = ", ".join(_aliases(owner)) if owner else "none"
        return f"unknown key; allowed keys: {allowed}"
    if kind in ("enum", "literal_error"):
        return f"got {value!r}; allowed: {ctx.get('expected')}"
    if kind in _TYPE_NAMES:
        hint = " (quote it)" if kind == "string_type" and isinstance(value, int | float) else ""
        return f"expected {_TYPE_NAMES[kind]}, got {_shown(value)}{hint}"
    bounds = {
        "greater_than_equal": ("ge", "or more"),
        "greater_than": ("gt", "exclusive, more than that"),
        "less_than_equal": ("le", "or less"),
        "less_than": ("lt", "exclusive, less than that"),
    }
    if kind in bounds:
        key, words = bounds[kind]
        return f"got {value!r}; allowed: {ctx.get(key)} {words}"
    if kind in ("too_short", "too_long"):
        limit = ctx.get("min_length") if kind == "too_short" else ctx.get("max_length")
        side = "at least" if kind == "too_short" else "at most"
        return f"got {ctx.get('actual_length')} items; allowed: {side} {limit}"
    if kind in ("string_too_short", "string_too_long"):
        limit = ctx.get("min_length") if kind == "string_too_short" else ctx.get("max_length")
        side = "at least" if kind == "string_too_short" else "at most"
        return f"got {value!r}; allowed: {side} {limit} characters"
    if kind == "string_pattern_mismatch":
        return f"got {value!r}; allowed: text matching {ctx.get('pattern')}"
    return f"{detail['msg']}; got {_shown(value)}"


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _aliases(model_cls: type[BaseModel]) -> list[str]:
    return [field.alias or name for name, field in model_cls.model_fields.items()]


def _model_at(root: type[BaseModel], loc: list[int | str]) -> type[BaseModel] | None:
    """The declaration model class that sits at a key path, for listing its allowed keys."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int) or part == "[key]":
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        by_alias = {field.alias or name: field for name, field in current.model_fields.items()}
        field = by_alias.get(part)
        if field is None:
            return None
        current = field.annotation
    current = _unwrap(current)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional, Annotated and containers down to the model class they hold, if any."""
    for _ in range(8):
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            candidates = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            annotation = candidates[0]
        elif origin in (list, dict):
            annotation = typing.get_args(annotation)[-1]
        else:
            break
    return annotation

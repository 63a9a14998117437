"""The Pulumi program: read this stack's declaration and build a platform or a model stack."""

from __future__ import annotations

import pulumi
from pulumi.runtime import config as runtime_config

from components.declaration import (
    Declaration,
    PlatformDeclaration,
    decode_runtime_config,
    parse_declaration,
)
from components.declaration.loader import STACKS_DIR
from components.model.stack import build_model
from components.platform import build_platform


def declaration_from_runtime(stack: str) -> tuple[Declaration, str]:
    """This stack's declaration, from the config the Pulumi engine handed the program."""
    source = f"{STACKS_DIR}/Pulumi.{stack}.yaml"
    config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    return parse_declaration(decode_runtime_config(config), source), source


def main() -> None:
    """Build the current stack."""
    stack = pulumi.get_stack()
    declaration, source = declaration_from_runtime(stack)
    if isinstance(declaration, PlatformDeclaration):
        build_platform(stack, declaration)
    else:
        build_model(stack, declaration, source)

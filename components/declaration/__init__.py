"""The typed stack declaration: one file per stack, checked before anything is built."""

from components.declaration.errors import DeclarationError, Problem
from components.declaration.loader import (
    Declaration,
    declared_stacks,
    decode_runtime_config,
    load_stack,
    parse_declaration,
    stack_file,
)
from components.declaration.model import ModelDeclaration
from components.declaration.platform import PlatformDeclaration

__all__ = [
    "Declaration",
    "DeclarationError",
    "ModelDeclaration",
    "PlatformDeclaration",
    "Problem",
    "declared_stacks",
    "decode_runtime_config",
    "load_stack",
    "parse_declaration",
    "stack_file",
]

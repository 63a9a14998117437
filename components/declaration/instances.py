"""What an EC2 instance type's name tells: its family, its CPU architecture, whether it has NVIDIA GPUs."""

from __future__ import annotations

import re
from enum import StrEnum

# Instance families that carry NVIDIA GPUs and run the EKS NVIDIA AMIs. AMD (g4ad) and
# Inferentia/Trainium families need other device plugins, so they are not GPU pools here.
NVIDIA_GPU_FAMILIES = frozenset(
    {
        "g4dn",
        "g5",
        "g5g",
        "g6",
        "g6e",
        "g6f",
        "gr6",
        "p3",
        "p3dn",
        "p4d",
        "p4de",
        "p5",
        "p5e",
        "p5en",
    }
)

# Graviton families carry a 'g' after the generation digit: m7g, c7gn, r8gd, t4g, g5g.
_GRAVITON_FAMILY = re.compile(r"[a-z]+\d+[a-z-]*g[a-z-]*")


class Architecture(StrEnum):
    """The CPU architecture of an instance type."""

    X86_64 = "x86_64"
    ARM_64 = "arm64"


def instance_family(instance_type: str) -> str:
    """The family part of an EC2 instance type: 'g5' for 'g5.xlarge'."""
    return instance_type.split(".", 1)[0]


def architecture(instance_type: str) -> Architecture:
    """The CPU architecture of an instance type."""
    return (
        Architecture.ARM_64
        if _GRAVITON_FAMILY.fullmatch(instance_family(instance_type))
        else Architecture.X86_64
    )

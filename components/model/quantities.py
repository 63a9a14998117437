"""Kubernetes resource quantities as numbers, for adding up what a model's pods may ask for."""

from __future__ import annotations

import re

_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)(m|Ki|Mi|Gi|Ti)?")
_SCALE = {None: 1.0, "m": 0.001, "Ki": 1024.0, "Mi": 1024.0**2, "Gi": 1024.0**3, "Ti": 1024.0**4}


def parse(quantity: str) -> float:
    """A quantity ('500m', '2', '512Mi', '4Gi') as a plain number of cores or bytes."""
    match = _QUANTITY.fullmatch(quantity)
    if match is None:
        raise ValueError(f"not a quantity: {quantity!r}")
    return float(match.group(1)) * _SCALE[match.group(2)]


def cpu(cores: float) -> str:
    """Cores as millicores, the way quotas are usually written."""
    return f"{round(cores * 1000)}m"


def memory(size: float) -> str:
    """Bytes as mebibytes."""
    return f"{round(size / 1024**2)}Mi"

"""Resource options for a component's children."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi


def child_options(
    parent: pulumi.Resource,
    opts: pulumi.ResourceOptions | None,
    depends_on: Sequence[pulumi.Resource] = (),
    **extra: Any,
) -> pulumi.ResourceOptions:
    """Options that parent a child to its component and make it wait for what the component waits for.

    Pulumi does not pass a component's depends_on to its children, so without this a Deployment
    inside a component that waits for a Job would start before the Job has run.
    """
    inherited: list[Any] = []
    if opts is not None and opts.depends_on is not None:
        declared: Any = opts.depends_on
        inherited = list(declared) if isinstance(declared, Sequence) else [declared]
    return pulumi.ResourceOptions(parent=parent, depends_on=[*inherited, *depends_on], **extra)

"""The rules that join a model stack to its platform stack, checked on the platform's outputs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from components.declaration.loader import NAMESPACE
from components.declaration.model import ModelDeclaration
from components.declaration.platform import PlatformDeclaration


def link_outputs(platform: PlatformDeclaration) -> dict[str, Any]:
    """The platform stack outputs a model stack is judged against, as the platform exports them."""
    return {
        "environment": platform.environment.value,
        "teams": [team.model_dump(by_alias=True) for team in platform.teams],
    }


def platform_link_findings(
    model: ModelDeclaration, platform_outputs: Mapping[str, Any]
) -> Iterator[tuple[str, str]]:
    """Problems with the platform a model stack names, judged from that platform's outputs.

    The same rule serves `slipway validate` (outputs derived from the platform's declaration)
    and the Pulumi program (outputs read through the StackReference), so both say the same.
    """
    environment = platform_outputs.get("environment")
    if environment != model.environment.value:
        yield (
            f"{NAMESPACE}:platformStack",
            f"{model.platform_stack!r} is a {environment!r} platform but this model is "
            f"{model.environment.value!r}; allowed: a platform stack of the same environment",
        )
    teams = [team.get("name") for team in platform_outputs.get("teams") or []]
    if model.team not in teams:
        yield (
            f"{NAMESPACE}:team",
            f"got {model.team!r}, not a team of {model.platform_stack!r}; "
            f"allowed: {', '.join(teams) or 'none declared there'}",
        )
    team = next((t for t in platform_outputs.get("teams") or [] if t.get("name") == model.team), None)
    if team is not None and model.serving.gpus > 0:
        # At full scale every replica holds its GPUs; the team's quota must cover that.
        wanted = model.serving.gpus * model.serving.max_replicas
        allowed = int((team.get("quota") or {}).get("gpus", 0))
        if wanted > allowed:
            yield (
                f"{NAMESPACE}:serving.gpus",
                f"got {model.serving.gpus} per replica x maxReplicas {model.serving.max_replicas} = "
                f"{wanted} GPUs, more than team {model.team!r} may use in {model.platform_stack!r}; "
                f"allowed: {allowed} in total",
            )

"""`slipway new model`: a commented model stack file that validates as written."""

from __future__ import annotations

import re
from pathlib import Path

from components.declaration import DeclarationError, PlatformDeclaration, Problem, declared_stacks, load_stack
from components.declaration.fields import Environment
from components.declaration.links import link_outputs

_DNS_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,38}[a-z0-9])?")

TEMPLATE = """\
# {name} of team {team} in {environment}. Written by `slipway new model`: edit what is marked,
# then `slipway validate {stack}` and `slipway plan {stack}`. Every key is described in Pulumi.yaml.
config:
  slipway:role: model
  slipway:environment: {environment}
  # The platform stack this model joins; it must be of the same environment and declare the team.
  slipway:platformStack: {platform}
  slipway:team: {team}
  slipway:model:
    name: {name}
    framework: sklearn  # sklearn | xgboost | lightgbm | pytorch | onnx | pyfunc
    # The labelled data every candidate is judged on: a path, file:// or s3:// URI, CSV or Parquet.
    evaluationData:
      uri: s3://CHANGE-ME/{name}/evaluation.parquet
      labelColumn: label
    # To let the pipeline train, name your entrypoint (module:function returning a model URI):
    # training:
    #   entrypoint: your_package.train:train
  slipway:serving:
    minReplicas: {min_replicas}
    maxReplicas: {max_replicas}
    cpu: 500m
    memory: 1Gi
  slipway:rollout:
    strategy: canary  # canary | blueGreen | shadow
    steps:
      - {{weight: 10, pause: 5m}}
      - {{weight: 50, pause: 10m}}
    analysis:
      maxErrorRate: 0.01
      maxLatencyP99Ms: 250
  # The bounds a candidate must meet before it meets traffic: 'min' where higher is better,
  # 'max' where lower is better. The first gate's metric is compared with the champion.
  slipway:gates:
    metrics:
      - {{metric: roc_auc, min: 0.8}}
    latencyBudgetMs: 100
    championMargin: 0.0
  slipway:approval:
    required: {approval}
"""


def new_model(project_dir: Path, name: str, team: str, environment: str, platform: str) -> Path:
    """Write stacks/Pulumi.<name>-<environment>.yaml and return its path.

    Raises:
        DeclarationError: on a bad name, team or environment, an unknown platform, or a file
            that exists already (it is never overwritten).
    """
    stack = f"{name}-{environment}"
    source = f"stacks/Pulumi.{stack}.yaml"
    problems = []
    if not _DNS_LABEL.fullmatch(name):
        problems.append(
            Problem(source, "NAME", f"got {name!r}; allowed: a lowercase DNS label such as 'churn-model'")
        )
    if not _DNS_LABEL.fullmatch(team):
        problems.append(Problem(source, "--team", f"got {team!r}; allowed: a lowercase DNS label"))
    environments = [member.value for member in Environment]
    if environment not in environments:
        problems.append(Problem(source, "--env", f"got {environment!r}; allowed: {', '.join(environments)}"))
    path = project_dir / source
    if path.exists():
        problems.append(Problem(source, "file", "exists already; it is never overwritten"))
    if not problems and platform in declared_stacks(project_dir):
        found = load_stack(project_dir, platform)
        if not isinstance(found, PlatformDeclaration):
            problems.append(Problem(source, "--platform", f"{platform!r} is not a platform stack"))
        else:
            outputs = link_outputs(found)
            teams = [entry["name"] for entry in outputs["teams"]]
            if outputs["environment"] != environment:
                problems.append(
                    Problem(
                        source,
                        "--platform",
                        f"{platform!r} is a {outputs['environment']!r} platform, not {environment!r}",
                    )
                )
            if team not in teams:
                problems.append(
                    Problem(
                        source,
                        "--team",
                        f"got {team!r}, not a team of {platform!r}; allowed: {', '.join(teams)}",
                    )
                )
    elif not problems and "/" not in platform:
        known = ", ".join(declared_stacks(project_dir))
        problems.append(
            Problem(source, "--platform", f"got {platform!r}; allowed: {known} or org/project/stack")
        )
    if problems:
        raise DeclarationError(problems)
    production = environment == Environment.PROD.value
    path.write_text(
        TEMPLATE.format(
            name=name,
            team=team,
            environment=environment,
            platform=platform,
            stack=stack,
            min_replicas=3 if production else 1,
            max_replicas=6 if production else 2,
            approval="true" if production else "false",
        ),
        encoding="utf-8",
    )
    try:
        load_stack(project_dir, stack)
    except DeclarationError:
        path.unlink()
        raise
    return path

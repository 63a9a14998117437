"""The `slipway` command: thin argument parsing over the declaration and offline-plan libraries."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from components.declaration import (
    Declaration,
    DeclarationError,
    ModelDeclaration,
    PlatformDeclaration,
    Problem,
    declared_stacks,
    load_stack,
)
from components.declaration.links import link_outputs, platform_link_findings
from components.offline.mocks import PlanError
from pipelines.cli import InputError, add_commands

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `slipway` command and return its exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        project_dir = _project_dir(args.project)
        code: int = args.run(project_dir, args)
        return code
    except DeclarationError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except PlanError as error:
        print(f"slipway: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as error:
        print(f"slipway: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="slipway",
        description="Slipway: stack declarations, offline plans and model pipelines.",
    )
    parser.add_argument(
        "--project",
        type=Path,
        default=None,
        help="the project directory (default: the nearest one above the working directory "
        "holding a Pulumi.yaml)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser(
        "validate", help="check stack declarations", description="Check stack declarations."
    )
    validate.add_argument("stacks", nargs="*", metavar="STACK", help="stacks to check (default: all)")
    validate.set_defaults(run=_validate)

    plan = commands.add_parser(
        "plan",
        help="show what a stack would create, offline",
        description="Run the Pulumi program under the mock runtime and show what it would create.",
    )
    plan.add_argument("stacks", nargs="*", metavar="STACK", help="stacks to plan")
    plan.add_argument("--all", action="store_true", help="plan every declared stack")
    plan.add_argument(
        "--out",
        type=Path,
        help="write plan.json and manifests/ here (under DIR/<stack>/ when planning several)",
    )
    plan.set_defaults(run=_plan)

    new = commands.add_parser("new", help="write a new stack declaration")
    kinds = new.add_subparsers(dest="kind", required=True, metavar="KIND")
    model = kinds.add_parser(
        "model",
        help="a model stack: stacks/Pulumi.<NAME>-<ENV>.yaml",
        description="Write a commented model stack that validates as written; never overwrites a file.",
    )
    model.add_argument("name", metavar="NAME")
    model.add_argument("--team", required=True)
    model.add_argument("--env", required=True, dest="environment")
    model.add_argument("--platform", required=True, help="the platform stack to join")
    model.set_defaults(run=_new_model)

    add_commands(commands)
    return parser


def _project_dir(given: Path | None) -> Path:
    from components.offline.engine import find_project

    return find_project((given or Path.cwd()).resolve())


def _validate(project_dir: Path, args: argparse.Namespace) -> int:
    stacks = args.stacks or declared_stacks(project_dir)
    declarations: dict[str, Declaration] = {}
    problems: list[Problem] = []
    for stack in stacks:
        try:
            declarations[stack] = load_stack(project_dir, stack)
        except DeclarationError as error:
            problems.extend(error.problems)
    known = declared_stacks(project_dir)
    # Platforms read only to judge a model's link are cached here, not reported as validated.
    loaded = dict(declarations)
    for stack, declaration in declarations.items():
        if isinstance(declaration, ModelDeclaration):
            problems.extend(_link_problems(project_dir, known, loaded, stack, declaration))
    for stack, declaration in declarations.items():
        if not any(problem.source.endswith(f"Pulumi.{stack}.yaml") for problem in problems):
            print(f"ok  stacks/Pulumi.{stack}.yaml ({_describe(declaration)})")
    for problem in problems:
        print(problem, file=sys.stderr)
    return EXIT_BAD_INPUT if problems else EXIT_OK


def _link_problems(
    project_dir: Path,
    known: list[str],
    loaded: dict[str, Declaration],
    stack: str,
    declaration: ModelDeclaration,
) -> list[Problem]:
    source = f"stacks/Pulumi.{stack}.yaml"
    platform_stack = declaration.platform_stack
    if "/" in platform_stack:
        return []  # a stack of another project: only the program can read it
    if platform_stack not in known:
        return [
            Problem(source, "slipway:platformStack", f"got {platform_stack!r}; allowed: {', '.join(known)}")
        ]
    platform = loaded.get(platform_stack)
    if platform is None:
        try:
            platform = loaded[platform_stack] = load_stack(project_dir, platform_stack)
        except DeclarationError:
            return []  # reported against the platform's own file, or when it is validated
    if not isinstance(platform, PlatformDeclaration):
        return [Problem(source, "slipway:platformStack", f"{platform_stack!r} is not a platform stack")]
    findings = platform_link_findings(declaration, link_outputs(platform))
    return [Problem(source, path, message) for path, message in findings]


def _describe(declaration: Declaration) -> str:
    if isinstance(declaration, PlatformDeclaration):
        return f"platform, {declaration.environment.value}, {declaration.cloud.value}"
    return f"model {declaration.model.name}, {declaration.environment.value}, team {declaration.team}"


def _new_model(project_dir: Path, args: argparse.Namespace) -> int:
    from components.scaffold import new_model

    path = new_model(project_dir, args.name, args.team, args.environment, args.platform)
    print(f"wrote {path.relative_to(project_dir)}; edit the evaluation data, then `slipway validate`")
    return EXIT_OK


def _plan(project_dir: Path, args: argparse.Namespace) -> int:
    from components.offline.engine import plan_stack
    from components.offline.render import summary_line, tree_lines, type_counts, write_plan

    stacks = declared_stacks(project_dir) if args.all else args.stacks
    if not stacks:
        print("slipway plan: name at least one STACK, or --all", file=sys.stderr)
        return EXIT_BAD_INPUT
    for stack in stacks:
        plan = plan_stack(project_dir, stack)
        print("\n".join(tree_lines(plan)))
        print()
        for typ, count in type_counts(plan):
            print(f"  {count:4d}  {typ}")
        written = None
        if args.out is not None:
            out_dir = args.out / stack if len(stacks) > 1 else args.out
            plan_path, written = write_plan(plan, out_dir)
            print(f"wrote {plan_path} and {written} manifests in {out_dir / 'manifests'}")
        print(summary_line(plan, written))
        print()
    return EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())

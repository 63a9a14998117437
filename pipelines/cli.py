"""`slipway pipeline ...` and `slipway local down`: argument parsing over the pipeline library."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from components.declaration import ModelDeclaration, load_stack

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class InputError(Exception):
    """A pipeline command was asked something it cannot do; the message says what to ask instead."""


def add_commands(commands: Any) -> None:
    """Add the pipeline and local commands to the `slipway` parser."""
    pipeline = commands.add_parser("pipeline", help="render, submit or run a model's deployment pipeline")
    actions = pipeline.add_subparsers(dest="action", required=True, metavar="ACTION")

    run = actions.add_parser(
        "run", help="run the pipeline", description="Run every step of a model's pipeline."
    )
    run.add_argument("stack", metavar="STACK")
    run.add_argument(
        "--local", action="store_true", help="on this machine, with MLflow and model servers on loopback"
    )
    run.add_argument("--model-uri", help="judge this MLflow model instead of training one")
    run.add_argument(
        "--train-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an argument for the training entrypoint",
    )
    run.add_argument("--approve", action="store_true", help="give the approval the stack requires")
    run.set_defaults(run=_run)

    render = actions.add_parser("render", help="write the model's WorkflowTemplate as YAML")
    render.add_argument("stack", metavar="STACK")
    render.add_argument("--out", type=Path, required=True, metavar="DIR")
    render.set_defaults(run=_render)

    submit = actions.add_parser("submit", help="submit a run to an Argo server")
    submit.add_argument("stack", metavar="STACK")
    submit.add_argument(
        "--server", required=True, help="the Argo server's URL, such as https://localhost:2746"
    )
    submit.add_argument("--token", help="a bearer token (default: the ARGO_TOKEN environment variable)")
    submit.add_argument("--model-uri", help="judge this MLflow model instead of training one")
    submit.add_argument("--train-arg", action="append", default=[], metavar="KEY=VALUE")
    submit.add_argument("--insecure", action="store_true", help="accept the server's self-signed certificate")
    submit.set_defaults(run=_submit)

    drift = commands.add_parser("drift", help="check live inputs for drift against a reference")
    drift_actions = drift.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = drift_actions.add_parser(
        "check",
        help="compare live inputs with a reference profile",
        description="Exit 0 when nothing drifted, 3 when a feature drifted, 2 on bad input.",
    )
    check.add_argument(
        "--current", type=Path, required=True, help="a prediction log (.jsonl), CSV or Parquet file"
    )
    check.add_argument(
        "--reference",
        help="a profile (.json), a dataset to profile, or a registered model (models:/NAME@champion); "
        "default with --stack: the stack's champion",
    )
    check.add_argument("--stack", help="a model stack: its drift features, threshold and champion")
    check.add_argument("--threshold", type=float, help="the drift threshold (default: the stack's, or 0.1)")
    check.add_argument(
        "--features", help="comma-separated features (default: the stack's, or every reference column)"
    )
    check.add_argument("--html", type=Path, help="write an HTML report here")
    check.add_argument("--metrics-out", type=Path, help="write Prometheus metrics here")
    check.set_defaults(run=_drift_check)

    report = commands.add_parser(
        "report",
        help="deployment frequency, lead time, change failure rate and time to restore",
        description="DORA's four measures from the audit trail, per model and per team.",
    )
    report.add_argument(
        "--audit",
        help="the audit trail: a JSON-lines file or s3://bucket/prefix (default .slipway/audit.jsonl)",
    )
    report.add_argument("--team")
    report.add_argument("--model")
    report.add_argument("--since", help="only runs started on or after this date (YYYY-MM-DD, UTC)")
    report.add_argument("--html", type=Path, help="write the HTML report here")
    report.set_defaults(run=_report)

    local = commands.add_parser("local", help="the servers a local pipeline run leaves running")
    local_actions = local.add_subparsers(dest="action", required=True, metavar="ACTION")
    down = local_actions.add_parser("down", help="stop the local model servers and MLflow")
    down.set_defaults(run=_down)


def _model_stack(project_dir: Path, stack: str) -> ModelDeclaration:
    declaration = load_stack(project_dir, stack)
    if not isinstance(declaration, ModelDeclaration):
        raise InputError(f"{stack} is a platform stack; a pipeline belongs to a model stack")
    return declaration


def _bad(message: str) -> int:
    print(f"slipway: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def _arguments(pairs: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, separator, value = pair.partition("=")
        if not separator or not key:
            raise InputError(f"--train-arg {pair!r}: expected KEY=VALUE")
        parsed[key] = value
    return parsed


def _run(project_dir: Path, args: argparse.Namespace) -> int:
    from pipelines.local import LocalRun, run_local
    from pipelines.state import Settings
    from pipelines.tracking import TrackingError

    if not args.local:
        return _bad("here a run needs --local; to run on the cluster use `slipway pipeline submit`")
    declaration = _model_stack(project_dir, args.stack)
    request = LocalRun(
        project_dir=project_dir,
        settings=Settings.from_declaration(args.stack, declaration),
        model_uri=args.model_uri,
        training_arguments=_arguments(args.train_arg),
        approved=args.approve,
    )
    try:
        return run_local(request)
    except TrackingError as error:
        return _bad(str(error))


def _render(project_dir: Path, args: argparse.Namespace) -> int:
    from pipelines.workflow import render_to

    declaration = _model_stack(project_dir, args.stack)
    path = render_to(args.stack, declaration, args.out, project_dir)
    print(f"wrote {path}")
    return EXIT_OK


def _submit(project_dir: Path, args: argparse.Namespace) -> int:
    import os

    from pipelines.workflow import SubmitError, submit

    declaration = _model_stack(project_dir, args.stack)
    try:
        name = submit(
            args.stack,
            declaration,
            server=args.server,
            token=args.token or os.environ.get("ARGO_TOKEN"),
            model_uri=args.model_uri,
            training_arguments=_arguments(args.train_arg),
            verify_tls=not args.insecure,
        )
    except SubmitError as error:
        print(f"slipway: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"submitted {name}")
    return EXIT_OK


def _drift_check(project_dir: Path, args: argparse.Namespace) -> int:
    from pipelines import drift

    model, threshold, features, reference = "model", 0.1, None, args.reference
    if args.stack:
        declaration = _model_stack(project_dir, args.stack)
        model = declaration.model.name
        if declaration.drift is not None:
            threshold, features = declaration.drift.threshold, list(declaration.drift.features)
        reference = reference or f"models:/{model}@champion"
    if reference is None:
        raise InputError("give --reference, or --stack to use the stack's champion")
    if args.threshold is not None:
        threshold = args.threshold
    if args.features:
        features = [name.strip() for name in args.features.split(",") if name.strip()]
    current_source = str(args.current)
    if not current_source.startswith(("http://", "https://")) and not Path(current_source).exists():
        raise InputError(f"--current {args.current}: no such file")
    try:
        profile = drift.load_reference(reference)
        current = drift.load_current(current_source)
        report = drift.check(profile, current, threshold, features)
    except (ValueError, OSError, KeyError) as error:
        raise InputError(f"drift check: {error}") from error
    print(drift.terminal(report))
    if args.html:
        args.html.write_text(drift.html_report(report, current, f"Drift of {model}"), encoding="utf-8")
    if args.metrics_out:
        args.metrics_out.write_text(drift.prometheus_text(report, model), encoding="utf-8")
    return report.exit_code


def _report(project_dir: Path, args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    from pipelines import report

    since = None
    if args.since:
        try:
            since = datetime.strptime(args.since, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
        except ValueError as error:
            raise InputError(f"--since {args.since!r}: expected YYYY-MM-DD") from error
    source = args.audit or str(project_dir / ".slipway" / "audit.jsonl")
    if not source.startswith("s3://") and not Path(source).exists():
        raise InputError(f"no audit trail at {source}: run a pipeline first, or name one with --audit")
    events = report.load(source)
    groups = report.by_group(events, team=args.team, model=args.model, since=since)
    if not groups:
        raise InputError("no runs match the given team, model and date")
    print(report.terminal(groups))
    if args.html:
        args.html.write_text(report.html_report(groups, events), encoding="utf-8")
        print(f"wrote {args.html}")
    return EXIT_OK


def _down(project_dir: Path, args: argparse.Namespace) -> int:
    from pipelines.local import down

    return down(project_dir)

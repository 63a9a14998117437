"""Lead time and time to roll back of the example model, measured on one machine, step by step.

Runs in a scratch copy of the project: a first version through to champion (lead time: run start
to champion serving), then a version that breaks on live traffic (time to roll back: from the
start of its live analysis to the champion standing alone again). Each step's share comes from the
audit trail the runs write. Usage: python benchmarks/lead_time.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from pipelines.audit import AuditEvent, read_events  # noqa: E402

STACK = "fraud-detector-dev"


def _slipway(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components", "--project", str(project), *args],
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _scratch_project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="slipway-bench-"))
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy(PROJECT_DIR / name, root / name)
    shutil.copytree(PROJECT_DIR / "stacks", root / "stacks")
    shutil.copytree(
        PROJECT_DIR / "examples", root / "examples", ignore=shutil.ignore_patterns("data", "__pycache__")
    )
    return root


def _table(title: str, steps: list[AuditEvent], total: float) -> None:
    print(f"\n{title}: {total:.1f}s")
    for step in steps:
        took = step.finished_at - step.started_at
        print(f"  {step.step:<14} {took:6.2f}s  {took / total:6.1%}")


def main() -> int:
    """Run both measurements and print them."""
    project = _scratch_project()
    try:
        first = _slipway(project, "pipeline", "run", STACK, "--local")
        if first.returncode != 0:
            print(first.stdout + first.stderr, file=sys.stderr)
            return 1
        events = read_events(project / ".slipway" / "audit.jsonl")
        (run,) = [e for e in events if e.kind == "run"]
        steps = [e for e in events if e.kind == "step" and e.run_id == run.run_id]
        _table("lead time (run start to champion serving)", steps, run.finished_at - run.started_at)

        champion = first.stdout.strip().splitlines()[-1].split(" at ")[-1]
        row = {
            "amount": 80.0,
            "merchant_category": "grocery",
            "hour_of_day": 12,
            "country": "BR",
            "account_age_days": 900,
            "transactions_24h": 1,
            "distance_from_home_km": 3.0,
            "is_online": 0,
        }
        for _ in range(80):
            httpx.post(champion, json={"dataframe_records": [row]}, timeout=10).raise_for_status()
        bad = _slipway(project, "pipeline", "run", STACK, "--local", "--train-arg", "strict_categories=true")
        if bad.returncode != 1:
            print(
                "expected the strict version to be rolled back:\n" + bad.stdout + bad.stderr, file=sys.stderr
            )
            return 1
        events = read_events(project / ".slipway" / "audit.jsonl")
        run = [e for e in events if e.kind == "run"][-1]
        steps = [e for e in events if e.kind == "step" and e.run_id == run.run_id]
        live = [e for e in steps if e.step in ("analyse", "rollback")]
        _table(
            "time to roll back (live analysis start to champion alone)",
            live,
            live[-1].finished_at - live[0].started_at,
        )
        _table("the rolled-back run, whole", steps, run.finished_at - run.started_at)
        httpx.get(champion.replace("/invocations", "/ping"), timeout=5).raise_for_status()
        print("\nthe champion answered throughout and still answers")
        return 0
    finally:
        _slipway(project, "local", "down")
        shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

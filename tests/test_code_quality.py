"""Lint, format and type checks run as part of the suite, so the README's test command covers them."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import PROJECT_DIR


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_ruff_lint_passes():
    result = _run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_is_applied():
    result = _run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_passes_on_the_packages():
    result = _run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ci_runs_the_readme_test_command():
    ci_command = (PROJECT_DIR / ".ci" / "run").read_text().strip().splitlines()[-1]
    assert ci_command in (PROJECT_DIR / "README.md").read_text()

"""`python -m components` runs the slipway CLI."""

from components.cli import run

run()

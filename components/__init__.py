"""Slipway's Pulumi components, the stack declaration, the offline plan and the CLI."""

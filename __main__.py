"""Slipway's Pulumi program: `pulumi up -s <stack>` builds the stack its declaration describes."""

from components.program import main

main()

"""The offline plan: the real program under Pulumi's mock runtime, with every registration recorded."""

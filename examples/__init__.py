"""Example models that run through the platform's pipeline."""

"""The deployment pipeline's steps, templates and local runner; filled by the pipeline work."""

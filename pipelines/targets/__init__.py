"""Where a candidate meets traffic: a Kubernetes Rollout, or model servers on this machine."""

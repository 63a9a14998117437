"""The model server the Rollout pods and the local deploy target run."""

"""The Kubernetes target: patch the model's Rollout, follow it and its AnalysisRuns to the end."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pipelines.registry import version_uri
from pipelines.state import RunState
from pipelines.targets.base import AnalysisResult

GROUP, VERSION, ROLLOUTS, ANALYSIS_RUNS = "argoproj.io", "v1alpha1", "rollouts", "analysisruns"
MODEL_URI_ANNOTATION = "slipway.dev/model-uri"
MODEL_VERSION_ANNOTATION = "slipway.dev/model-version"
POLL_SECONDS = 10


class RolloutError(RuntimeError):
    """The Rollout cannot be reached or changed; the message names it."""


@dataclass
class KubernetesTarget:
    """One model's Rollout in one namespace."""

    namespace: str
    rollout: str
    endpoint: str
    """The stable Service's in-cluster URL."""
    timeout_seconds: int
    api: Any
    """kubernetes.client.CustomObjectsApi, or a stand-in with the same methods."""
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def _get(self) -> dict[str, Any]:
        try:
            found: dict[str, Any] = self.api.get_namespaced_custom_object(
                GROUP, VERSION, self.namespace, ROLLOUTS, self.rollout
            )
        except Exception as error:  # the client raises ApiException or urllib3 errors alike
            raise RolloutError(f"rollout {self.namespace}/{self.rollout}: {error}") from error
        return found

    def _set_model(self, name: str, version: str) -> None:
        patch = {
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {
                            MODEL_URI_ANNOTATION: version_uri(name, version),
                            MODEL_VERSION_ANNOTATION: version,
                        }
                    }
                }
            }
        }
        try:
            self.api.patch_namespaced_custom_object(
                GROUP, VERSION, self.namespace, ROLLOUTS, self.rollout, patch
            )
        except Exception as error:
            raise RolloutError(f"cannot patch rollout {self.namespace}/{self.rollout}: {error}") from error

    def deploy(self, state: RunState) -> str:
        """Point the Rollout's pod template at the candidate: Argo Rollouts starts the canary."""
        assert state.candidate_version is not None
        self._get()
        self._set_model(state.settings.model_name, state.candidate_version)
        return self.endpoint

    def analyse(self, state: RunState) -> AnalysisResult:
        """Follow the Rollout until it is healthy on the new pods, aborted, or out of time."""
        deadline = self.clock() + self.timeout_seconds
        while True:
            rollout = self._get()
            status = rollout.get("status") or {}
            phase = status.get("phase", "")
            current = status.get("currentPodHash")
            # Until the controller has seen the new template, the status still describes the old pods.
            generation = (rollout.get("metadata") or {}).get("generation")
            observed = status.get("observedGeneration")
            caught_up = generation is None or str(observed) == str(generation)
            runs = self._analysis_runs(current) if caught_up else {}
            failed = [name for name, run_phase in runs.items() if run_phase in ("Failed", "Error")]
            numbers = {"analysis_runs": float(len(runs)), "failed_runs": float(len(failed))}
            if caught_up and (status.get("abort") or phase == "Degraded" or failed):
                if failed:
                    reason = f"analysis runs failed: {', '.join(failed)}"
                elif status.get("abort"):
                    reason = status.get("message") or "the rollout was aborted"
                else:
                    reason = status.get("message") or "the rollout is degraded"
                return AnalysisResult(False, f"rollout {phase or 'aborted'}: {reason}", numbers)
            if caught_up and phase == "Healthy" and current and status.get("stableRS") == current:
                return AnalysisResult(True, "rollout healthy on the candidate", numbers)
            if self.clock() >= deadline:
                self._abort()
                return AnalysisResult(
                    False, f"rollout still {phase or 'progressing'} after {self.timeout_seconds}s", numbers
                )
            self.sleep(POLL_SECONDS)

    def _analysis_runs(self, pod_hash: str | None) -> dict[str, str]:
        if not pod_hash:
            return {}
        try:
            listed = self.api.list_namespaced_custom_object(
                GROUP,
                VERSION,
                self.namespace,
                ANALYSIS_RUNS,
                label_selector=f"rollouts-pod-template-hash={pod_hash}",
            )
        except Exception as error:
            raise RolloutError(f"cannot list analysis runs in {self.namespace}: {error}") from error
        return {
            item["metadata"]["name"]: (item.get("status") or {}).get("phase", "Pending")
            for item in listed.get("items", [])
        }

    def _abort(self) -> None:
        try:
            self.api.patch_namespaced_custom_object_status(
                GROUP, VERSION, self.namespace, ROLLOUTS, self.rollout, {"status": {"abort": True}}
            )
        except Exception as error:
            raise RolloutError(f"cannot abort rollout {self.namespace}/{self.rollout}: {error}") from error

    def promote(self, state: RunState) -> str:
        """Nothing to do in the cluster: a healthy Rollout already serves the candidate as stable."""
        return self.endpoint

    def rollback(self, state: RunState) -> None:
        """Abort the canary and point the template back at the champion, whose pods never stopped."""
        self._abort()
        if state.champion_version is not None:
            self._set_model(state.settings.model_name, state.champion_version)


def target_from_environment(environ: dict[str, str]) -> KubernetesTarget:
    """The target of the Rollout a workflow step runs next to, from its environment."""
    from kubernetes import client, config

    config.load_incluster_config()
    return KubernetesTarget(
        namespace=environ["SLIPWAY_NAMESPACE"],
        rollout=environ["SLIPWAY_ROLLOUT"],
        endpoint=environ["SLIPWAY_ENDPOINT"],
        timeout_seconds=int(environ.get("SLIPWAY_ROLLOUT_TIMEOUT", "3600")),
        api=client.CustomObjectsApi(),
    )

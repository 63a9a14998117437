"""The Kubernetes target against a scripted stand-in for the CustomObjectsApi: no cluster, no waiting."""

from __future__ import annotations

from typing import Any

import pytest

from components.declaration.model import RolloutStrategy
from pipelines.registry import version_uri
from pipelines.state import Analysis, Gate, RunState, Settings
from pipelines.targets.base import AnalysisResult
from pipelines.targets.kubernetes import (
    ANALYSIS_RUNS,
    GROUP,
    MODEL_URI_ANNOTATION,
    MODEL_VERSION_ANNOTATION,
    POLL_SECONDS,
    ROLLOUTS,
    VERSION,
    KubernetesTarget,
    RolloutError,
)

NAMESPACE, ROLLOUT, ENDPOINT = "models", "fraud-detector", "http://fraud-detector.models.svc:8080"
MODEL = "fraud-detector"


class FakeApi:
    """CustomObjectsApi's four methods: every call recorded, Rollouts and AnalysisRuns from a script."""

    def __init__(
        self,
        rollouts: list[dict[str, Any]] | None = None,
        analysis_runs: dict[str, list[dict[str, Any]]] | None = None,
        fail_on: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        self.rollouts = list(rollouts or [rollout("Healthy", "old", "old")])
        self.analysis_runs = analysis_runs or {}
        self.fail_on = fail_on
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def _record(self, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.calls.append((method, args, kwargs))
        if method in self.fail_on:
            raise ConnectionError(f"{method}: connection refused")

    def get_namespaced_custom_object(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._record("get", args, kwargs)
        # Each get answers the next document of the script; the last one repeats.
        return self.rollouts.pop(0) if len(self.rollouts) > 1 else self.rollouts[0]

    def patch_namespaced_custom_object(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._record("patch", args, kwargs)
        return {}

    def patch_namespaced_custom_object_status(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._record("patch_status", args, kwargs)
        return {}

    def list_namespaced_custom_object(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._record("list", args, kwargs)
        selector = kwargs.get("label_selector", "")
        pod_hash = selector.partition("=")[2]
        return {"items": self.analysis_runs.get(pod_hash, [])}

    def named(self, method: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for name, args, kwargs in self.calls if name == method]


class FakeClock:
    """Time that moves only when the target sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def rollout(phase: str, current: str | None, stable: str | None, **status: Any) -> dict[str, Any]:
    document: dict[str, Any] = {"phase": phase, **status}
    if current is not None:
        document["currentPodHash"] = current
    if stable is not None:
        document["stableRS"] = stable
    return {"metadata": {"name": ROLLOUT, "namespace": NAMESPACE}, "status": document}


def analysis_run(name: str, phase: str | None) -> dict[str, Any]:
    return {"metadata": {"name": name}, "status": {"phase": phase} if phase else {}}


def settings() -> Settings:
    return Settings(
        stack="fraud-detector-dev",
        model_name=MODEL,
        team="risk",
        environment="dev",
        evaluation_uri="s3://slipway-data/fraud/evaluation.parquet",
        label_column="is_fraud",
        gates=(Gate(metric="roc_auc", min=0.8),),
        latency_budget_ms=50,
        champion_margin=0.0,
        strategy=RolloutStrategy.CANARY,
        analysis=Analysis(max_error_rate=0.01, max_latency_p99_ms=250, interval_seconds=60, failure_limit=1),
        approval_required=False,
    )


@pytest.fixture
def state() -> RunState:
    return RunState(
        run_id="run-1",
        actor="ci",
        source_commit="0123abc",
        started_at=1000.0,
        settings=settings(),
        candidate_version="7",
        champion_version="6",
    )


def target(api: FakeApi, clock: FakeClock | None = None, timeout_seconds: int = 600) -> KubernetesTarget:
    clock = clock or FakeClock()
    return KubernetesTarget(
        namespace=NAMESPACE,
        rollout=ROLLOUT,
        endpoint=ENDPOINT,
        timeout_seconds=timeout_seconds,
        api=api,
        sleep=clock.sleep,
        clock=clock,
    )


def annotations_of(patch_call: tuple[tuple[Any, ...], dict[str, Any]]) -> dict[str, str]:
    args, kwargs = patch_call
    body = kwargs.get("body", args[5] if len(args) > 5 else None)
    assert body is not None
    assert set(body) == {"spec"}
    annotations: dict[str, str] = body["spec"]["template"]["metadata"]["annotations"]
    return annotations


# deploy


def test_deploy_points_the_pod_template_at_the_candidate(state):
    api = FakeApi()
    assert target(api).deploy(state) == ENDPOINT

    assert [name for name, _, _ in api.calls] == ["get", "patch"]
    (get_args, _), (patch_call,) = api.named("get")[0], api.named("patch")
    assert get_args == (GROUP, VERSION, NAMESPACE, ROLLOUTS, ROLLOUT)
    assert patch_call[0][:5] == (GROUP, VERSION, NAMESPACE, ROLLOUTS, ROLLOUT)
    assert annotations_of(patch_call) == {
        MODEL_URI_ANNOTATION: "models:/fraud-detector/7",
        MODEL_VERSION_ANNOTATION: "7",
    }
    assert MODEL_URI_ANNOTATION == "slipway.dev/model-uri"
    assert MODEL_VERSION_ANNOTATION == "slipway.dev/model-version"
    assert version_uri(MODEL, "7") == "models:/fraud-detector/7"


def test_deploy_of_a_missing_rollout_patches_nothing(state):
    api = FakeApi(fail_on={"get"})
    with pytest.raises(RolloutError, match=f"rollout {NAMESPACE}/{ROLLOUT}: .*connection refused"):
        target(api).deploy(state)
    assert api.named("patch") == []


def test_a_refused_patch_is_a_rollout_error(state):
    api = FakeApi(fail_on={"patch"})
    with pytest.raises(RolloutError, match=f"cannot patch rollout {NAMESPACE}/{ROLLOUT}"):
        target(api).deploy(state)


def test_promote_changes_nothing_in_the_cluster(state):
    api = FakeApi()
    assert target(api).promote(state) == ENDPOINT
    assert api.calls == []


# analyse


def test_analyse_passes_once_the_candidate_is_stable_and_healthy(state):
    api = FakeApi(
        rollouts=[
            rollout("Progressing", "new", "old"),
            rollout("Paused", "new", "old"),
            rollout("Progressing", "new", "old"),
            rollout("Healthy", "new", "new"),
        ],
        analysis_runs={"new": [analysis_run("fraud-detector-new-2", "Successful")]},
    )
    clock = FakeClock()

    result = target(api, clock).analyse(state)

    assert result == AnalysisResult(
        True, "rollout healthy on the candidate", {"analysis_runs": 1.0, "failed_runs": 0.0}
    )
    assert clock.sleeps == [POLL_SECONDS] * 3
    assert len(api.named("get")) == 4
    assert api.named("patch_status") == []
    assert api.named("patch") == []


def test_analyse_waits_while_healthy_on_the_old_pods(state):
    api = FakeApi(rollouts=[rollout("Healthy", "new", "old"), rollout("Healthy", "new", "new")])
    clock = FakeClock()
    assert target(api, clock).analyse(state).passed
    assert clock.sleeps == [POLL_SECONDS]


def test_analyse_fails_naming_the_phase_when_degraded(state):
    api = FakeApi(
        rollouts=[
            rollout("Progressing", "new", "old"),
            rollout("Degraded", "new", "old", message="ProgressDeadlineExceeded: pods never became ready"),
        ]
    )
    clock = FakeClock()

    result = target(api, clock).analyse(state)

    assert not result.passed
    assert result.detail == "rollout Degraded: ProgressDeadlineExceeded: pods never became ready"
    assert clock.sleeps == [POLL_SECONDS]
    assert api.named("patch_status") == []


def test_analyse_fails_when_degraded_without_a_message(state):
    result = target(FakeApi(rollouts=[rollout("Degraded", "new", "old")])).analyse(state)
    assert not result.passed
    assert result.detail.startswith("rollout Degraded")


def test_analyse_fails_when_the_rollout_was_aborted(state):
    api = FakeApi(
        rollouts=[
            rollout("Progressing", "new", "old"),
            rollout("Degraded", "new", "old", abort=True, message="RolloutAborted: metric error-rate failed"),
        ]
    )
    result = target(api).analyse(state)
    assert not result.passed
    assert "Degraded" in result.detail
    assert "RolloutAborted: metric error-rate failed" in result.detail


def test_analyse_fails_on_abort_whatever_the_phase(state):
    api = FakeApi(rollouts=[rollout("Progressing", "new", "old", abort=True)])
    clock = FakeClock()
    result = target(api, clock).analyse(state)
    assert not result.passed
    assert result.detail.startswith("rollout Progressing")
    assert clock.sleeps == []


def test_analyse_fails_when_an_analysis_run_of_the_candidate_failed(state):
    api = FakeApi(
        rollouts=[rollout("Paused", "new", "old")],
        analysis_runs={
            "new": [
                analysis_run("fraud-detector-new-1", "Successful"),
                analysis_run("fraud-detector-new-2", "Failed"),
                analysis_run("fraud-detector-new-3", None),
            ],
            "old": [analysis_run("fraud-detector-old-1", "Failed")],
        },
    )

    result = target(api).analyse(state)

    assert not result.passed
    assert "fraud-detector-new-2" in result.detail
    assert "fraud-detector-new-1" not in result.detail
    assert "fraud-detector-old-1" not in result.detail
    assert result.numbers == {"analysis_runs": 3.0, "failed_runs": 1.0}
    ((args, kwargs),) = api.named("list")
    assert args == (GROUP, VERSION, NAMESPACE, ANALYSIS_RUNS)
    assert kwargs == {"label_selector": "rollouts-pod-template-hash=new"}


def test_an_analysis_run_in_error_fails_too(state):
    api = FakeApi(
        rollouts=[rollout("Progressing", "new", "old")],
        analysis_runs={"new": [analysis_run("fraud-detector-new-1", "Error")]},
    )
    result = target(api).analyse(state)
    assert not result.passed
    assert "fraud-detector-new-1" in result.detail


def test_analysis_runs_are_not_listed_before_there_is_a_pod_hash(state):
    api = FakeApi(rollouts=[rollout("Progressing", None, "old"), rollout("Healthy", "new", "new")])
    assert target(api).analyse(state).passed
    ((_, kwargs),) = api.named("list")
    assert kwargs["label_selector"] == "rollouts-pod-template-hash=new"


def test_analyse_aborts_the_rollout_when_out_of_time(state):
    api = FakeApi(rollouts=[rollout("Progressing", "new", "old")])
    clock = FakeClock()

    result = target(api, clock, timeout_seconds=35).analyse(state)

    assert not result.passed
    assert "35s" in result.detail
    assert result.detail == "rollout still Progressing after 35s"
    # Polls at 0, 10, 20, 30 and 40 seconds; the last is past the deadline.
    assert clock.sleeps == [POLL_SECONDS] * 4
    assert len(api.named("get")) == 5
    ((args, kwargs),) = api.named("patch_status")
    assert args == (GROUP, VERSION, NAMESPACE, ROLLOUTS, ROLLOUT, {"status": {"abort": True}})
    assert kwargs == {}
    assert api.named("patch") == []


def test_a_refused_abort_is_a_rollout_error(state):
    api = FakeApi(rollouts=[rollout("Progressing", "new", "old")], fail_on={"patch_status"})
    with pytest.raises(RolloutError, match=f"cannot abort rollout {NAMESPACE}/{ROLLOUT}"):
        target(api, timeout_seconds=0).analyse(state)


def test_a_rollout_that_cannot_be_read_is_a_rollout_error(state):
    api = FakeApi(fail_on={"get"})
    with pytest.raises(RolloutError, match=f"rollout {NAMESPACE}/{ROLLOUT}") as raised:
        target(api).analyse(state)
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert api.named("patch_status") == []


def test_analysis_runs_that_cannot_be_listed_are_a_rollout_error(state):
    api = FakeApi(rollouts=[rollout("Progressing", "new", "old")], fail_on={"list"})
    with pytest.raises(RolloutError, match=f"cannot list analysis runs in {NAMESPACE}"):
        target(api).analyse(state)


# rollback


def test_rollback_aborts_and_points_back_at_the_champion(state):
    api = FakeApi()
    target(api).rollback(state)

    assert [name for name, _, _ in api.calls] == ["patch_status", "patch"]
    ((status_args, _),) = api.named("patch_status")
    assert status_args[-1] == {"status": {"abort": True}}
    (patch_call,) = api.named("patch")
    assert patch_call[0][:5] == (GROUP, VERSION, NAMESPACE, ROLLOUTS, ROLLOUT)
    assert annotations_of(patch_call) == {
        MODEL_URI_ANNOTATION: "models:/fraud-detector/6",
        MODEL_VERSION_ANNOTATION: "6",
    }


def test_rollback_without_a_champion_only_aborts(state):
    api = FakeApi()
    target(api).rollback(state.updated(champion_version=None))
    assert [name for name, _, _ in api.calls] == ["patch_status"]


def test_analysis_waits_until_the_controller_has_seen_the_new_template(state):
    # Polls before the controller picks up the patched template still describe the old pods.
    stale = rollout("Healthy", "old", "old", observedGeneration="4")
    stale["metadata"]["generation"] = 5
    fresh = rollout("Healthy", "new", "new", observedGeneration="5")
    fresh["metadata"]["generation"] = 5
    clock = FakeClock()
    result = target(FakeApi([stale, stale, fresh]), clock).analyse(state)
    assert result.passed
    assert len(clock.sleeps) == 2

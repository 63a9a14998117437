"""Every Kubernetes object in the plans validates: core kinds strictly against the declared
Kubernetes version, custom resources against their CRD schemas from ../shared/schemas."""

from __future__ import annotations

import pytest

from components.offline.render import kubernetes_objects
from tests.conftest import SHARED_DIR, STACKS, planned
from tests.schemas import errors

kubernetes_validate = pytest.importorskip("kubernetes_validate")
needs_shared = pytest.mark.skipif(not (SHARED_DIR / "schemas").is_dir(), reason="needs ../shared/schemas")


def _version(plan) -> str:
    cluster = getattr(plan.declaration, "cluster", None)
    return f"{cluster.version}.0" if cluster is not None else "1.33.0"


def _split(plan):
    core, custom = [], []
    for obj in kubernetes_objects(plan):
        try:
            kubernetes_validate.validate(obj, _version(plan), strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            custom.append(obj)
            continue
        core.append(obj)
    return core, custom


@pytest.mark.parametrize("stack", STACKS)
def test_core_objects_pass_strict_validation(stack):
    # _split raises ValidationError on the first misspelt key or wrong type of a core object.
    core, _ = _split(planned(stack))
    if stack.startswith("platform"):
        assert core, "a platform creates Kubernetes objects"


@needs_shared
@pytest.mark.shared
@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_match_their_crd_schemas(stack):
    _, custom = _split(planned(stack))
    for obj in custom:
        name = f"{obj['kind']} {obj['metadata'].get('namespace')}/{obj['metadata']['name']}"
        try:
            found = errors(obj)
        except KeyError:
            pytest.fail(f"no schema in ../shared/schemas for {obj['apiVersion']} {obj['kind']} ({name})")
        assert found == [], name


@needs_shared
@pytest.mark.shared
def test_the_platform_alert_rules_are_a_validated_custom_resource():
    _, custom = _split(planned("platform-prod"))
    assert [(o["kind"], o["metadata"]["name"]) for o in custom] == [("PrometheusRule", "slipway-platform")]


def test_strict_validation_catches_a_misspelt_key():
    obj = next(o for o in kubernetes_objects(planned("platform-local")) if o["kind"] == "NetworkPolicy")
    broken = {**obj, "spec": {**obj["spec"], "podSelecter": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)


@needs_shared
@pytest.mark.shared
def test_crd_validation_catches_a_misspelt_key_and_a_wrong_type():
    _, custom = _split(planned("platform-prod"))
    rule = custom[0]
    group = rule["spec"]["groups"][0]
    misspelt = {**rule, "spec": {"groups": [{**group, "rulez": []}]}}
    assert any("rulez" in error for error in errors(misspelt))
    wrong_type = {**rule, "spec": {"groups": [{**group, "rules": [{**group["rules"][0], "for": 5}]}]}}
    assert errors(wrong_type)

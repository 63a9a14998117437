"""Every Kubernetes object in the plans validates, strictly, against the declared Kubernetes version."""

from __future__ import annotations

import pytest

from components.offline.render import kubernetes_objects
from tests.conftest import STACKS, planned

kubernetes_validate = pytest.importorskip("kubernetes_validate")


@pytest.mark.parametrize("stack", STACKS)
def test_core_objects_pass_strict_validation(stack):
    plan = planned(stack)
    version = plan.declaration.cluster.version if hasattr(plan.declaration, "cluster") else "1.33"
    for obj in kubernetes_objects(plan):
        # Raises ValidationError on a misspelt key or a wrong type; returns quietly otherwise.
        kubernetes_validate.validate(obj, f"{version}.0", strict=True)


def test_strict_validation_catches_a_misspelt_key():
    plan = planned("platform-local")
    obj = next(o for o in kubernetes_objects(plan) if o["kind"] == "NetworkPolicy")
    broken = {**obj, "spec": {**obj["spec"], "podSelecter": {}}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, "1.33.0", strict=True)

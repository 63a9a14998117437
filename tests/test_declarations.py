"""The example stacks, the environment defaults and Pulumi.yaml's list of config keys."""

from __future__ import annotations

import yaml

from components.cli import main
from components.declaration import ModelDeclaration, PlatformDeclaration, load_stack
from components.declaration.loader import ROLES
from components.declaration.platform import NatGateways
from tests.conftest import PROJECT_DIR, STACKS


def test_every_example_stack_validates(capsys):
    assert main(["--project", str(PROJECT_DIR), "validate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == len(STACKS)
    assert all(line.startswith("ok  stacks/Pulumi.") for line in out)


def test_example_roles_and_environments():
    expected = {
        "platform-dev": (PlatformDeclaration, "dev"),
        "platform-prod": (PlatformDeclaration, "prod"),
        "platform-local": (PlatformDeclaration, "dev"),
        "fraud-detector-dev": (ModelDeclaration, "dev"),
        "fraud-detector-prod": (ModelDeclaration, "prod"),
    }
    for stack, (kind, environment) in expected.items():
        declaration = load_stack(PROJECT_DIR, stack)
        assert isinstance(declaration, kind)
        assert declaration.environment.value == environment


def test_prod_is_highly_available_and_dev_is_cheaper():
    prod = load_stack(PROJECT_DIR, "platform-prod")
    dev = load_stack(PROJECT_DIR, "platform-dev")
    assert isinstance(prod, PlatformDeclaration) and isinstance(dev, PlatformDeclaration)
    assert prod.nat_gateways is NatGateways.PER_AZ and prod.database_multi_az
    assert dev.nat_gateways is NatGateways.SINGLE and not dev.database_multi_az
    assert prod.aws is not None and prod.aws.availability_zones == 3
    assert any(pool.kind.value == "gpu" and pool.min_size == 0 for pool in prod.node_pools)


def test_secure_defaults_need_no_declaration():
    prod = load_stack(PROJECT_DIR, "platform-prod")
    assert isinstance(prod, PlatformDeclaration)
    assert prod.cluster.endpoint.public is False
    assert prod.argo.server_auth_mode.value == "client"
    assert prod.mlflow.database.backup_retention_days >= 7


def test_pulumi_yaml_declares_exactly_the_declaration_keys():
    project = yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())
    assert project["name"] == "slipway"
    assert project["stackConfigDir"] == "stacks"
    declared = set(project["config"])
    keys = {
        field.alias
        for model in ROLES.values()
        for field in model.model_fields.values()
        if field.alias is not None
    }
    assert declared == keys
    for key, entry in project["config"].items():
        assert entry["description"], key
        # Pulumi's project schema has no object type: scalars and lists carry one, mappings none.
        assert entry.get("type") in (None, "string", "array"), key

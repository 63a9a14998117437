"""Team accounts in MLflow: created once, their passwords set again on later runs, failures named."""

from __future__ import annotations

import json

import httpx
import pytest

from pipelines.mlflow_accounts import AccountError, ensure_accounts, read_passwords


class FakeMlflow:
    """MLflow's user endpoints, as its basic-auth app answers them."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        name = body["username"]
        if request.url.path.endswith("/users/create"):
            if name in self.users:
                return httpx.Response(
                    400,
                    json={
                        "error_code": "RESOURCE_ALREADY_EXISTS",
                        "message": f"User '{name}' already exists",
                    },
                )
            self.users[name] = body["password"]
            return httpx.Response(200, json={"user": {"username": name}})
        if request.url.path.endswith("/users/update-password"):
            self.users[name] = body["password"]
            return httpx.Response(200, json={})
        return httpx.Response(404)


def test_accounts_are_created_then_updated():
    mlflow = FakeMlflow()
    client = httpx.Client(base_url="http://mlflow", transport=httpx.MockTransport(mlflow))
    assert ensure_accounts(client, {"payments": "p1", "growth": "g1"}) == [
        "created account growth",
        "created account payments",
    ]
    assert ensure_accounts(client, {"payments": "p2"}) == ["updated account payments"]
    assert mlflow.users == {"payments": "p2", "growth": "g1"}


def test_a_refusal_names_the_team_and_the_answer():
    client = httpx.Client(
        base_url="http://mlflow",
        transport=httpx.MockTransport(lambda request: httpx.Response(403, text="PERMISSION_DENIED")),
    )
    with pytest.raises(AccountError, match="^account payments: MLflow answered 403: PERMISSION_DENIED$"):
        ensure_accounts(client, {"payments": "p1"})


def test_passwords_come_one_file_per_team(tmp_path):
    (tmp_path / "payments").write_text("secret-1\n")
    (tmp_path / "growth").write_text("secret-2")
    assert read_passwords(tmp_path) == {"payments": "secret-1", "growth": "secret-2"}
    (tmp_path / "ops").write_text("")
    with pytest.raises(AccountError, match="no password for ops"):
        read_passwords(tmp_path)

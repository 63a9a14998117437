"""The in-cluster set-up against a real PostgreSQL server: roles, databases, isolation, errors."""

from __future__ import annotations

import json

import boto3
import psycopg
import pytest
from botocore.stub import Stubber

from pipelines import bootstrap
from pipelines.bootstrap import BootstrapError, admin_from_env, ensure_bucket, parse_users
from tests import postgres

needs_postgres = pytest.mark.skipif(
    postgres.binaries() is None, reason="needs PostgreSQL server binaries (Debian package postgresql)"
)
ADMIN, ADMIN_PASSWORD = "rds_admin", "admin-password"


@pytest.fixture(scope="module")
def server():
    if postgres.binaries() is None:
        pytest.skip("needs PostgreSQL server binaries (Debian package postgresql)")
    with postgres.running_server() as running:
        with _connect(running, running.superuser, running.password) as connection:
            # Like RDS's master user: may create roles and databases, is not a superuser, and
            # owns the database RDS made at creation.
            connection.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEROLE CREATEDB PASSWORD '{ADMIN_PASSWORD}'")
            connection.execute(f"CREATE DATABASE mlflow OWNER {ADMIN}")
        yield running


def _connect(server, user, password, dbname="postgres"):
    return psycopg.connect(
        host=server.host, port=server.port, user=user, password=password, dbname=dbname, autocommit=True
    )


@pytest.fixture
def environment(server, tmp_path):
    passwords = tmp_path / "passwords"
    passwords.mkdir()
    (passwords / "mlflow").write_text("mlflow-password\n", encoding="utf-8")
    (passwords / "argo").write_text("argo-password", encoding="utf-8")
    (tmp_path / "admin").write_text(ADMIN_PASSWORD, encoding="utf-8")
    return {
        "SLIPWAY_DB_HOST": server.host,
        "SLIPWAY_DB_PORT": str(server.port),
        "SLIPWAY_DB_SSLMODE": "disable",
        "SLIPWAY_DB_ADMIN_USER": ADMIN,
        "SLIPWAY_DB_ADMIN_PASSWORD_FILE": str(tmp_path / "admin"),
        "SLIPWAY_DB_USERS": "mlflow=mlflow,mlflow_auth;argo=argo",
        "SLIPWAY_DB_PASSWORDS_DIR": str(passwords),
    }


@needs_postgres
def test_each_service_gets_its_role_and_owns_its_databases(server, environment):
    done = bootstrap.run(environment)
    assert "created role mlflow" in done or "updated role mlflow" in done
    with _connect(server, "mlflow", "mlflow-password", "mlflow") as connection:
        owners = dict(
            connection.execute(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname IN "
                "('mlflow', 'mlflow_auth', 'argo')"
            ).fetchall()
        )
        connection.execute("CREATE TABLE experiments (id int)")
    assert owners == {"mlflow": "mlflow", "mlflow_auth": "mlflow", "argo": "argo"}
    with _connect(server, "argo", "argo-password", "argo") as connection:
        assert connection.execute("SELECT current_user").fetchone() == ("argo",)


@needs_postgres
def test_one_service_cannot_open_another_services_database(server, environment):
    bootstrap.run(environment)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        _connect(server, "argo", "argo-password", "mlflow").close()


@needs_postgres
def test_a_second_run_changes_nothing_but_applies_a_new_password(server, environment, tmp_path):
    bootstrap.run(environment)
    (tmp_path / "passwords" / "argo").write_text("rotated-password", encoding="utf-8")
    done = bootstrap.run(environment)
    assert "updated role argo" in done
    assert "gave database argo to argo" in done
    with _connect(server, "argo", "rotated-password", "argo") as connection:
        assert connection.execute("SELECT 1").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        _connect(server, "argo", "argo-password", "argo").close()


@needs_postgres
def test_service_roles_hold_no_admin_rights(server, environment):
    bootstrap.run(environment)
    with _connect(server, server.superuser, server.password) as connection:
        rights = connection.execute(
            "SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname IN ('mlflow', 'argo') ORDER BY rolname"
        ).fetchall()
    assert rights == [("argo", False, False, False), ("mlflow", False, False, False)]


@needs_postgres
def test_a_server_that_is_down_is_one_clear_line_and_exit_1(environment, monkeypatch, capsys):
    closed_port = str(postgres.free_port())
    for key, value in {**environment, "SLIPWAY_DB_PORT": closed_port}.items():
        monkeypatch.setenv(key, value)
    assert bootstrap.main() == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"bootstrap: database 127.0.0.1:{closed_port}: ")


def test_users_spec_and_password_files(tmp_path):
    (tmp_path / "mlflow").write_text("p1\n", encoding="utf-8")
    (tmp_path / "argo").write_text("p2", encoding="utf-8")
    users = parse_users("mlflow=mlflow,mlflow_auth; argo=argo", tmp_path)
    assert [(u.name, u.password, u.databases) for u in users] == [
        ("mlflow", "p1", ("mlflow", "mlflow_auth")),
        ("argo", "p2", ("argo",)),
    ]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("Robert'--=db", 'user "Robert\'--" is not a plain PostgreSQL name'),
        ("mlflow=", "user 'mlflow' owns no database in SLIPWAY_DB_USERS"),
        ("mlflow=my-db", "database 'my-db' is not a plain PostgreSQL name"),
        ("", "SLIPWAY_DB_USERS names no user"),
        ("ghost=db", "cannot read the password of 'ghost'"),
    ],
)
def test_bad_user_specs_are_refused_before_connecting(tmp_path, spec, message):
    (tmp_path / "mlflow").write_text("p1", encoding="utf-8")
    with pytest.raises(BootstrapError) as raised:
        parse_users(spec, tmp_path)
    assert str(raised.value).startswith(message)


def _stubbed(service, **kwargs):
    client = boto3.client(
        service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y", **kwargs
    )
    return client, Stubber(client)


def test_admin_credentials_come_from_the_rds_secret():
    client, stub = _stubbed("secretsmanager")
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf"
    stub.add_response(
        "get_secret_value",
        {"SecretString": json.dumps({"username": "slipway", "password": "from-secrets-manager"})},
        {"SecretId": arn},
    )
    with stub:
        admin = admin_from_env(
            {"SLIPWAY_DB_ADMIN_SECRET_ARN": arn, "SLIPWAY_DB_HOST": "db.internal"}, lambda: client
        )
    stub.assert_no_pending_responses()
    assert (admin.user, admin.password, admin.host, admin.port, admin.sslmode) == (
        "slipway",
        "from-secrets-manager",
        "db.internal",
        5432,
        "require",
    )


def test_an_unreadable_secret_names_the_secret():
    client, stub = _stubbed("secretsmanager")
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rds!db-1-AbCdEf"
    stub.add_client_error(
        "get_secret_value", service_error_code="AccessDeniedException", http_status_code=400
    )
    with stub, pytest.raises(BootstrapError, match=f"^cannot read the database admin secret {arn}: "):
        admin_from_env({"SLIPWAY_DB_ADMIN_SECRET_ARN": arn, "SLIPWAY_DB_HOST": "db"}, lambda: client)


def test_missing_settings_are_named():
    with pytest.raises(BootstrapError, match="^SLIPWAY_DB_ADMIN_USER is not set$"):
        admin_from_env({"SLIPWAY_DB_HOST": "db"}, lambda: None)
    with pytest.raises(BootstrapError, match="^SLIPWAY_DB_PORT must be a port number, got 'five'$"):
        admin_from_env(
            {
                "SLIPWAY_DB_ADMIN_SECRET_ARN": "",
                "SLIPWAY_DB_ADMIN_USER": "a",
                "SLIPWAY_DB_ADMIN_PASSWORD_FILE": __file__,
                "SLIPWAY_DB_HOST": "db",
                "SLIPWAY_DB_PORT": "five",
            },
            lambda: None,
        )


def test_bucket_is_created_once():
    client, stub = _stubbed("s3", endpoint_url="http://objects.local:8333")
    stub.add_client_error("head_bucket", service_error_code="404", http_status_code=404)
    stub.add_response("create_bucket", {}, {"Bucket": "slipway-artifacts"})
    stub.add_response("head_bucket", {}, {"Bucket": "slipway-artifacts"})
    with stub:
        assert ensure_bucket(client, "slipway-artifacts") == "created bucket slipway-artifacts"
        assert ensure_bucket(client, "slipway-artifacts") == "bucket slipway-artifacts exists"
    stub.assert_no_pending_responses()


def test_a_forbidden_bucket_is_an_error_not_a_create():
    client, stub = _stubbed("s3", endpoint_url="http://objects.local:8333")
    stub.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
    with stub, pytest.raises(BootstrapError, match="^cannot check bucket slipway-artifacts: "):
        ensure_bucket(client, "slipway-artifacts")

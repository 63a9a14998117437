"""Platform set-up that must run inside the cluster: database users and the artifact bucket.

The platform's services never use the database's admin credentials. This step, run once per
`pulumi up` as a Kubernetes Job in the platform's runtime image, reads the admin credentials
(from Secrets Manager on AWS, where RDS keeps and rotates them, or from a mounted Secret on a
cluster the user brings) and makes one login role per service with the password Pulumi generated
for it, and the databases that role owns. On a cluster the user brings, it also creates the
artifact bucket in the in-cluster object store. Every action is idempotent.

Configuration, all from the environment:
    SLIPWAY_DB_HOST, SLIPWAY_DB_PORT (5432), SLIPWAY_DB_NAME (postgres), SLIPWAY_DB_SSLMODE (require)
    SLIPWAY_DB_ADMIN_SECRET_ARN, or SLIPWAY_DB_ADMIN_USER and SLIPWAY_DB_ADMIN_PASSWORD_FILE
    SLIPWAY_DB_USERS: 'user=db1,db2;user2=db3'
    SLIPWAY_DB_PASSWORDS_DIR: a directory with one file per user holding its password
    SLIPWAY_S3_ENDPOINT, SLIPWAY_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (optional)
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
CONNECT_TIMEOUT_SECONDS = 10


class BootstrapError(Exception):
    """The set-up cannot go on; the message says what is missing or wrong."""


@dataclass(frozen=True)
class AdminConnection:
    """How to reach the database server as its administrator."""

    host: str
    port: int
    dbname: str
    sslmode: str
    user: str
    password: str


@dataclass(frozen=True)
class DatabaseUser:
    """A service's login role and the databases it owns."""

    name: str
    password: str
    databases: tuple[str, ...]


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise BootstrapError(f"{name} is not set")
    return value


def _identifier(value: str, what: str) -> str:
    if not IDENTIFIER.fullmatch(value):
        raise BootstrapError(f"{what} {value!r} is not a plain PostgreSQL name (a-z, 0-9, _)")
    return value


def parse_users(spec: str, passwords_dir: Path) -> list[DatabaseUser]:
    """Read 'user=db1,db2;user2=db3' and each user's password file."""
    users: list[DatabaseUser] = []
    for entry in filter(None, (part.strip() for part in spec.split(";"))):
        name, _, databases = entry.partition("=")
        user = _identifier(name.strip(), "user")
        owned = tuple(_identifier(db.strip(), "database") for db in databases.split(",") if db.strip())
        if not owned:
            raise BootstrapError(f"user {user!r} owns no database in SLIPWAY_DB_USERS")
        password_file = passwords_dir / user
        try:
            password = password_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise BootstrapError(f"cannot read the password of {user!r}: {error}") from error
        if not password:
            raise BootstrapError(f"the password file of {user!r} ({password_file}) is empty")
        users.append(DatabaseUser(name=user, password=password, databases=owned))
    if not users:
        raise BootstrapError("SLIPWAY_DB_USERS names no user")
    return users


def admin_from_env(env: Mapping[str, str], secrets_client: Callable[[], Any]) -> AdminConnection:
    """The admin connection, its credentials from Secrets Manager or from a mounted file."""
    secret_arn = env.get("SLIPWAY_DB_ADMIN_SECRET_ARN", "").strip()
    if secret_arn:
        user, password = _secret_credentials(secrets_client(), secret_arn)
    else:
        user = _required(env, "SLIPWAY_DB_ADMIN_USER")
        password_file = Path(_required(env, "SLIPWAY_DB_ADMIN_PASSWORD_FILE"))
        try:
            password = password_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise BootstrapError(f"cannot read the admin password: {error}") from error
    port_text = env.get("SLIPWAY_DB_PORT", "5432")
    if not port_text.isdigit():
        raise BootstrapError(f"SLIPWAY_DB_PORT must be a port number, got {port_text!r}")
    return AdminConnection(
        host=_required(env, "SLIPWAY_DB_HOST"),
        port=int(port_text),
        dbname=env.get("SLIPWAY_DB_NAME", "postgres"),
        sslmode=env.get("SLIPWAY_DB_SSLMODE", "require"),
        user=user,
        password=password,
    )


def _secret_credentials(client: Any, secret_arn: str) -> tuple[str, str]:
    # RDS keeps the master credentials as JSON {"username": ..., "password": ...}.
    try:
        response = client.get_secret_value(SecretId=secret_arn)
    except Exception as error:  # botocore raises many error types; each ends the set-up the same way
        raise BootstrapError(f"cannot read the database admin secret {secret_arn}: {error}") from error
    try:
        document = json.loads(response["SecretString"])
        return str(document["username"]), str(document["password"])
    except (KeyError, TypeError, ValueError) as error:
        raise BootstrapError(f"secret {secret_arn} holds no username and password") from error


def ensure_users(connection: psycopg.Connection[Any], users: Sequence[DatabaseUser]) -> list[str]:
    """Make each role and database exist as declared; return what was done, for the Job's log."""
    done: list[str] = []
    for user in users:
        role = sql.Identifier(user.name)
        exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user.name,)).fetchone()
        verb = "ALTER" if exists else "CREATE"
        connection.execute(
            # New roles hold no admin attribute; saying NOSUPERUSER outright is refused to RDS's admin.
            sql.SQL("{} ROLE {} WITH LOGIN PASSWORD {}").format(
                sql.SQL(verb), role, sql.Literal(user.password)
            )
        )
        done.append(f"{'updated' if exists else 'created'} role {user.name}")
        # A non-superuser admin (RDS) may only hand a database to a role it is a member of.
        connection.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(role))
        for database in user.databases:
            db = sql.Identifier(database)
            found = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if found:
                connection.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(db, role))
                done.append(f"gave database {database} to {user.name}")
            else:
                connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(db, role))
                done.append(f"created database {database} for {user.name}")
            # Only its owner may connect: one service cannot read another's database.
            connection.execute(sql.SQL("REVOKE CONNECT, TEMPORARY ON DATABASE {} FROM PUBLIC").format(db))
    return done


def ensure_bucket(client: Any, bucket: str) -> str:
    """Create the bucket unless it exists; return what was done."""
    try:
        client.head_bucket(Bucket=bucket)
        return f"bucket {bucket} exists"
    except Exception as error:
        code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
        if code not in {"404", "NoSuchBucket", "NotFound"}:
            raise BootstrapError(f"cannot check bucket {bucket}: {error}") from error
    client.create_bucket(Bucket=bucket)
    return f"created bucket {bucket}"


def run(env: Mapping[str, str]) -> list[str]:
    """Do the whole set-up described by the environment."""
    import boto3  # imported here: only the AWS and object-store paths need it

    admin = admin_from_env(env, lambda: boto3.client("secretsmanager"))
    users = parse_users(_required(env, "SLIPWAY_DB_USERS"), Path(_required(env, "SLIPWAY_DB_PASSWORDS_DIR")))
    try:
        with psycopg.connect(
            host=admin.host,
            port=admin.port,
            dbname=admin.dbname,
            user=admin.user,
            password=admin.password,
            sslmode=admin.sslmode,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
            autocommit=True,
        ) as connection:
            done = ensure_users(connection, users)
    except psycopg.Error as error:
        # libpq's messages span lines; the Job's log and Pulumi's error show one.
        raise BootstrapError(f"database {admin.host}:{admin.port}: {' '.join(str(error).split())}") from error
    endpoint = env.get("SLIPWAY_S3_ENDPOINT", "").strip()
    if endpoint:
        client = boto3.client("s3", endpoint_url=endpoint)
        done.append(ensure_bucket(client, _required(env, "SLIPWAY_BUCKET")))
    return done


def main() -> int:
    """Run the set-up; print each action, or one line naming what failed."""
    try:
        for line in run(os.environ):
            print(line)
    except BootstrapError as error:
        print(f"bootstrap: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One MLflow account per team, made by a Job beside the MLflow server with its admin's credentials.

Teams' pipelines and model servers sign in to MLflow with their team's account, never the admin's.
The Job reads each team's generated password from a mounted Secret (one file per team) and creates
the account, or sets its password when it exists. Run as `python -m pipelines.mlflow_accounts`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import httpx

CREATE = "/api/2.0/mlflow/users/create"
UPDATE = "/api/2.0/mlflow/users/update-password"


class AccountError(RuntimeError):
    """An account could not be made; the message names the team and MLflow's answer."""


def ensure_accounts(client: httpx.Client, passwords: dict[str, str]) -> list[str]:
    """Create or update one account per team; return what was done."""
    done = []
    for team, password in sorted(passwords.items()):
        created = client.post(CREATE, json={"username": team, "password": password})
        if created.status_code == 200:
            done.append(f"created account {team}")
            continue
        if "RESOURCE_ALREADY_EXISTS" not in created.text:
            raise AccountError(f"account {team}: MLflow answered {created.status_code}: {created.text[:300]}")
        updated = client.patch(UPDATE, json={"username": team, "password": password})
        if updated.status_code != 200:
            raise AccountError(f"account {team}: MLflow answered {updated.status_code}: {updated.text[:300]}")
        done.append(f"updated account {team}")
    return done


def read_passwords(directory: Path) -> dict[str, str]:
    """Each file of the mounted Secret is a team; its content, the password."""
    found = {
        path.name: path.read_text(encoding="utf-8").strip() for path in directory.iterdir() if path.is_file()
    }
    empty = [team for team, password in found.items() if not password]
    if empty:
        raise AccountError(f"no password for {', '.join(sorted(empty))}")
    return found


def main() -> int:
    """Make every team's account; one line per account, or one naming what failed."""
    try:
        passwords = read_passwords(Path(os.environ["SLIPWAY_ACCOUNTS_DIR"]))
        auth = (os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"])
        with httpx.Client(base_url=os.environ["MLFLOW_TRACKING_URI"], auth=auth, timeout=30) as client:
            for line in ensure_accounts(client, passwords):
                print(line)
    except KeyError as error:
        print(f"mlflow accounts: {error.args[0]} is not set", file=sys.stderr)
        return 1
    except (AccountError, OSError, httpx.HTTPError) as error:
        print(f"mlflow accounts: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A throwaway PostgreSQL server for tests: initdb into a temp dir, serve on loopback, stop."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.targets.local import free_port

SUPERUSER_PASSWORD = "test-superuser-password"


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    superuser: str
    password: str


def binaries() -> Path | None:
    """The directory holding initdb and pg_ctl, from PATH or Debian's versioned folders."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _as_server_user(command: list[str]) -> list[str]:
    # initdb refuses to run as root (CI runs as root); Debian's package makes a postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@contextmanager
def running_server() -> Iterator[Server]:
    """Start a server with password authentication on 127.0.0.1, and stop it afterwards."""
    bin_dir = binaries()
    assert bin_dir is not None, "no PostgreSQL binaries"
    workdir = Path(tempfile.mkdtemp(prefix="slipway-pg-"))
    data, sockets, pwfile = workdir / "data", workdir / "sockets", workdir / "pwfile"
    sockets.mkdir()
    pwfile.write_text(SUPERUSER_PASSWORD, encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres")
        shutil.chown(sockets, "postgres")
        shutil.chown(pwfile, "postgres")
    port = free_port()
    run = {"check": True, "capture_output": True, "stdin": subprocess.DEVNULL}
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--locale=C",
            ]
        ),
        **run,
    )
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1"
    subprocess.run(
        _as_server_user(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-w",
                "-l",
                str(workdir / "log"),
                "start",
            ]
        ),
        **run,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        yield Server(host="127.0.0.1", port=port, superuser="postgres", password=SUPERUSER_PASSWORD)
    finally:
        subprocess.run(
            _as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(workdir, ignore_errors=True)

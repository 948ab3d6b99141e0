"""A real PostgreSQL server of our own, started from the machine's binaries, for tests and benchmarks.

`initdb` refuses to run as root, so when we are root the cluster is made and run as the `postgres` system
user, in a temporary folder handed to that user. The server listens on 127.0.0.1 at a free port and
trusts nobody: every connection needs the password, so the tests see the same URLs (and the same
secret to keep out of logs) as a deployment does. Each test gets a database of its own (`create_database`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

SUPERUSER = "scout"
SERVER_USER = "postgres"
START_TIMEOUT_S = 30.0
PG_BIN_ENV = "PG_BIN"
READY_LINE = b"database system is ready to accept connections"


class PostgresUnavailable(Exception):
    """No PostgreSQL server can be started here; the message says why (tests skip with it)."""


def find_binaries() -> Path:
    """The folder holding `initdb` and `postgres`: $PG_BIN, the newest /usr/lib/postgresql/*/bin, or the PATH."""
    candidates = []
    if os.environ.get(PG_BIN_ENV):
        candidates.append(Path(os.environ[PG_BIN_ENV]))
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: _version_key(p.parent.name))
    candidates.extend(reversed(versions))
    if found := shutil.which("initdb"):
        candidates.append(Path(found).parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise PostgresUnavailable("PostgreSQL binaries not found (initdb, postgres): install PostgreSQL or set PG_BIN")


def _version_key(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _server_user() -> str | None:
    """The user to run the server as: ourselves, or `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresUnavailable("running as root and there is no `postgres` user to run initdb as") from None
    return SERVER_USER


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PostgresServer:
    """One running cluster; `url(name)` is a DATABASE_URL for one of its databases."""

    folder: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]
    _databases: list[str] = field(default_factory=list)

    @property
    def admin_url(self) -> str:
        """The maintenance database, for creating and dropping the others."""
        return self.url("postgres")

    def url(self, database: str, *, password: str | None = None) -> str:
        """postgresql://scout:<password>@127.0.0.1:<port>/<database>."""
        return f"postgresql://{SUPERUSER}:{password or self.password}@127.0.0.1:{self.port}/{database}"

    async def create_database(self, prefix: str = "scout") -> str:
        """A new empty database; returns its URL."""
        name = f"{prefix}_{secrets.token_hex(6)}"
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        finally:
            await connection.close()
        self._databases.append(name)
        return self.url(name)

    async def drop_database(self, url: str) -> None:
        """Drop a database made by `create_database`, closing whatever is still connected to it."""
        name = url.rsplit("/", 1)[1]
        connection = await asyncpg.connect(self.admin_url)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()

    async def terminate_connections(self, url: str) -> int:
        """Cut every connection to the database behind `url`, as a server restart or a network failure would."""
        name = url.rsplit("/", 1)[1]
        connection = await asyncpg.connect(self.admin_url)
        try:
            rows = await connection.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
                name,
            )
        finally:
            await connection.close()
        return len(rows)

    def stop(self) -> None:
        """Fast shutdown (rolls back open transactions), then the folder goes."""
        if self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT: PostgreSQL's fast shutdown
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)


def start_server() -> PostgresServer:
    """initdb a cluster in a temporary folder and start it on a free port; raises PostgresUnavailable if impossible.

    The cluster is disposable: fsync is off, which makes it fast and is fine for data thrown away afterwards.
    """
    binaries = find_binaries()
    user = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="scout-pg-"))
    try:
        if user is not None:
            record = pwd.getpwnam(user)
            os.chown(folder, record.pw_uid, record.pw_gid)
        password = secrets.token_urlsafe(18)
        password_file = folder / "password"
        password_file.write_text(password + "\n", encoding="utf-8")
        if user is not None:
            os.chown(password_file, pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid)
        data = folder / "data"
        initdb = [
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            SUPERUSER,
            f"--pwfile={password_file}",
            "--auth=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        ]
        done = subprocess.run(initdb, user=user, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        port = free_port()
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(folder),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
        }
        command = [str(binaries / "postgres"), "-D", str(data)]
        for name, value in options.items():
            command += ["-c", f"{name}={value}"]
        log = (folder / "server.log").open("wb")
        process = subprocess.Popen(command, user=user, stdout=log, stderr=subprocess.STDOUT)
        server = PostgresServer(folder, port, password, process)
        _wait_until_ready(server)
        return server
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _wait_until_ready(server: PostgresServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            log = (server.folder / "server.log").read_text(errors="replace").strip().splitlines()
            raise PostgresUnavailable(f"postgres exited at start: {log[-1] if log else 'no output'}")
        if READY_LINE in (server.folder / "server.log").read_bytes():
            return
        time.sleep(0.05)
    server.stop()
    raise PostgresUnavailable(f"postgres did not accept connections within {START_TIMEOUT_S:.0f}s")


@contextlib.contextmanager
def running_server() -> Iterator[PostgresServer]:
    """A server for the length of the block."""
    server = start_server()
    try:
        yield server
    finally:
        server.stop()

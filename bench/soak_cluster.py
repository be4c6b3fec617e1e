"""A throwaway PostgreSQL cluster for the soak harness: its own data folder, its own port on
127.0.0.1, its own socket folder. It never touches the machine's shared server (5432).

Run as root, PostgreSQL refuses to start; the cluster then belongs to the `postgres` user and
every server command runs through `runuser -u postgres --`.
"""

import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

PG_BIN = Path(os.environ.get("TUITION_PG_BIN", "/usr/lib/postgresql/15/bin"))


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, home: Path):
        self.home = home
        self.data = home / "pgdata"
        self.sockets = home / "pgsock"
        self.log = home / "postgres.log"
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/tuition"

    def _run(self, *argv: str, check: bool = True, timeout: float = 120) -> None:
        command = [str(a) for a in argv]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(
            command, check=check, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )

    def create(self) -> None:
        self.sockets.mkdir(parents=True, exist_ok=True)
        if self.as_postgres:
            user = pwd.getpwnam("postgres")
            os.chmod(self.home, 0o755)  # noqa: S103 - the postgres user must reach its folders
            for path in (self.sockets,):
                os.chown(path, user.pw_uid, user.pw_gid)
            self.log.touch()
            os.chown(self.log, user.pw_uid, user.pw_gid)
            self.data.mkdir()
            os.chown(self.data, user.pw_uid, user.pw_gid)
        self._run(
            PG_BIN / "initdb",
            "-D",
            self.data,
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        self.start()
        self._run(
            PG_BIN / "createdb",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "tuition",
        )

    def _options(self) -> str:
        # Crash safety stays on (fsync, full_page_writes): an immediate restart must recover
        # every acknowledged commit from the WAL, which is the point of the exercise.
        return (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.sockets} -c max_connections=200 "
            "-c shared_buffers=64MB"
        )

    def start(self) -> None:
        self._run(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.log,
            "-o",
            self._options(),
            "-w",
            "-t",
            "60",
            "start",
        )

    def restart_immediate(self) -> None:
        """Kill the server without a checkpoint (like a crash) and start it again."""
        self._run(
            PG_BIN / "pg_ctl",
            "-D",
            self.data,
            "-l",
            self.log,
            "-o",
            self._options(),
            "-m",
            "immediate",
            "-w",
            "-t",
            "60",
            "restart",
        )

    def stop(self) -> None:
        if self.data.exists():
            self._run(
                PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop", check=False
            )

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

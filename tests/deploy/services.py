"""Real servers for deployment tests: a ZEO server, a throwaway PostgreSQL cluster, nginx.

Each runs as a subprocess on a free port in a temporary directory and is stopped
(and can be killed and restarted) by the test.  PostgreSQL refuses to run as root,
so as root the cluster belongs to the ``postgres`` user (Debian's package creates it).
"""
from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

VENV_BIN = os.path.dirname(sys.executable)
PG_BIN_CANDIDATES = ["/usr/lib/postgresql/%s/bin" % v for v in ("17", "16", "15", "14", "13")]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port} after {timeout} s")


def stop(proc: subprocess.Popen | None, sig=signal.SIGTERM, timeout: float = 15.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


class ZEOServer:
    """``runzeo`` from the virtualenv with a config file (``etc/zeo.conf``'s form)."""

    def __init__(self, config_path: str, port: int, log_path: str):
        self.config_path, self.port, self.log_path = config_path, port, log_path
        self.proc = None

    def start(self) -> "ZEOServer":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(VENV_BIN, "runzeo"), "-C", self.config_path],
                                     stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        return self

    def kill(self) -> None:
        stop(self.proc, signal.SIGKILL)

    def stop(self) -> None:
        stop(self.proc)


def zeo_config(directory: str, port: int) -> str:
    """Write a server config like etc/zeo.conf with absolute paths; return its path."""
    from anarepo.deploy.config import zeo_server_conf

    path = os.path.join(directory, "zeo.conf")
    with open(path, "w") as out:
        out.write(zeo_server_conf(f"127.0.0.1:{port}", os.path.join(directory, "Data.fs"),
                                  os.path.join(directory, "blobs")))
    return path


def pg_bin() -> str | None:
    for candidate in PG_BIN_CANDIDATES:
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    found = shutil.which("initdb")
    return os.path.dirname(os.path.realpath(found)) if found else None


class PostgresCluster:
    """A throwaway cluster (initdb, pg_ctl) with a database ``anarepo`` and a role of that name."""

    def __init__(self):
        self.bin = pg_bin()
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="anarepo-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.user = None
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
            self.user = "postgres"

    @classmethod
    def available(cls) -> bool:
        if pg_bin() is None:
            return False
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return False
        return True

    def _run(self, *args, check=True, **kw):
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--"] + cmd
        return subprocess.run(cmd, check=check, capture_output=True, text=True, **kw)

    def init(self) -> "PostgresCluster":
        self._run(os.path.join(self.bin, "initdb"), "-D", self.data, "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        return self

    def start(self) -> "PostgresCluster":
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l", self.log, "-w", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
                  " -c max_connections=200", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run(os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop", check=False)

    def psql(self, sql: str, db: str = "postgres") -> str:
        return self._run(os.path.join(self.bin, "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U",
                         "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-c", sql).stdout

    def create_database(self, name: str = "anarepo", password: str = "secret") -> str:
        """The steps docs/operations.md gives: a role and a database it owns; returns a DSN."""
        self.psql(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        self.psql(f"CREATE DATABASE {name} OWNER {name}")
        return f"dbname='{name}' user='{name}' password='{password}' host='127.0.0.1' port='{self.port}'"

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class Nginx:
    """nginx in the foreground with a main config around a generated ``nginx-anarepo.conf``."""

    BIN = shutil.which("nginx") or "/usr/sbin/nginx"

    def __init__(self, directory: str, site_conf: str, port: int):
        self.dir, self.site_conf, self.port = directory, site_conf, port
        self.proc = None

    @classmethod
    def available(cls) -> bool:
        return os.path.exists(cls.BIN)

    def write_main_conf(self) -> str:
        os.makedirs(self.dir, exist_ok=True)
        temp = "".join(f"    {kind}_temp_path {self.dir}/{kind};\n"
                       for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        mime = "    include /etc/nginx/mime.types;\n" if os.path.exists("/etc/nginx/mime.types") else ""
        user = "user root;\n" if os.geteuid() == 0 else ""  # test files live in root-only temp dirs
        path = os.path.join(self.dir, "nginx.conf")
        with open(path, "w") as out:
            out.write(f"""{user}daemon off;
worker_processes 2;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
{mime}    access_log {self.dir}/access.log;
{temp}    include {self.site_conf};
}}
""")
        return path

    def start(self) -> "Nginx":
        conf = self.write_main_conf()
        log = open(os.path.join(self.dir, "stderr.log"), "ab")
        self.proc = subprocess.Popen([self.BIN, "-c", conf, "-p", self.dir], stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self.proc)
        return self

    def stop(self) -> None:
        stop(self.proc, signal.SIGQUIT)


class AppProcess:
    """``anarepo -c INI serve --port P`` as operators run it (one per port)."""

    def __init__(self, ini: str, port: int, log_path: str, env: dict, workers: int = 1):
        self.ini, self.port, self.log_path, self.env, self.workers = ini, port, log_path, env, workers
        self.proc = None

    def start(self, wait: bool = True) -> "AppProcess":
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([os.path.join(VENV_BIN, "anarepo"), "-c", self.ini, "serve", "--port",
                                      str(self.port), "--workers", str(self.workers)],
                                     stdout=log, stderr=subprocess.STDOUT, env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 120.0) -> None:
        import urllib.request

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"anarepo serve exited with {self.proc.returncode}; see {self.log_path}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/", timeout=5).read()
                return
            except Exception:  # noqa: BLE001 - not up yet
                time.sleep(0.2)
        raise TimeoutError(f"anarepo on port {self.port} not ready; see {self.log_path}")

    def stop(self) -> None:
        stop(self.proc, timeout=60)

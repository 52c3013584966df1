"""docs/operations.md walked step by step, as an operator on a fresh machine would.

Every step runs what the docs say, with the files ``anarepo gen-config`` wrote: the
database and its role (PostgreSQL), the configuration, the systemd units checked by
``systemd-analyze verify`` and then *their own* command lines run (``ExecStart`` of
``anarepo-zeo``, ``anarepo-init``, ``anarepo@PORT``; ``ExecReload`` for the upgrade),
an administrator, nginx from the generated file (``nginx -t`` first), a check with real
clients, packing, a backup restored and verified file by file (``reindex --check``),
and an upgrade (``evolve``, then a graceful reload while clients keep reading).
Paths are a temporary directory instead of ``/srv/anarepo``; nginx listens on plain
HTTP instead of 443 with a certificate.
"""
from __future__ import annotations

import configparser
import getpass
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from anarepo.package_types.pypi import builders

from .conftest import need_postgres
from .services import VENV_BIN, AppProcess, Nginx, PostgresCluster, free_port, stop, wait_for_port
from .site import ROOT

pytestmark = [pytest.mark.deploy, pytest.mark.slow]

ANAREPO = os.path.join(VENV_BIN, "anarepo")


def unit_command(unit: Path, key: str = "ExecStart", **values) -> list[str]:
    """A unit's command line as systemd would run it (``%i`` and ``$MAINPID`` filled in)."""
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str
    parser.read(unit)
    line = parser["Service"][key]
    for name, value in values.items():
        line = line.replace(name, str(value))
    return shlex.split(line)


def run(args, env, **kw):
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600, **kw)
    assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    return result.stdout


@pytest.fixture(params=["zeo", "relstorage"])
def backend(request):
    if not Nginx.available():
        if os.environ.get("CI"):
            pytest.fail("nginx (scripts/system-packages.txt) is needed in CI")
        pytest.skip("nginx is not installed")
    if request.param == "relstorage":
        need_postgres()
    return request.param


def test_operations_md_from_an_empty_machine(backend, tmp_path):
    env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}
    procs: list[subprocess.Popen] = []
    cluster = nginx = None
    etc, var = tmp_path / "etc", tmp_path / "var"
    ports, http_port = [free_port(), free_port()], free_port()
    try:
        # -- the database and its role (RelStorage), as the docs' psql commands
        args = ["gen-config", "--dir", str(etc), "--var", str(var), "--server-name", "localhost",
                "--ports", ",".join(map(str, ports)), "--listen", f"127.0.0.1:{http_port}", "--user", getpass.getuser()]
        if backend == "relstorage":
            cluster = PostgresCluster().init().start()
            dsn = cluster.create_database("anarepo")  # CREATE ROLE anarepo LOGIN ...; CREATE DATABASE ... OWNER
            args += ["--backend", "relstorage", "--dsn", dsn]
        else:
            zeo_port = free_port()
            args += ["--zeo-address", f"127.0.0.1:{zeo_port}"]
        # -- configuration: one command, one directory
        run([ANAREPO, *args], env)
        with open(etc / "anarepo.ini") as f:  # fast password hashing for the test only
            text = f.read().replace("[app:main]\n", "[app:main]\nanarepo.argon2.time_cost = 1\n"
                                    "anarepo.argon2.memory_cost = 64\n", 1)
        (etc / "anarepo.ini").write_text(text)
        ini = str(etc / "anarepo.ini")
        units = etc / "systemd"
        expected = {"anarepo@.service", "anarepo-init.service"} | ({"anarepo-zeo.service"} if backend == "zeo" else set())
        assert {p.name for p in units.iterdir()} == expected
        verify_units(units, ports[0])

        # -- the ZEO server, as its unit runs it
        if backend == "zeo":
            procs.append(subprocess.Popen(unit_command(units / "anarepo-zeo.service"), env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            wait_for_port(zeo_port, proc=procs[-1])
        # -- initialize once, then an administrator
        run(unit_command(units / "anarepo-init.service"), env)
        run([ANAREPO, "-c", ini, "user", "add", "operator", "--email", "admin@example.org", "--admin",
             "--password-stdin"], env, input="correct-horse-battery\n")
        token = run([ANAREPO, "-c", ini, "token", "create", "operator", "--name", "ops"], env).strip()
        # -- the app processes, one per port, as anarepo@PORT runs them
        apps = []
        for port in ports:
            proc = subprocess.Popen(unit_command(units / "anarepo@.service", **{"%i": port}), env=env,
                                    stdout=open(tmp_path / f"app-{port}.log", "ab"), stderr=subprocess.STDOUT)
            procs.append(proc)
            app = AppProcess(ini, port, str(tmp_path / f"app-{port}.log"), env)
            app.proc = proc
            apps.append(app)
        for app in apps:
            app.wait_ready()
        # -- nginx: nginx -t, then serve
        nginx = Nginx(str(tmp_path / "nginx"), str(etc / "nginx-anarepo.conf"), http_port)
        check = subprocess.run([Nginx.BIN, "-t", "-c", nginx.write_main_conf(), "-p", nginx.dir],
                               capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        nginx.start()
        url = f"http://127.0.0.1:{http_port}"

        # -- check: the API answers, an upload installs with pip
        assert requests.get(f"{url}/api/", timeout=30).status_code == 200
        wheels = upload_and_install(url, token, tmp_path, "1.0")

        # -- packing
        if backend == "zeo":
            run([os.path.join(VENV_BIN, "zeopack"), "-d", "7", f"127.0.0.1:{zeo_port}"], env)
        else:
            run([os.path.join(VENV_BIN, "zodbpack"), str(etc / "zodbpack.conf"), "--days", "7"], env)
        run([ANAREPO, "-c", ini, "gc"], env)

        # -- backup, restored elsewhere and verified file by file
        verify_backup(backend, tmp_path, var, cluster, env)

        # -- upgrade: evolve, then a graceful reload of every process while clients read
        run([ANAREPO, "-c", ini, "evolve"], env)
        answers, stop_reading = [], threading.Event()

        def read():
            while not stop_reading.is_set():
                try:
                    answers.append(requests.get(f"{url}/pypi/operator/simple/ops/", timeout=30,
                                                headers={"Accept": "text/html"}).status_code)
                except requests.RequestException as exc:  # counted as a failure below
                    answers.append(repr(exc))

        reader = threading.Thread(target=read)
        reader.start()
        try:
            for app in apps:
                run(unit_command(units / "anarepo@.service", "ExecReload", **{"$MAINPID": app.proc.pid}), env)
            time.sleep(8)  # new workers load the app, old ones finish and leave
        finally:
            stop_reading.set()
            reader.join()
        assert answers and all(a == 200 for a in answers), [a for a in answers if a != 200][:5]
        assert all(app.proc.poll() is None for app in apps)  # the same units keep running
        wheels += upload_and_install(url, token, tmp_path, "2.0")
        assert all(requests.get(f"{url}/pypi/operator/files/ops/{v}/{w}", timeout=30).status_code == 200
                   for v, w in wheels)
    finally:
        if nginx is not None:
            nginx.stop()
        for proc in reversed(procs):
            stop(proc, timeout=60)
        if cluster is not None:
            cluster.destroy()


def verify_units(units: Path, port: int) -> None:
    """``systemd-analyze verify`` (the units, an instance of the template) when it exists;
    otherwise each unit parses and names executables that exist."""
    tool = shutil.which("systemd-analyze")
    names = [p.name for p in units.iterdir() if p.name != "anarepo@.service"] + [f"anarepo@{port}.service"]
    if tool:
        result = subprocess.run([tool, "verify", "--man=no", *names], cwd=units, capture_output=True, text=True)
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr
        return
    for unit in units.iterdir():
        for key in ("ExecStart", "ExecReload"):
            try:
                command = unit_command(unit, key, **{"%i": port, "$MAINPID": 1})
            except KeyError:
                continue
            assert os.access(command[0], os.X_OK), (unit.name, command)


def upload_and_install(url, token, tmp_path, version) -> list[tuple[str, str]]:
    fn, data = builders.wheel("ops", version, module="ops_mod")
    (tmp_path / fn).write_bytes(data)
    plain = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "PIP_DISABLE_PIP_VERSION_CHECK": "1",
             "PIP_NO_CACHE_DIR": "1"}
    run([os.path.join(VENV_BIN, "twine"), "upload", "--repository-url", f"{url}/pypi/operator/", "-u", "__token__",
         "-p", token, "--non-interactive", str(tmp_path / fn)], plain)
    run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(tmp_path / f"t{version}"),
         "--index-url", f"{url}/pypi/operator/simple/", f"ops=={version}"], plain)
    return [(version, fn)]


def verify_backup(backend, tmp_path, var, cluster, env) -> None:
    """The docs' backup, restored into a new database that ``reindex --check`` reads
    completely (every stored file's size and sha256)."""
    restored = tmp_path / "restored"
    restored.mkdir()
    if backend == "zeo":
        backup = tmp_path / "backup"
        backup.mkdir()
        run([os.path.join(VENV_BIN, "repozo"), "-B", "-r", str(backup), "-f", str(var / "Data.fs")], env)
        run(["rsync", "-a", f"{var / 'blobs'}/", f"{restored / 'blobs'}/"] if shutil.which("rsync")
            else ["cp", "-a", str(var / "blobs"), str(restored / "blobs")], env)
        run([os.path.join(VENV_BIN, "repozo"), "-R", "-r", str(backup), "-o", str(restored / "Data.fs")], env)
        uri = f"file://{restored / 'Data.fs'}?blob_dir={restored / 'blobs'}"
    else:
        dump = Path(cluster.dir) / "anarepo.dump"  # the cluster's user writes it
        pg = cluster.bin
        cluster._run(os.path.join(pg, "pg_dump"), "-Fc", "-h", "127.0.0.1", "-p", str(cluster.port), "-U",
                     "postgres", "-f", str(dump), "anarepo")
        cluster.psql("CREATE DATABASE anarepo_restored OWNER anarepo")
        cluster._run(os.path.join(pg, "pg_restore"), "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres",
                     "--no-owner", "--role", "anarepo", "-d", "anarepo_restored", str(dump))
        run([ANAREPO, "gen-config", "--dir", str(restored / "etc"), "--var", str(restored / "var"),
             "--backend", "relstorage", "--dsn", f"dbname='anarepo_restored' user='anarepo' password='secret' "
             f"host='127.0.0.1' port='{cluster.port}'"], env)
        uri = f"zconfig://{restored / 'etc' / 'zodb.conf'}"
    ini = restored / "restored.ini"
    ini.write_text(f"[app:main]\nuse = egg:anarepo\nzodbconn.uri = {uri}\n")
    out = run([ANAREPO, "-c", str(ini), "reindex", "--check", "-q"], env)
    assert "identical to the kept one" in out, out

"""Concurrent uploads on every backend: is anything acknowledged lost, refused or broken?

For each backend the script starts real servers in their own processes:

* ``filestorage``: one waitress process on an embedded FileStorage with blobs
  (development.ini's form);
* ``zeo``: ``runzeo`` (FileStorage + native blob directory) and two waitress
  processes sharing the blob directory (production.ini's form);
* ``relstorage``: a throwaway PostgreSQL cluster (``initdb`` + ``pg_ctl`` of the
  Debian ``postgresql`` package, run as the ``postgres`` user when started as
  root), RelStorage history-free, and two waitress processes.

and runs two scenarios through real HTTP clients (conda packages through the
anaconda-client stage → form POST → commit flow, wheels through the twine-style
PyPI upload):

* ``mixed``: 16 uploaders x 50 files into 8 packages;
* ``hot``: 16 uploaders x 30 files into one package.

Afterwards every acknowledged and every listed file is downloaded and its
sha256 compared.  It prints one row per (backend, scenario): uploads attempted,
acknowledged, downloadable afterwards, 5xx answers, and transactions the
servers retried (from their logs).  Targets: 0 lost, 0 5xx, 0 listed but not
downloadable.

With ``--crash-rounds N`` it also kills a FileStorage server (SIGKILL) in the
middle of uploads N times, runs ``anarepo gc`` and ``reindex --check``, and
prints what gc removed, the debris left, and lost or broken files.

    .venv/bin/python bench/reliability.py [--backends filestorage,zeo,relstorage]
        [--uploaders 16] [--mixed-files 50] [--hot-files 30] [--crash-rounds 20]
"""
from __future__ import annotations

import argparse
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.reliability import load  # noqa: E402
from tests.reliability.crash import crash_rounds, debris  # noqa: E402
from tests.reliability.servers import free_port, wait_for_port  # noqa: E402

PYTHON = sys.executable
# children import this checkout's anarepo, whatever the virtualenv has installed
CHILD_ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")]))}
BIN = Path(PYTHON).parent
PG_BIN = Path("/usr/lib/postgresql/15/bin")

INI = """[app:main]
use = egg:anarepo
zodbconn.uri = {uri}
anarepo.argon2.time_cost = 1
anarepo.argon2.memory_cost = 64
anarepo.site_name = bench

[loggers]
keys = root, retry

[handlers]
keys = console

[formatters]
keys = generic

[logger_root]
level = WARNING
handlers = console

[logger_retry]
level = INFO
handlers =
qualname = anarepo.http.retry

[handler_console]
class = StreamHandler
args = (sys.stderr,)
level = NOTSET
formatter = generic

[formatter_generic]
format = %(levelname)s [%(name)s] %(message)s
"""

SERVE = """
import sys
from pyramid.paster import get_app, setup_logging
from waitress import serve
setup_logging(sys.argv[1])
serve(get_app(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), threads=8,
      max_request_body_size=1 << 30, clear_untrusted_proxy_headers=True)
"""


@contextmanager
def process(args, log: Path, port: int | None = None, user: str | None = None, env=None):
    """A child process whose output goes to ``log``; stopped (SIGTERM) on exit."""
    with open(log, "ab") as out:
        if user is not None:
            args = ["runuser", "-u", user, "--"] + list(args)
        child = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env or CHILD_ENV)
    try:
        if port is not None:
            wait_for_port(port)
        yield child
    finally:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def write_ini(directory: Path, name: str, uri: str) -> Path:
    path = directory / f"{name}.ini"
    path.write_text(INI.format(uri=uri))
    return path


def init_site(ini: Path) -> str:
    """Create the user and its token through the command line; return the token."""
    run = [str(BIN / "anarepo"), "-c", str(ini)]
    subprocess.run(run + ["user", "add", "alice", "--email", "alice@example.com", "--password-stdin"],
                   input="a-long-bench-password\n", text=True, check=True, capture_output=True, env=CHILD_ENV)
    token = subprocess.run(run + ["token", "create", "alice", "--name", "bench"], text=True, check=True,
                           capture_output=True, env=CHILD_ENV)
    return token.stdout.strip()


# -- backends: each yields (ini used by the command line, [ini per server process]) ------------
@contextmanager
def filestorage(workdir: Path):
    uri = f"file://{workdir}/var/Data.fs?blob_dir={workdir}/var/blobs&connection_pool_size=16"
    yield write_ini(workdir, "filestorage", uri), None


@contextmanager
def zeo(workdir: Path):
    port = free_port()
    conf = workdir / "zeo.conf"
    (workdir / "var").mkdir(exist_ok=True)
    conf.write_text(f"<zeo>\n  address 127.0.0.1:{port}\n</zeo>\n<filestorage 1>\n  path {workdir}/var/Data.fs\n"
                    f"  blob-dir {workdir}/var/blobs\n</filestorage>\n")
    uri = (f"zeo://127.0.0.1:{port}?blob_dir={workdir}/var/blobs&shared_blob_dir=true&cache_size=64MB"
           "&connection_pool_size=16")
    with process([str(BIN / "runzeo"), "-C", str(conf)], workdir / "zeo.log", port):
        yield write_ini(workdir, "zeo", uri), None


@contextmanager
def relstorage(workdir: Path):
    user = "postgres" if os.geteuid() == 0 else None
    data = workdir / "pg"
    data.mkdir()
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(workdir, entry.pw_uid, entry.pw_gid)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    prefix = ["runuser", "-u", user, "--"] if user else []
    subprocess.run(prefix + [str(PG_BIN / "initdb"), "-D", str(data), "-U", "bench", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    port = free_port()
    args = [str(PG_BIN / "postgres"), "-D", str(data), "-p", str(port), "-k", str(workdir),
            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "max_connections=200"]
    with process(args, workdir / "postgres.log", port, user=user):
        for _ in range(100):  # the port opens before the server accepts connections
            made = subprocess.run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "bench",
                                   "anarepo"], capture_output=True, text=True)
            if made.returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"createdb failed: {made.stderr}")
        ini_for = []
        for n in range(2):  # a blob cache per process
            uri = (f"postgres://bench@127.0.0.1:{port}/anarepo?keep_history=false"
                   f"&blob_dir={workdir}/blobcache-{n}&shared_blob_dir=false&connection_pool_size=16")
            ini_for.append(write_ini(workdir, f"relstorage-{n}", uri))
        yield ini_for[0], ini_for


BACKENDS = {"filestorage": (filestorage, 1), "zeo": (zeo, 2), "relstorage": (relstorage, 2)}


# -- scenarios -------------------------------------------------------------------------------
def mixed(uploaders: int, files: int) -> list[list[load.Job]]:
    return [[(load.conda_job if (u + i) % 2 else load.wheel_job)(f"mix{(u + i) % 8}", f"{u}.{i}")
             for i in range(files)] for u in range(uploaders)]


def hot(uploaders: int, files: int) -> list[list[load.Job]]:
    return [[(load.conda_job if (u + i) % 2 else load.wheel_job)("hot", f"{u}.{i}")
             for i in range(files)] for u in range(uploaders)]


def retries_in(logs) -> int:
    pattern = re.compile(r"\[anarepo\.retry\] retry \d+ of ")
    return sum(len(pattern.findall(log.read_text(errors="replace"))) for log in logs)


def run_backend(name: str, scenarios, args) -> list[tuple]:
    factory, count = BACKENDS[name]
    rows = []
    for scenario, work in scenarios:
        workdir = Path(tempfile.mkdtemp(prefix=f"anarepo-bench-{name}-"))
        try:
            with ExitStack() as stack:
                cli_ini, inis = stack.enter_context(factory(workdir))
                token = init_site(cli_ini)
                urls, logs = [], []
                for n in range(count):
                    ini = (inis or [cli_ini] * count)[n]
                    port = free_port()
                    log = workdir / f"server-{n}.log"
                    stack.enter_context(process([PYTHON, "-c", SERVE, str(ini), str(port)], log, port))
                    urls.append(f"http://127.0.0.1:{port}")
                    logs.append(log)
                started = time.time()
                outcomes = load.run_on(urls, "alice", token, work)
                elapsed = time.time() - started
                tally = load.verify(urls[-1], "alice", token, outcomes)
                rows.append((name, scenario, tally, retries_in(logs), elapsed))
                print_row(rows[-1], flush=True)
                explain(outcomes, logs)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    return rows


def explain(outcomes, logs) -> None:
    """What went wrong, if anything: answers other than 200 and the servers' error lines."""
    for outcome in outcomes:
        if outcome.status != 200:
            print(f"    {outcome.status} {outcome.job.kind} {outcome.job.filename}: {outcome.body[:200]!r}")
    for log in logs:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith(("ERROR", "CRITICAL")) or "gave up" in line:
                print(f"    {log.name}: {line[:300]}")


HEADER = (f"{'backend':<12} {'scenario':<16} {'attempted':>9} {'acknowledged':>12} {'downloadable':>12} "
          f"{'lost':>5} {'listed-broken':>13} {'5xx':>5} {'retries':>8} {'seconds':>8}")


def print_row(row, flush=False) -> None:
    name, scenario, tally, retries, elapsed = row
    print(f"{name:<12} {scenario:<16} {tally.attempted:>9} {tally.acknowledged:>12} {tally.downloadable:>12} "
          f"{len(tally.lost):>5} {len(tally.listed_missing):>13} {tally.server_errors:>5} {retries:>8} "
          f"{elapsed:>8.1f}", flush=flush)


def crash_bench(rounds: int) -> bool:
    """SIGKILL mid-upload ``rounds`` times, then gc; True when everything holds."""
    workdir = Path(tempfile.mkdtemp(prefix="anarepo-bench-crash-"))
    try:
        ini = write_ini(workdir, "crash", f"file://{workdir}/var/Data.fs?blob_dir={workdir}/var/blobs")
        token = init_site(ini)
        started = time.time()
        outcomes = crash_rounds(ini, token, rounds)
        cli = [str(BIN / "anarepo"), "-c", str(ini)]
        gc = subprocess.run(cli + ["gc"], capture_output=True, text=True, env=CHILD_ENV)
        check = subprocess.run(cli + ["reindex", "--check", "-q"], capture_output=True, text=True, env=CHILD_ENV)
        left = debris(ini)
        with ExitStack() as stack:
            port = free_port()
            stack.enter_context(process([PYTHON, "-c", SERVE, str(ini), str(port)], workdir / "server.log", port))
            tally = load.verify(f"http://127.0.0.1:{port}", "alice", token, outcomes)
        print(f"\ncrash: {rounds} SIGKILL rounds in {time.time() - started:.0f} s; {tally.attempted} uploads answered,"
              f" {tally.acknowledged} acknowledged, {tally.downloadable} downloadable, {len(tally.lost)} lost,"
              f" {len(tally.listed_missing)} listed but broken")
        print("gc: " + "; ".join(gc.stdout.strip().splitlines()))
        print(f"reindex --check: exit {check.returncode}: {check.stdout.strip().splitlines()[-1:]}")
        print(f"left after gc: {len(left['temporary'])} temporary, {len(left['orphans'])} orphan blob files")
        return not (tally.lost or tally.listed_missing or check.returncode or left["temporary"] or left["orphans"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="filestorage,zeo,relstorage")
    parser.add_argument("--uploaders", type=int, default=16)
    parser.add_argument("--mixed-files", type=int, default=50)
    parser.add_argument("--hot-files", type=int, default=30)
    parser.add_argument("--crash-rounds", type=int, default=0, help="also N SIGKILL rounds on FileStorage")
    args = parser.parse_args()
    scenarios = [
        (f"mixed {args.uploaders}x{args.mixed_files}", mixed(args.uploaders, args.mixed_files)),
        (f"hot {args.uploaders}x{args.hot_files}", hot(args.uploaders, args.hot_files)),
    ]
    backends = [name.strip() for name in args.backends.split(",") if name.strip()]
    rows = []
    if backends:
        print(HEADER, flush=True)
        for name in backends:
            rows += run_backend(name, scenarios, args)
        print()
        print(HEADER)
        for row in rows:
            print_row(row)
    failed = [r for r in rows if r[2].lost or r[2].listed_missing or r[2].server_errors]
    crashed_ok = crash_bench(args.crash_rounds) if args.crash_rounds else True
    return 1 if failed or not crashed_ok else 0


if __name__ == "__main__":
    sys.exit(main())

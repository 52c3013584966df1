"""waitress "Task queue depth" warnings and wall time while uv installs many
packages at once, for several thread counts (development.ini's ``threads``).

uv fetches index pages and wheels over up to 50 parallel connections
(``UV_CONCURRENT_DOWNLOADS``); waitress logs ``Task queue depth is N`` on the
``waitress.queue`` logger for every request that arrives while no worker
thread is idle.  This serves one owner with N small projects from a fresh
database on a free port, runs ``uv pip install`` of all of them into an empty
target with no cache, and prints the number of warnings, the largest depth
and the wall time per thread count.

Run::

    .venv/bin/python bench/waitress_queue.py [--projects 60] [--threads 4 8 16 32]

Not part of the test suite; it prints figures and never asserts timings.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


class QueueRecords(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.depths = []

    def emit(self, record):
        match = re.search(r"(\d+)", record.getMessage())
        self.depths.append(int(match.group(1)) if match else 0)


def serve_and_install(workdir: Path, projects: int, threads: int) -> tuple[int, int, float]:
    from waitress.server import create_server

    from anarepo import main
    from anarepo.package_types.pypi import builders
    from anarepo.testing import AppHarness, make_settings

    harness = AppHarness(main({}, **make_settings(workdir, **{"zodbconn.uri": (
        f"file://{workdir}/var/Data.fs?blobstorage_dir={workdir}/var/blobs&connection_pool_size={max(8, threads)}")})))
    harness.make_user("alice")
    names = [f"bench-pkg-{i}" for i in range(projects)]
    for name in names:
        filename, data = builders.wheel(name, "1.0")
        harness.upload("alice", filename, data)
    records = QueueRecords()
    queue_logger = logging.getLogger("waitress.queue")
    queue_logger.addHandler(records)
    server = create_server(harness.wsgi_app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.effective_port}/pypi/alice/simple"
    env = {**os.environ, "UV_CACHE_DIR": str(workdir / "uv-cache"), "UV_NO_CACHE": "1"}
    uv = Path(sys.executable).with_name("uv")
    started = time.perf_counter()
    subprocess.run([str(uv), "pip", "install", "--index-url", url, "--target", str(workdir / "target"),
                    "--python", sys.executable, "--no-deps", *names], check=True, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    server.close()
    thread.join(timeout=5)
    queue_logger.removeHandler(records)
    harness.close()
    return len(records.depths), max(records.depths, default=0), elapsed


def main_():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--projects", type=int, default=60)
    parser.add_argument("--threads", type=int, nargs="+", default=[4, 8, 16, 32])
    args = parser.parse_args()
    logging.getLogger("waitress.queue").setLevel(logging.WARNING)
    logging.getLogger("waitress.queue").propagate = False
    print(f"uv pip install of {args.projects} projects (index pages + wheels), no cache")
    print(f"{'threads':>7} {'warnings':>9} {'max depth':>9} {'wall s':>7}")
    for threads in args.threads:
        with tempfile.TemporaryDirectory() as tmp:
            count, depth, elapsed = serve_and_install(Path(tmp), args.projects, threads)
        print(f"{threads:>7} {count:>9} {depth:>9} {elapsed:>7.2f}")


if __name__ == "__main__":
    main_()

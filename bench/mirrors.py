"""Mirror and proxy figures against local upstreams (no network beyond 127.0.0.1).

* a conda upstream of ``--conda-files`` packages (noarch, indexed by rattler-index)
  and a PyPI upstream with one project of ``--pypi-files`` wheels (a static PEP 503
  tree), both served by nginx (tests/upstreams.py);
* first full ``sync`` of each into a fresh anarepo, then a resync with nothing
  changed, then a resync after ``--changed`` new files upstream;
* peak RSS of this process during the first sync (sampled from /proc every 20 ms);
* wall and CPU time of each step (CPU time is the fairer figure on a shared machine);
* latency of a proxied file that is already cached vs a locally uploaded one
  (median of ``--rounds`` GETs through waitress with a keep-alive client).

    .venv/bin/python bench/mirrors.py [--conda-files 10000] [--pypi-files 2000] [--changed 10]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from anarepo import main as make_app  # noqa: E402
from anarepo.package_types.pypi.builders import wheel  # noqa: E402
from anarepo.sources.service import add_source  # noqa: E402
from anarepo.sources.sync import sync  # noqa: E402
from anarepo.testing import AppHarness, LiveServer, make_settings  # noqa: E402
from tests.conda_builders import build_package  # noqa: E402
from tests.upstreams import StaticUpstream, touch_later, write_simple_tree  # noqa: E402


class PeakRSS:
    def __init__(self):
        self.peak = self.base = self.now()
        self.running = True
        self.thread = threading.Thread(target=self.sample, daemon=True)

    @staticmethod
    def now() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def sample(self):
        while self.running:
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def conda_channel(directory: Path, count: int, start: int = 0) -> None:
    """``count`` small noarch packages: 100 names x versions, like a real channel's spread."""
    (directory / "noarch").mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        fn, data = build_package(f"pkg{i % 100:03d}", f"1.{i // 100}", "0")
        (directory / "noarch" / fn).write_bytes(data)


def index(directory: Path) -> None:
    from rattler.index import index_fs

    asyncio.run(index_fs(directory, force=True, write_shards=False))
    touch_later(directory)


def timed(label, func):
    """Wall and CPU seconds (this process: the sync and the in-process upstream) of ``func``."""
    started, cpu = time.perf_counter(), time.process_time()
    result = func()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"{label:<58} {seconds:8.2f} s  (cpu {cpu:6.2f} s)  {summary(result)}", flush=True)
    return result


def summary(run) -> str:
    if not isinstance(run, dict):
        return ""
    return f"(added {run['added']}, removed {run['removed']}, unchanged {run['unchanged']}, failed {run['failed']})"


def latency(session, url, rounds) -> float:
    for _ in range(10):
        session.get(url).raise_for_status()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = session.get(url)
        response.raise_for_status()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--conda-files", type=int, default=10_000)
    parser.add_argument("--pypi-files", type=int, default=2_000)
    parser.add_argument("--changed", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="anarepo-bench-mirrors-"))
    print(f"work dir {tmp}")

    channel = tmp / "channel"
    timed(f"build {args.conda_files} conda packages", lambda: conda_channel(channel, args.conda_files))
    timed("rattler-index the upstream channel", lambda: index(channel))
    files = dict(wheel("bigproject", f"0.{i}", module="bigproject") for i in range(args.pypi_files))
    timed(f"build the PyPI tree ({args.pypi_files} wheels)", lambda: write_simple_tree(tmp / "pypi", files))
    conda_up, pypi_up = StaticUpstream(channel), StaticUpstream(tmp / "pypi")

    harness = AppHarness(make_app({}, **make_settings(tmp / "server")))
    harness.make_user("alice")
    with harness.root() as root:
        alice = root.owners["alice"]
        add_source(alice, "conda", "conda", conda_up.url, label="mirror")
        add_source(alice, "pypi", "pypi", pypi_up.url, label="mirror", filters={"names": ["bigproject"]})
        add_source(alice, "proxy", "conda", conda_up.url, mode="proxy", label="proxy",
                   filters={"names": ["pkg000"]})
    registry = harness.registry

    def first_sync(kind, count):
        print()
        with PeakRSS() as rss:
            timed(f"{kind}: first full sync ({count} files)",
                  lambda: sync(registry, "alice", kind, workers=args.workers))
        print(f"{kind + ': peak RSS during the first sync':<58} {rss.peak / 1024:8.1f} MiB "
              f"(+{(rss.peak - rss.base) / 1024:.1f} MiB over {rss.base / 1024:.1f})")

    first_sync("conda", args.conda_files)
    timed("conda: resync, nothing changed (304)", lambda: sync(registry, "alice", "conda"))
    conda_channel(channel, args.changed, start=args.conda_files)
    timed("  (rattler-index after the change; upstream side)", lambda: index(channel))
    timed(f"conda: resync after {args.changed} new files", lambda: sync(registry, "alice", "conda"))

    first_sync("pypi", args.pypi_files)
    timed("pypi: resync, nothing changed", lambda: sync(registry, "alice", "pypi"))
    more = dict(wheel("bigproject", f"1.{i}", module="bigproject") for i in range(args.changed))
    write_simple_tree(tmp / "pypi", {**files, **more})
    touch_later(tmp / "pypi" / "simple")
    timed(f"pypi: resync after {args.changed} new files", lambda: sync(registry, "alice", "pypi"))

    print()
    fn, data = build_package("localpkg", "1.0", "0")
    harness.upload("alice", f"noarch/{fn}", data)
    live = LiveServer(harness.wsgi_app).start()
    session = requests.Session()
    session.get(f"{live.url}/conda/alice/label/proxy/noarch/repodata.json").raise_for_status()
    proxied = f"{live.url}/conda/alice/label/proxy/noarch/pkg000-1.0-0.tar.bz2"
    first = time.perf_counter()
    session.get(proxied).raise_for_status()
    print(f"{'proxy: first request of a file (fetch + verify + store)':<58} "
          f"{(time.perf_counter() - first) * 1000:8.2f} ms")
    hit = latency(session, proxied, args.rounds)
    local = latency(session, f"{live.url}/conda/alice/noarch/{fn}", args.rounds)
    print(f"{'proxy: cached file, median GET':<58} {hit:8.2f} ms")
    print(f"{'local upload, median GET':<58} {local:8.2f} ms")
    index_hit = latency(session, f"{live.url}/conda/alice/label/proxy/noarch/repodata.json", args.rounds)
    print(f"{'proxy: repodata.json within its TTL, median GET':<58} {index_hit:8.2f} ms")
    live.stop()
    conda_up.stop()
    pypi_up.stop()
    harness.close()


if __name__ == "__main__":
    main()

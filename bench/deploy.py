"""The generated deployment under load: 1 and 2 app processes behind nginx (ZEO).

Builds a site exactly as docs/operations.md does (``anarepo gen-config``, ZEO,
``anarepo init``, ``anarepo serve --port`` per process, nginx from the generated
config with X-Accel-Redirect), loads conda channels of 2,000 and 50,000 files
(``--sizes``), uploads a 100 MB file, and prints requests/s measured with ``wrk``
(Debian) for:

* a warm ``repodata.json`` of each channel (anonymous: the replay path);
* a simple page (``/pypi/bench/simple/one/``, one file);
* the 100 MB download (nginx sends it through X-Accel-Redirect);

each through nginx in front of 1 process and of 2 processes, next to nginx serving
the very same bytes from a file (the ceiling), interleaved round by round (medians):
the machine is shared, so only ratios measured back to back mean something.  Public
documents are published files nginx sends alone (anarepo/deploy/published.py); the
"app path" column is the same document with an ``Accept`` nginx can not key on, so
the app answers it (the figure without publication).  Then the cost of read-your-writes:
the ZEO round trip every request makes (``server-sync``), and the anonymous-read
staleness right after an upload (target 0): N uploads, each followed at once by
anonymous reads through nginx (round robin over both processes).

    .venv/bin/python bench/deploy.py [--sizes 2000 50000] [--duration 10]

Not part of the test suite; it prints figures and asserts nothing.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.conda_channel import write_channel  # noqa: E402
from tests.deploy.services import Nginx, free_port  # noqa: E402
from tests.deploy.site import DeploySite  # noqa: E402

import requests  # noqa: E402


def wrk(url: str, duration: int, connections: int, headers=()) -> float:
    args = ["wrk", f"-t{min(2, connections)}", f"-c{connections}", f"-d{duration}s"]
    for h in headers:
        args += ["-H", h]
    out = subprocess.run(args + [url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        print(f"  ! {errors.group(1)} non-2xx answers for {url}")
    return float(match.group(1))


def nginx_for(site, ports: list[int], directory: str):
    """nginx from the generated config, over ``ports`` only, plus /static-copy/ (the ceiling)."""
    from anarepo.deploy.config import Site, nginx_conf

    port = free_port()
    gen = Site(out=site.etc, var=os.path.join(site.dir, "var"), ports=ports, listen=f"127.0.0.1:{port}")
    conf = nginx_conf(gen).rstrip().rstrip("}") + f"""
    location ^~ /static-copy/ {{
        alias {directory}/static-copy/;
        sendfile on;
        tcp_nopush on;
    }}
}}
"""
    path = os.path.join(directory, f"site-{len(ports)}.conf")
    with open(path, "w") as f:
        f.write(conf)
    return Nginx(os.path.join(directory, f"nginx-{len(ports)}"), path, port).start()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 50000])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--staleness-rounds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved measurement rounds (median)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="anarepo-bench-deploy-")
    site = DeploySite(Path(work) / "site", "zeo")
    os.makedirs(site.dir)
    site.start()
    fronts = []
    try:
        site.anarepo("user", "add", "bench", "--email", "b@example.com", "--password-stdin",
                     input="correct-horse-battery\n")
        token = site.anarepo("token", "create", "bench", "--name", "bench")
        static = Path(work) / "static-copy"
        static.mkdir()
        documents = {}
        for n in args.sizes:
            channel = Path(work) / f"channel{n}"
            write_channel(channel, n)
            site.anarepo("user", "add", f"bench{n}", "--email", f"b{n}@example.com", "--password-stdin",
                         input="correct-horse-battery\n")
            t0 = time.perf_counter()
            site.anarepo("import", str(channel), "--owner", f"bench{n}", "-q", timeout=3600)
            print(f"loaded {n} files in {time.perf_counter() - t0:.0f} s")
            path = f"/conda/bench{n}/linux-64/repodata.json"
            body = requests.get(site.url + path, timeout=300).content
            (static / f"repodata{n}.json").write_bytes(body)
            documents[f"repodata.json {n} files ({len(body) / 1e6:.1f} MB)"] = (path, f"/static-copy/repodata{n}.json")
        big = Path(work) / "big.bin"
        big.write_bytes(os.urandom(100 << 20))
        subprocess.run([os.path.join(os.path.dirname(sys.executable), "anarepo"), "upload", "--url", site.url + "/api",
                        "-t", token, "-p", "big", "-v", "1", "--package-type", "file", "--no-progress", str(big)],
                       check=True, capture_output=True, env=site.env)
        os.link(big, static / "big.bin")
        from anarepo.package_types.pypi import builders
        from tests.functional.pypi.conftest import basic, upload_fields

        fn, data = builders.wheel("one", "1.0")
        requests.post(f"{site.url}/pypi/bench/", data=upload_fields(fn, data, "one", "1.0"),
                      files={"content": (fn, data)}, headers=basic(token), timeout=60).raise_for_status()
        page = requests.get(f"{site.url}/pypi/bench/simple/one/", timeout=30).content
        (static / "page.html").write_bytes(page)
        documents["simple page (PyPI project, 1 file)"] = ("/pypi/bench/simple/one/", "/static-copy/page.html")
        documents["100 MB download (X-Accel-Redirect)"] = ("/bench/big/1/download/big.bin", "/static-copy/big.bin")

        fronts = [nginx_for(site, site.ports[:1], work), nginx_for(site, site.ports, work)]
        print(f"\nrequests/s, wrk -t2 -c{args.connections} -d{args.duration}s, median of {args.rounds} rounds; in each"
              " round nginx static, 1 process, 2 processes and the app path are measured back to back;"
              " 2 CPU cores shared by everything (and by other engineers' test suites)")
        print(f"{'':44} {'1 process':>10} {'2 processes':>12} {'2p, app path':>13} {'nginx static':>13}"
              f" {'1p/static':>10} {'2p/static':>10}")
        for name, (path, static_path) in documents.items():
            requests.get(f"http://127.0.0.1:{fronts[1].port}{path}", timeout=300)
            served = requests.get(f"http://127.0.0.1:{fronts[1].port}{path}", timeout=300)
            by = served.headers.get("X-Anarepo-Document", "app")
            rounds = {"static": [], "1p": [], "2p": [], "app": []}
            for _ in range(args.rounds):
                rounds["static"].append(wrk(f"http://127.0.0.1:{fronts[1].port}{static_path}", args.duration,
                                            args.connections))
                rounds["1p"].append(wrk(f"http://127.0.0.1:{fronts[0].port}{path}", args.duration, args.connections))
                rounds["2p"].append(wrk(f"http://127.0.0.1:{fronts[1].port}{path}", args.duration, args.connections))
                # the same document through the app (an Accept nginx can not key on): without publication
                rounds["app"].append(wrk(f"http://127.0.0.1:{fronts[1].port}{path}", args.duration, args.connections,
                                         ["Accept: application/json, text/html;q=0.9"])
                                     if by == "published" else float("nan"))
            m = {k: statistics.median(v) for k, v in rounds.items()}
            print(f"{name + ' [' + by + ']':44} {m['1p']:10.0f} {m['2p']:12.0f} {m['app']:13.0f} {m['static']:13.0f}"
                  f" {m['1p'] / m['static']:10.2f} {m['2p'] / m['static']:10.2f}")

        auth = [f"Authorization: token {token}"]
        url = f"http://127.0.0.1:{fronts[1].port}/api/user"
        print(f"\nauthenticated GET /api/user, 2 processes: {wrk(url, args.duration, args.connections, auth):.0f} requests/s")
        one = wrk(url, args.duration, 1, auth)
        trip = round_trip(site)
        print(f"ZEO round trip (server-sync, once per request): median {trip * 1e6:.0f} µs = "
              f"{trip * one * 100:.0f} % of one authenticated request's {1e6 / one:.0f} µs (1 connection)")
        print_staleness(site, token, args.staleness_rounds)
    finally:
        for front in fronts:
            front.stop()
        site.stop()


def round_trip(site) -> float:
    """What read-your-writes costs on ZEO: one server round trip per request (median, s)."""
    import ZODB.config

    db = ZODB.config.databaseFromURL(os.path.join(site.etc, "zodb.conf"))
    try:
        storage = db.storage
        for _ in range(200):
            storage.ping()
        times = []
        for _ in range(2000):
            t0 = time.perf_counter()
            storage.ping()
            times.append(time.perf_counter() - t0)
        return statistics.median(times)
    finally:
        db.close()


def print_staleness(site, token, rounds: int) -> None:
    from anarepo.package_types.pypi import builders
    from tests.functional.pypi.conftest import basic, upload_fields

    stale = reads = 0
    for i in range(rounds):
        fn, data = builders.wheel("fresh", f"1.{i}")
        requests.post(f"{site.url}/pypi/bench/", data=upload_fields(fn, data, "fresh", f"1.{i}"),
                      files={"content": (fn, data)}, headers=basic(token), timeout=60).raise_for_status()
        for _ in range(4):  # round robin: each process twice
            reads += 1
            stale += fn not in requests.get(f"{site.url}/pypi/bench/simple/fresh/", timeout=30).text
    print(f"anonymous reads right after an upload: {stale} stale of {reads} ({rounds} uploads, 2 processes)")


if __name__ == "__main__":
    main()

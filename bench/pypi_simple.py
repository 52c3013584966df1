"""Simple-page throughput: anarepo vs pypiserver vs devpi-server vs nginx (static).

One project with N files (default 2,000: 1,000 versions × wheel + sdist) is
loaded into each server; ``wrk`` then hammers the project's simple page
(PEP 503 HTML and, where the server has it, PEP 691 JSON) and the figures are
printed.  nginx serves the very bytes anarepo rendered (plain and
pre-compressed, ``gzip_static``), so it is the ceiling for this machine.

Setup (once)::

    apt-get install -y nginx-light wrk
    python3 -m venv bench/.venv && bench/.venv/bin/pip install pypiserver devpi-server devpi-client

Run::

    .venv/bin/python bench/pypi_simple.py [--files 2000] [--duration 10] [--connections 16]

Not part of the test suite; it prints figures and never asserts timings.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCH_BIN = HERE / ".venv" / "bin"
PROJECT = "bigproject"
JSON_TYPE = "application/vnd.pypi.simple.v1+json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 60.0, headers=None) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=5):
                return
        except Exception:
            if time.time() > deadline:
                raise
            time.sleep(0.2)


def fetch(url: str, headers=None) -> bytes:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=120) as r:
        return r.read()


# -- the files ------------------------------------------------------------------------------------
def make_files(directory: Path, count: int) -> list[Path]:
    from anarepo.package_types.pypi import builders

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count // 2):
        version = f"1.{i}.0"
        for maker in (builders.wheel, builders.sdist):
            filename, data = maker(PROJECT, version)
            path = directory / filename
            path.write_bytes(data)
            paths.append(path)
    return paths


# -- anarepo ----------------------------------------------------------------------------------------
def load_anarepo(datadir: Path, files: list[Path], uri: str | None = None) -> dict:
    """Publish every file through the plugin's upload path (inspect, check, publish, index)."""
    from anarepo import main
    from anarepo.services.publishing import inspect_upload, publish
    from anarepo.storage import blob_tmpdir, spool_file
    from anarepo.testing import AppHarness, make_settings

    harness = AppHarness(main({}, **make_settings(datadir, **({"zodbconn.uri": uri} if uri else {}))))
    harness.make_user("bench")
    ptype = harness.registry.package_types["pypi"]
    batch, times = 100, []
    for start in range(0, len(files), batch):
        t0 = time.perf_counter()
        with harness.root() as root:
            owner = root.owners["bench"]
            for path in files[start:start + batch]:
                spooled = spool_file(str(path), blob_tmpdir(harness.db), 1 << 30)
                info = inspect_upload(ptype, spooled.path, path.name)
                publish(owner, spooled, ptype, info, uploader="bench", operator=harness.registry)
        times.append((time.perf_counter() - t0) / len(files[start:start + batch]))
    harness.close()
    return {"first_ms": times[0] * 1000, "last_ms": times[-1] * 1000}


ANAREPO_SERVER = """
import socket, sys
from waitress import serve
from anarepo import main
from anarepo.testing import make_settings
from pathlib import Path
datadir, fd, threads, send_bytes, uri = sys.argv[1:6]
extra = {"zodbconn.uri": uri} if uri != "-" else {}
app = main({}, **make_settings(Path(datadir), **extra))
sock = socket.socket(fileno=int(fd))
serve(app, sockets=[sock], threads=int(threads), _quiet=True, connection_limit=1000,
      send_bytes=int(send_bytes))
"""

STATIC_WAITRESS = """
import gzip, socket, sys
from waitress import serve
from anarepo.http.bodies import body_iter  # the same zero-copy body anarepo sends
pages = {}
for kind, path, ctype in (("html", sys.argv[2], "text/html"), ("json", sys.argv[3], "application/vnd.pypi.simple.v1+json")):
    body = open(path, "rb").read()
    pages[kind] = (ctype, body, gzip.compress(body, compresslevel=6, mtime=0))
def app(environ, start_response):
    ctype, body, gz = pages["json" if "json" in environ.get("PATH_INFO", "") else "html"]
    headers = [("Content-Type", ctype)]
    if "gzip" in environ.get("HTTP_ACCEPT_ENCODING", ""):
        body = gz
        headers.append(("Content-Encoding", "gzip"))
    headers.append(("Content-Length", str(len(body))))
    start_response("200 OK", headers)
    return body_iter(environ, body)
serve(app, sockets=[socket.socket(fileno=int(sys.argv[1]))], threads=int(sys.argv[4]), _quiet=True,
      send_bytes=int(sys.argv[5]))
"""


def start_static_waitress(procs, workdir: Path, html: bytes, json_body: bytes, processes: int, threads: int,
                          send_bytes: int) -> str:
    """The same bytes from a trivial WSGI app under waitress: the ceiling of any
    pure-Python server on this stack, to tell waitress's share from anarepo's."""
    (workdir / "page.html").write_bytes(html)
    (workdir / "page.json").write_bytes(json_body)
    base = start_on_one_socket(procs, processes, lambda fd: [
        sys.executable, "-c", STATIC_WAITRESS, fd, workdir / "page.html", workdir / "page.json", threads, send_bytes])
    wait_for(base + "/html")
    return base


def start_on_one_socket(procs, processes: int, command) -> str:
    """Pre-fork style: ``processes`` servers accepting on one listening socket."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    port = sock.getsockname()[1]
    for _ in range(processes):
        procs.start(command(sock.fileno()), pass_fds=(sock.fileno(),))
    sock.close()
    return f"http://127.0.0.1:{port}"


ZEO_CONF = """
<zeo>
  address 127.0.0.1:{port}
</zeo>
<filestorage 1>
  path {dir}/Data.fs
  blob-dir {dir}/blobs
</filestorage>
"""


def zeo_uri(port: int, datadir: Path) -> str:
    return (f"zeo://127.0.0.1:{port}?blob_dir={datadir}/blobs&shared_blob_dir=true"
            "&connection_pool_size=16&cache_size=256MB")


def start_anarepo(procs, datadir: Path, processes: int, threads: int, send_bytes: int, uri: str = "-") -> str:
    """``processes`` waitress processes accepting on one pre-bound socket (one per core)."""
    return start_on_one_socket(procs, processes, lambda fd: [
        sys.executable, "-c", ANAREPO_SERVER, datadir, fd, threads, send_bytes, uri])


# -- load generator ------------------------------------------------------------------------------------
def wrk(url: str, duration: int, connections: int, threads: int, headers: dict) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "60s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(\w+)", out)
    p50 = re.search(r"50%\s+([\d.]+)(\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+)(\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": rps, "transfer": transfer.group(1) + transfer.group(2) if transfer else "?",
            "p50": p50.group(1) + p50.group(2) if p50 else "?", "p99": p99.group(1) + p99.group(2) if p99 else "?",
            "errors": (int(errors.group(1)) if errors else 0)
            + (sum(int(g) for g in socket_errors.groups()) if socket_errors else 0)}


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, cmd, **kw):
        proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kw)
        self.procs.append(proc)
        return proc

    def stop_all(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


NGINX_CONF = """
daemon off;
worker_processes auto;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ }}
    server {{
        listen 127.0.0.1:{port};
        root {root};
        gzip_static on;
        location /html/ {{ default_type text/html; }}
        location /json/ {{ default_type application/vnd.pypi.simple.v1+json; }}
    }}
}}
"""


def setup_nginx(procs: Procs, workdir: Path, html: bytes, json_body: bytes) -> str:
    import gzip

    root = workdir / "static"
    for kind, body in (("html", html), ("json", json_body)):
        d = root / kind / PROJECT
        d.mkdir(parents=True)
        (d / "index").write_bytes(body)
        (d / "index.gz").write_bytes(gzip.compress(body, compresslevel=6, mtime=0))
    port = free_port()
    prefix = workdir / "nginx"
    prefix.mkdir()
    (prefix / "nginx.conf").write_text(NGINX_CONF.format(prefix=prefix, port=port, root=root))
    procs.start(["nginx", "-p", prefix, "-c", prefix / "nginx.conf"])
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/html/{PROJECT}/index")
    return base


def setup_pypiserver(procs: Procs, files_dir: Path) -> str:
    port = free_port()
    procs.start([BENCH_BIN / "pypi-server", "run", "-p", port, "-i", "127.0.0.1", "-a", ".", "-P", ".",
                 "--disable-fallback", "--hash-algo", "sha256", files_dir])
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/simple/{PROJECT}/", timeout=120)
    return base


def devpi_export(export: Path, files: list[Path]) -> None:
    """devpi's own export format (``devpi-export``'s ``dataindex.json`` + files):
    uploading 2,000 files one by one takes devpi-server the better part of an hour
    here (each upload costs more as the project grows), ``devpi-import`` minutes."""
    from argon2 import PasswordHasher

    from anarepo.package_types.pypi.inspect import read_metadata

    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    when = list(time.gmtime()[:6])
    versions, entries = {}, []
    for path in files:
        core = read_metadata(path, path.name)
        versions[core.version] = {
            "name": core.name, "version": core.version, "metadata_version": core.metadata_version,
            "summary": core.summary, "license": core.license, "description": core.description,
            "requires_python": core.requires_python or "", "requires_dist": core.requires_dist,
        }
        relpath = f"bench/dev/{PROJECT}/{core.version}/{path.name}"
        target = export / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        entries.append({
            "version": core.version, "type": "releasefile", "projectname": PROJECT, "relpath": relpath,
            "entrymapping": {"last_modified": time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime()),
                             "hash_spec": f"sha256={digest}", "hashes": {"sha256": digest},
                             "project": PROJECT, "version": core.version},
            "log": [{"what": "upload", "who": "bench", "when": when, "dst": "bench/dev"}],
        })
    pwhash = PasswordHasher().hash("bench")
    index = {
        "dumpversion": "2", "pythonversion": list(sys.version_info), "devpi_server": "6.20.3",
        "users": {name: {"pwhash": pwhash, "created": now, "username": name} for name in ("root", "bench")},
        "indexes": {"bench/dev": {
            "indexconfig": {"bases": [], "mirror_whitelist_inheritance": "intersection",
                            "acl_toxresult_upload": [":ANONYMOUS:"], "volatile": True, "acl_upload": ["bench"],
                            "mirror_whitelist": [], "type": "stage"},
            "projects": {PROJECT: versions},
            "files": entries,
        }},
    }
    (export / "dataindex.json").write_text(json.dumps(index))


def setup_devpi(procs: Procs, workdir: Path, files: list[Path], threads: int) -> str:
    serverdir, export = workdir / "devpi-server", workdir / "devpi-export"
    devpi_export(export, files)
    t0 = time.perf_counter()
    subprocess.run([BENCH_BIN / "devpi-import", "--serverdir", serverdir, "--no-root-pypi", export], check=True,
                   capture_output=True)
    print(f"devpi-server: {len(files)} files imported (devpi-import) in {time.perf_counter() - t0:.1f}s", flush=True)
    port = free_port()
    procs.start([BENCH_BIN / "devpi-server", "--serverdir", serverdir, "--port", port, "--host", "127.0.0.1",
                 "--offline-mode", "--threads", threads])
    base = f"http://127.0.0.1:{port}"
    wait_for(base + "/+api")
    return f"{base}/bench/dev/+simple"


def main_bench(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="wrk runs per measurement (best is kept)")
    parser.add_argument("--server-threads", type=int, default=8)
    parser.add_argument("--send-bytes", type=int, default=262144, help="waitress send_bytes")
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                        help="anarepo waitress processes (more than one: on a ZEO server)")
    parser.add_argument("--skip", action="append", default=[], help="pypiserver, devpi, nginx or waitress")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="pypi-bench-"))
    workdir.chmod(0o755)  # nginx workers run as an unprivileged user
    procs = Procs()
    results = []
    try:
        t0 = time.perf_counter()
        files = make_files(workdir / "files", args.files)
        print(f"{len(files)} files of {PROJECT} built in {time.perf_counter() - t0:.1f}s", flush=True)

        t0 = time.perf_counter()
        uri = None
        if args.processes > 1:  # several processes share a ZEO server, as production.ini does
            zeo_dir = workdir / "zeo"
            (zeo_dir / "blobs").mkdir(parents=True)
            zeo_port = free_port()
            (zeo_dir / "zeo.conf").write_text(ZEO_CONF.format(port=zeo_port, dir=zeo_dir))
            procs.start([Path(sys.executable).with_name("runzeo"), "-C", zeo_dir / "zeo.conf"])
            deadline = time.time() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", zeo_port), timeout=1).close()
                    break
                except OSError:
                    if time.time() > deadline:
                        raise
                    time.sleep(0.1)
            uri = zeo_uri(zeo_port, zeo_dir)
        load = load_anarepo(workdir / "anarepo", files, uri)
        print(f"anarepo: published and indexed in {time.perf_counter() - t0:.1f}s; per upload (incl. index"
              f" update): first 100 {load['first_ms']:.1f} ms, last 100 {load['last_ms']:.1f} ms", flush=True)
        base = start_anarepo(procs, workdir / "anarepo", args.processes, args.server_threads, args.send_bytes,
                             uri or "-")
        anarepo = f"{base}/pypi/bench/simple/{PROJECT}/"
        wait_for(anarepo)
        t0 = time.perf_counter()
        fetch(anarepo + "?format=" + JSON_TYPE)
        cold = (time.perf_counter() - t0) * 1000
        html = fetch(anarepo)
        json_body = fetch(anarepo, {"Accept": JSON_TYPE})
        assert len(json.loads(json_body)["files"]) == len(files)
        print(f"anarepo: page sizes HTML {len(html):,} B, JSON {len(json_body):,} B; first JSON render"
              f" (cold cache) {cold:.0f} ms", flush=True)

        def measure(name, html_url, json_url):
            """wrk on one server while it is the only one running (others would steal CPU)."""
            for url, headers in ((html_url, {"Accept": "text/html"}), (json_url, {"Accept": JSON_TYPE})):
                if url is not None:  # every server lists every file
                    listed = fetch(url, headers).count(b".whl")
                    assert listed >= len(files) // 2, (name, url, listed)
            for fmt, url, headers in (("HTML", html_url, {"Accept": "text/html"}),
                                      ("JSON", json_url, {"Accept": JSON_TYPE})):
                if url is None:
                    continue
                for encoding in ("identity", "gzip"):
                    fetch(url, headers)  # warm
                    runs = [wrk(url, args.duration, args.connections, args.wrk_threads,
                                {**headers, "Accept-Encoding": encoding}) for _ in range(args.repeat)]
                    r = max(runs, key=lambda run: run["rps"])  # best of N: the host is shared
                    results.append((name, fmt, encoding, r))
                    print(f"{name:24} {fmt:4} {encoding:8} {r['rps']:9.1f} req/s  {r['transfer']:>9}/s"
                          f"  p50 {r['p50']:>8}  p99 {r['p99']:>8}  errors {r['errors']}", flush=True)

        measure("anarepo", anarepo, anarepo)
        procs.stop_all()
        others = [
            ("nginx (static bytes)", lambda p: (lambda b: (f"{b}/html/{PROJECT}/index", f"{b}/json/{PROJECT}/index"))(
                setup_nginx(p, workdir, html, json_body))),
            ("waitress (static bytes)", lambda p: (lambda b: (f"{b}/html", f"{b}/json"))(
                start_static_waitress(p, workdir, html, json_body, args.processes, args.server_threads,
                                      args.send_bytes))),
            ("pypiserver", lambda p: (f"{setup_pypiserver(p, workdir / 'files')}/simple/{PROJECT}/", None)),
            ("devpi-server", lambda p: (lambda u: (u, u))(f"{setup_devpi(p, workdir, files, args.server_threads)}"
                                                          f"/{PROJECT}/")),
        ]
        skip = {"nginx (static bytes)": "nginx", "waitress (static bytes)": "waitress",
                "pypiserver": "pypiserver", "devpi-server": "devpi"}
        for name, setup in others:
            if skip[name] in args.skip:
                continue
            group = Procs()
            try:
                html_url, json_url = setup(group)
                wait_for(html_url)
                measure(name, html_url, json_url)
            finally:
                group.stop_all()
    finally:
        procs.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)

    print("\nSummary (requests/s; ratio to nginx serving the same bytes; ratio to pypiserver's HTML):")
    ceiling = {(fmt, enc): r["rps"] for name, fmt, enc, r in results if name.startswith("nginx")}
    pypiserver = {enc: r["rps"] for name, fmt, enc, r in results if name == "pypiserver"}
    for name, fmt, enc, r in results:
        base = ceiling.get((fmt, enc))
        ratio = f"{r['rps'] / base:6.3f}x nginx" if base else "      -      "
        slow = pypiserver.get(enc)
        vs = f"{r['rps'] / slow:8.1f}x pypiserver" if slow else ""
        print(f"  {name:24} {fmt:4} {enc:8} {r['rps']:9.1f}  {ratio}  {vs}")
    print(f"\nmachine: {os.cpu_count()} CPUs; wrk -t{args.wrk_threads} -c{args.connections} -d{args.duration}s"
          f" on the same host; anarepo: {args.processes} waitress process(es) x {args.server_threads} threads"
          f"{' on ZEO' if args.processes > 1 else ' on FileStorage'}, send_bytes {args.send_bytes};"
          " nginx: worker_processes auto")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main_bench()

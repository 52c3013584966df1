"""Local upstreams for mirror and proxy tests: a static conda channel indexed by
rattler-index and a static PEP 503 tree, served by nginx on a free loopback port
(tests/deploy/services.py starts it), with switches that make the upstream misbehave
on purpose: a path with a rule is handed by nginx to a small Python server that
misbehaves as told; every request is read back from nginx's access log."""
from __future__ import annotations

import hashlib
import html
import os
import signal
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote


class Rules(dict):
    """Path -> rule; each rule leaves a marker file nginx checks (``if (-f ...)``), so
    that nginx sends that path (``*``: every path) to the misbehaving server."""

    def __init__(self, markers: Path):
        super().__init__()
        self.markers = markers

    def _marker(self, path: str) -> Path:
        return self.markers / "__all__.rule" if path == "*" else Path(str(self.markers) + path + ".rule")

    def __setitem__(self, path, rule):
        super().__setitem__(path, rule)
        marker = self._marker(path)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()

    def __delitem__(self, path):
        super().__delitem__(path)
        self._marker(path).unlink(missing_ok=True)

    def clear(self):
        for path in list(self):
            del self[path]


class Misbehave:
    """Per-path behaviour (``rules``): ``status``, ``hang``, ``truncate``, ``redirect``
    (an absolute URL), ``body`` (bytes instead of the file) with ``content_type``,
    ``drip`` (seconds over which the file trickles out); ``requests``: every
    (path, If-Modified-Since) nginx answered, in order."""

    def __init__(self, markers: Path, log: Path):
        self.rules = Rules(markers)
        self.log = log
        self.offset = 0
        self.in_flight: list[tuple[str, str]] = []  # at the misbehaving server: nginx logs at the end
        self.lock = threading.Lock()

    @property
    def requests(self) -> list[tuple[str, str]]:
        try:
            with open(self.log) as f:
                f.seek(self.offset)
                lines = f.read().splitlines()
        except FileNotFoundError:
            return []
        out = []
        for line in lines:
            uri, _, since = line.partition("|")
            out.append((uri.split("?", 1)[0], "" if since == "-" else since))
        with self.lock:
            return out + self.in_flight

    def clear(self):
        self.rules.clear()
        self.offset = os.path.getsize(self.log) if os.path.exists(self.log) else 0


class Handler(SimpleHTTPRequestHandler):
    misbehave: Misbehave = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        entry = (self.path.split("?", 1)[0], self.headers.get("If-Modified-Since") or "")
        with self.misbehave.lock:
            self.misbehave.in_flight.append(entry)
        try:
            self.misbehave_or_serve(entry[0])
        finally:
            with self.misbehave.lock:
                self.misbehave.in_flight.remove(entry)

    def misbehave_or_serve(self, path):
        rule = self.misbehave.rules.get(path) or self.misbehave.rules.get("*") or {}
        if rule.get("hang"):
            time.sleep(rule["hang"])
        if rule.get("status"):
            self.send_response(rule["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if rule.get("redirect"):
            self.send_response(302)
            self.send_header("Location", rule["redirect"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if rule.get("drip"):  # the whole file, in ten pieces spread over ``drip`` seconds
            body = Path(self.translate_path(path)).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            step = len(body) // 10 + 1
            for start in range(0, len(body), step):
                time.sleep(rule["drip"] / 10)
                self.wfile.write(body[start:start + step])
                self.wfile.flush()
            return
        if "body" in rule or rule.get("truncate"):
            body = rule.get("body")
            if body is None:
                body = Path(self.translate_path(path)).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            if rule.get("content_type"):
                self.send_header("Content-Type", rule["content_type"])
            self.end_headers()
            self.wfile.write(body[: len(body) // 2] if rule.get("truncate") else body)
            if rule.get("truncate"):
                self.close_connection = True
            return
        super().do_GET()


SITE = """\
log_format anarepo_upstream '$request_uri|$http_if_modified_since';
server {{
    listen 127.0.0.1:{port};
    access_log {log} anarepo_upstream;
    root {root};
    absolute_redirect off;
    location / {{
        proxy_buffering off;  # a drip reaches the client as it drips
        set $misbehave "";
        if (-f {markers}$uri.rule) {{ set $misbehave 1; }}
        if (-f {markers}/__all__.rule) {{ set $misbehave 1; }}
        if ($misbehave) {{ proxy_pass http://127.0.0.1:{python_port}; }}
    }}
}}
"""


class StaticUpstream:
    """``directory`` served by nginx on 127.0.0.1:<free port>; ``stop`` ends it (the
    upstream goes away)."""

    def __init__(self, directory):
        import tempfile

        from tests.deploy.services import Nginx, free_port

        self.directory = Path(directory).resolve()
        self.work = Path(tempfile.mkdtemp(prefix="anarepo-upstream-"))
        self.misbehave = Misbehave(self.work / "rules", self.work / "requests.log")
        handler = type("BoundHandler", (Handler,), {"misbehave": self.misbehave})
        self.python = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(self.directory)))
        self.python.daemon_threads = True
        threading.Thread(target=self.python.serve_forever, daemon=True).start()
        port = free_port()
        site = self.work / "site.conf"
        site.write_text(SITE.format(port=port, log=self.misbehave.log, root=self.directory,
                                    markers=self.work / "rules", python_port=self.python.server_address[1]))
        self.nginx = Nginx(str(self.work / "nginx"), str(site), port).start()
        self.url = f"http://127.0.0.1:{port}/"

    def stop(self):
        import shutil

        from tests.deploy.services import stop

        stop(self.nginx.proc, signal.SIGTERM)  # at once, open connections too
        self.python.shutdown()
        self.python.server_close()
        shutil.rmtree(self.work, ignore_errors=True)


def index_channel(directory) -> None:
    """(Re)write repodata.json (and shards) of a channel directory with rattler-index."""
    import asyncio

    from rattler.index import index_fs

    Path(directory, "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(Path(directory), force=True))
    touch_later(directory)


def drop_shards(directory) -> None:
    """Make the channel one without CEP-16 shards (only ``repodata.json``)."""
    import shutil

    for index in Path(directory).glob("*/repodata_shards.msgpack.zst"):
        index.unlink()
        shutil.rmtree(index.parent / "shards", ignore_errors=True)


def touch_later(directory) -> None:
    """Move every index document's mtime forward: Last-Modified has one-second
    resolution, and a rewrite within the second would look unchanged."""
    import os

    for path in Path(directory).glob("*/repodata*"):
        later = path.stat().st_mtime + 2 + touch_later.count
        os.utime(path, (later, later))
    touch_later.count += 2


touch_later.count = 0


def write_simple_tree(directory, files: dict[str, bytes], yanked=(), requires_python=None) -> None:
    """A static PEP 503 tree: ``simple/<project>/index.html`` and ``packages/<file>``
    (``requires_python``: filename -> its ``data-requires-python``)."""
    from anarepo.sources.upstream import pypi_version

    root = Path(directory)
    (root / "packages").mkdir(parents=True, exist_ok=True)
    projects: dict[str, list[str]] = {}
    for filename, data in files.items():
        (root / "packages" / filename).write_bytes(data)
        projects.setdefault(pypi_version(filename)[0], []).append(filename)
    for project, names in projects.items():
        links = []
        for filename in sorted(names):
            digest = hashlib.sha256((root / "packages" / filename).read_bytes()).hexdigest()
            extra = ' data-yanked=""' if filename in yanked else ""
            if (requires_python or {}).get(filename):
                extra += f' data-requires-python="{html.escape(requires_python[filename])}"'
            href = html.escape(quote(filename))  # as PyPI writes them: a local version's "+" is "%2B"
            links.append(f'<a href="../../packages/{href}#sha256={digest}"{extra}>{html.escape(filename)}</a>')
        page = root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<!DOCTYPE html><html><body>\n" + "<br>\n".join(links) + "\n</body></html>\n")
    index = root / "simple" / "index.html"
    index.write_text("<!DOCTYPE html><html><body>\n" + "".join(
        f'<a href="{p}/">{p}</a>\n' for p in sorted(p.name for p in (root / "simple").iterdir() if p.is_dir()))
        + "</body></html>\n")

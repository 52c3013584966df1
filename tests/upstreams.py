"""Local upstreams for mirror and proxy tests: a static conda channel indexed by
rattler-index, a static PEP 503 tree, served by Python's http.server on a free
loopback port, with switches that make the upstream misbehave on purpose."""
from __future__ import annotations

import hashlib
import html
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote


class Misbehave:
    """Per-path behaviour of the static server: ``status``, ``hang``, ``truncate``,
    ``redirect`` (an absolute URL), ``body`` (bytes instead of the file) with ``content_type``,
``drip`` (seconds over which the file trickles out)."""

    def __init__(self):
        self.rules: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []  # (method+path, If-None-Match/If-Modified-Since)
        self.lock = threading.Lock()

    def clear(self):
        self.rules.clear()
        with self.lock:
            self.requests.clear()


class Handler(SimpleHTTPRequestHandler):
    misbehave: Misbehave = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        with self.misbehave.lock:
            self.misbehave.requests.append((path, self.headers.get("If-Modified-Since") or ""))
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


class StaticUpstream:
    """``directory`` served on 127.0.0.1:<free port>; ``stop`` ends it (the upstream goes away)."""

    def __init__(self, directory):
        self.directory = Path(directory)
        self.misbehave = Misbehave()
        handler = type("BoundHandler", (Handler,), {"misbehave": self.misbehave})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(directory)))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def index_channel(directory) -> None:
    """(Re)write repodata.json (and shards) of a channel directory with rattler-index."""
    import asyncio

    from rattler.index import index_fs

    Path(directory, "noarch").mkdir(parents=True, exist_ok=True)
    asyncio.run(index_fs(Path(directory), force=True))
    touch_later(directory)


def touch_later(directory) -> None:
    """Move every index document's mtime forward: Last-Modified has one-second
    resolution, and a rewrite within the second would look unchanged."""
    import os

    for path in Path(directory).glob("*/repodata*"):
        later = path.stat().st_mtime + 2 + touch_later.count
        os.utime(path, (later, later))
    touch_later.count += 2


touch_later.count = 0


def write_simple_tree(directory, files: dict[str, bytes], yanked=()) -> None:
    """A static PEP 503 tree: ``simple/<project>/index.html`` and ``packages/<file>``."""
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
            href = html.escape(quote(filename))  # as PyPI writes them: a local version's "+" is "%2B"
            links.append(f'<a href="../../packages/{href}#sha256={digest}"{extra}>{html.escape(filename)}</a>')
        page = root / "simple" / project / "index.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<!DOCTYPE html><html><body>\n" + "<br>\n".join(links) + "\n</body></html>\n")
    index = root / "simple" / "index.html"
    index.write_text("<!DOCTYPE html><html><body>\n" + "".join(
        f'<a href="{p}/">{p}</a>\n' for p in sorted(p.name for p in (root / "simple").iterdir() if p.is_dir()))
        + "</body></html>\n")

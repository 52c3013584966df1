"""twine, uv publish and the anaconda CLI upload; pip and uv install into fresh virtualenvs.

One live waitress server on a temporary FileStorage serves the module.  Clients
only ever see our server (``--index-url`` at it, ``--no-deps``); the target
environments are new virtualenvs built from the local interpreter.  A small
WSGI recorder notes every request path, so tests can prove which files a
client fetched (the PEP 658 ``.metadata`` file instead of the wheel).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.clients.anaconda_cli import AnacondaCli

from anarepo.package_types.pypi import builders
from anarepo.testing import DEFAULT_PASSWORD, AppHarness, LiveServer, make_settings

pytestmark = pytest.mark.clients

BIN = Path(sys.executable).parent
JSON = "application/vnd.pypi.simple.v1+json"


class Recorder:
    """WSGI wrapper remembering (method, path) of every request."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []

    def __call__(self, environ, start_response):
        with self.lock:
            self.seen.append((environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")))
        return self.app(environ, start_response)

    def mark(self) -> int:
        with self.lock:
            return len(self.seen)

    def since(self, mark: int) -> list[tuple[str, str]]:
        with self.lock:
            return list(self.seen[mark:])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from anarepo import main

    harness = AppHarness(main({}, **make_settings(tmp_path_factory.mktemp("pypi-server"))))
    recorder = Recorder(harness.wsgi_app)
    live = LiveServer(recorder).start()
    harness.make_user("alice")
    harness.make_user("bob")
    tokens = {
        "upload": harness.make_token("alice", "twine", ["pypi:upload"]),
        "read": harness.make_token("alice", "pip", ["pypi:download"]),
        "bob": harness.make_token("bob", "pip", ["pypi:download"]),
    }
    yield harness, live, recorder, tokens
    live.stop()
    harness.close()


@pytest.fixture(scope="module")
def url(server):
    return server[1].url


@pytest.fixture(scope="module")
def tokens(server):
    return server[3]


@pytest.fixture(scope="module")
def dist_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("dists")


def build(dist_dir, maker, *args, **kw) -> Path:
    filename, data = maker(*args, **kw)
    path = dist_dir / filename
    path.write_bytes(data)
    return path


def clean_env(tmp: Path) -> dict:
    """No user config, no keyring, caches in a temporary place, never PyPI."""
    return {
        "PATH": f"{BIN}:/usr/bin:/bin",
        "HOME": str(tmp),
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_NO_INPUT": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_KEYRING_PROVIDER": "disabled",
        "UV_NO_CONFIG": "1",
        "UV_CACHE_DIR": str(tmp / "uv-cache"),
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_KEYRING_PROVIDER": "disabled",
        "TWINE_NON_INTERACTIVE": "1",
        "LANG": "C.UTF-8",
    }


def run(cmd, tmp: Path, ok=True, timeout=180):
    result = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=clean_env(tmp),
                            timeout=timeout, cwd=tmp)
    result.output = result.stdout + result.stderr
    if ok and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} failed ({result.returncode}):\n{result.output}")
    if ok is False and result.returncode == 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} should have failed:\n{result.output}")
    return result


def twine_upload(url, token, files, tmp, repo="/pypi/alice/", ok=True, extra=()):
    return run([BIN / "twine", "upload", "--repository-url", url + repo, "-u", "__token__", "-p", token,
                "--disable-progress-bar", *extra, *files], tmp, ok=ok)


class Venv:
    """A fresh virtualenv; pip runs from our environment with ``--python`` (no network)."""

    def __init__(self, path: Path, tmp: Path):
        self.path, self.tmp = path, tmp
        run([sys.executable, "-m", "venv", "--without-pip", path], tmp)
        self.python = path / "bin" / "python"

    def pip(self, *args, ok=True):
        return run([BIN / "pip", "--python", self.python, *args, "--no-cache-dir"], self.tmp, ok=ok)

    def uv(self, *args, ok=True):
        return run([BIN / "uv", "pip", *args, "--python", self.python, "--no-cache"], self.tmp, ok=ok)

    def value(self, module: str, attr: str = "VERSION") -> str:
        return run([self.python, "-c", f"import {module}; print({module}.{attr})"], self.tmp).stdout.strip()


@pytest.fixture
def venv(tmp_path):
    return Venv(tmp_path / "venv", tmp_path)


def test_twine_upload_then_pip_and_uv_install(url, tokens, dist_dir, tmp_path, server):
    files = [build(dist_dir, builders.wheel, "Tw.Ine-Demo", "1.0", module="twine_demo", requires_python=">=3.8"),
             build(dist_dir, builders.sdist, "Tw.Ine-Demo", "1.0", module="twine_demo")]
    out = twine_upload(url, tokens["upload"], files, tmp_path)
    assert "View at" in out.output or "Uploading" in out.output
    # an identical re-upload is a no-op success (twine 7 allows --skip-existing only for pypi.org)
    twine_upload(url, tokens["upload"], files, tmp_path)
    pip_env = Venv(tmp_path / "pip-env", tmp_path)
    pip_env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "tw-ine-demo")
    assert pip_env.value("twine_demo") == "1.0"
    uv_env = Venv(tmp_path / "uv-env", tmp_path)
    uv_env.uv("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "Tw.Ine-Demo==1.0")
    assert uv_env.value("twine_demo") == "1.0"


def test_changed_file_under_existing_name_is_refused(url, tokens, dist_dir, tmp_path):
    first = build(dist_dir, builders.wheel, "clash", "1.0")
    twine_upload(url, tokens["upload"], [first], tmp_path)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    changed = build(other_dir, builders.wheel, "clash", "1.0", code="CHANGED = 1\n")
    out = twine_upload(url, tokens["upload"], [changed], tmp_path, ok=False)
    assert "409" in out.output and "already exists" in out.output
    # twine's skip rule (twine.commands.upload.skip_upload) accepts our answer as "already there"
    from types import SimpleNamespace

    from twine.commands.upload import skip_upload

    assert skip_upload(SimpleNamespace(status_code=409, reason="", text=out.output), True, None)


def test_twine_refused_without_a_valid_token(url, tokens, dist_dir, tmp_path, server):
    path = build(dist_dir, builders.wheel, "notallowed", "1.0")
    out = twine_upload(url, "ar-thisisnotavalidtokenatall0", [path], tmp_path, ok=False)
    assert "401" in out.output or "403" in out.output
    out = twine_upload(url, tokens["bob"], [path], tmp_path, ok=False)  # bob, download-only, not his namespace
    assert "403" in out.output
    with server[0].root() as root:
        assert root.owners["alice"].get_package("notallowed") is None


def test_sdist_install_builds_from_our_index(url, tokens, dist_dir, tmp_path):
    path = build(dist_dir, builders.sdist, "src-only", "0.3", module="src_only")
    twine_upload(url, tokens["upload"], [path], tmp_path)
    env = Venv(tmp_path / "env", tmp_path)  # the sdist's in-tree backend needs nothing: isolation stays on
    env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "src-only")
    assert env.value("src_only", "FROM_SDIST") == "True"
    env.uv("uninstall", "src-only")
    env.uv("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "src-only")
    assert env.value("src_only", "FROM_SDIST") == "True"


def test_uv_publish_then_install(url, tokens, dist_dir, tmp_path):
    path = build(dist_dir, builders.wheel, "uv-published", "2.1", module="uv_published")
    publish = [BIN / "uv", "publish", "--publish-url", f"{url}/pypi/alice/", "--token", tokens["upload"]]
    run([*publish, path], tmp_path)
    # again, with --check-url: uv reads our index, finds the same hash and skips
    out = run([*publish, "--check-url", f"{url}/pypi/alice/simple/", path], tmp_path)
    assert "skipping" in out.output.lower()
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    changed = build(other_dir, builders.wheel, "uv-published", "2.1", module="uv_published", code="X = 1\n")
    out = run([*publish, changed], tmp_path, ok=False)
    assert "409" in out.output or "already exists" in out.output
    env = Venv(tmp_path / "env", tmp_path)
    env.uv("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "uv-published")
    assert env.value("uv_published") == "2.1"


def test_private_package_through_tokens(url, tokens, dist_dir, tmp_path, server):
    from anarepo.services.packages import set_access

    app = server[0]
    path = build(dist_dir, builders.wheel, "private-thing", "0.9", module="private_thing")
    twine_upload(url, tokens["upload"], [path], tmp_path)
    with app.root() as root:
        set_access(app.registry, root.owners["alice"].get_package("private-thing"), "private")
    host = url.split("://", 1)[1]
    env = Venv(tmp_path / "env", tmp_path)
    env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "private-thing", ok=False)
    env.pip("install", "--index-url", f"{url}/pypi/t/{tokens['bob']}/alice/simple/", "--no-deps",
            "private-thing", ok=False)
    read = tokens["read"]
    for index in (f"{url}/pypi/t/{read}/alice/simple/", f"{url}/t/{read}/pypi/alice/simple/",
                  f"http://__token__:{read}@{host}/pypi/alice/simple/"):
        env.pip("uninstall", "-y", "private-thing", ok=None)
        env.pip("install", "--index-url", index, "--no-deps", "private-thing")
        assert env.value("private_thing") == "0.9"
    uv_env = Venv(tmp_path / "uv-env", tmp_path)
    for index in (f"{url}/pypi/t/{read}/alice/simple/", f"http://__token__:{read}@{host}/pypi/alice/simple/"):
        uv_env.uv("uninstall", "private-thing", ok=None)
        uv_env.uv("install", "--index-url", index, "--no-deps", "private-thing")
        assert uv_env.value("private_thing") == "0.9"


def test_package_only_in_label_dev(url, tokens, dist_dir, tmp_path):
    path = build(dist_dir, builders.wheel, "dev-thing", "0.1.dev3", module="dev_thing")
    twine_upload(url, tokens["upload"], [path], tmp_path, repo="/pypi/alice/label/dev/")
    env = Venv(tmp_path / "env", tmp_path)
    env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "--pre", "dev-thing", ok=False)
    env.pip("install", "--index-url", f"{url}/pypi/alice/label/dev/simple/", "--no-deps", "--pre", "dev-thing")
    assert env.value("dev_thing") == "0.1.dev3"
    env.uv("uninstall", "dev-thing")
    env.uv("install", "--index-url", f"{url}/pypi/alice/label/dev/simple/", "--no-deps", "--prerelease=allow",
           "dev-thing")
    assert env.value("dev_thing") == "0.1.dev3"


def upload_time(url, project, filename) -> datetime:
    request = urllib.request.Request(f"{url}/pypi/alice/simple/{project}/", headers={"Accept": JSON})
    with urllib.request.urlopen(request) as response:
        files = json.load(response)["files"]
    stamp = next(f["upload-time"] for f in files if f["filename"] == filename)
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)


def test_uv_exclude_newer_respects_upload_time(url, tokens, dist_dir, tmp_path):
    old = build(dist_dir, builders.wheel, "timely", "1.0")
    twine_upload(url, tokens["upload"], [old], tmp_path)
    t1 = upload_time(url, "timely", old.name)
    time.sleep(2.1)
    new = build(dist_dir, builders.wheel, "timely", "2.0")
    twine_upload(url, tokens["upload"], [new], tmp_path)
    t2 = upload_time(url, "timely", new.name)
    assert t2 - t1 > timedelta(seconds=2)
    cutoff = (t1 + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = Venv(tmp_path / "env", tmp_path)
    env.uv("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "--exclude-newer", cutoff, "timely")
    assert env.value("timely") == "1.0"
    env.uv("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "--upgrade", "timely")
    assert env.value("timely") == "2.0"


def test_pip_uses_the_metadata_file(url, tokens, dist_dir, tmp_path, server):
    recorder = server[2]
    path = build(dist_dir, builders.wheel, "meta-only", "1.5", module="meta_only", padding=200_000)
    twine_upload(url, tokens["upload"], [path], tmp_path)
    env = Venv(tmp_path / "env", tmp_path)
    mark = recorder.mark()
    report = tmp_path / "report.json"
    env.pip("install", "--dry-run", "--report", report, "--index-url", f"{url}/pypi/alice/simple/",
            "--no-deps", "meta-only")
    seen = [p for m, p in recorder.since(mark) if m == "GET"]
    wheel_path = f"/pypi/alice/files/meta-only/1.5/{path.name}"
    assert wheel_path + ".metadata" in seen
    assert wheel_path not in seen  # resolved from the metadata alone
    installed = json.loads(report.read_text())["install"]
    assert installed[0]["metadata"]["version"] == "1.5"
    # a real install then fetches the wheel itself
    env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "meta-only")
    assert wheel_path in [p for m, p in recorder.since(mark) if m == "GET"]
    assert env.value("meta_only") == "1.5"


def test_yanked_release_is_skipped(url, tokens, dist_dir, tmp_path, server):
    app = server[0]
    for version in ("1.0", "1.1"):
        twine_upload(url, tokens["upload"], [build(dist_dir, builders.wheel, "yanky", version)], tmp_path)
    api_token = app.make_token("alice", "yank-api", ["api:write"])
    request = urllib.request.Request(f"{url}/api/yank/alice/yanky/1.1", method="POST",
                                     data=json.dumps({"reason": "broken"}).encode(),
                                     headers={"Authorization": f"token {api_token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        assert json.load(response)["files"][0]["yanked_reason"] == "broken"
    env = Venv(tmp_path / "env", tmp_path)
    env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "yanky")
    assert env.value("yanky") == "1.0"
    env.uv("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "--reinstall", "yanky")
    assert env.value("yanky") == "1.0"
    # an exact pin still installs a yanked file (PEP 592)
    env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "yanky==1.1")
    assert env.value("yanky") == "1.1"


def test_anaconda_cli_upload_then_pip_install(url, dist_dir, tmp_path, server):
    cli = AnacondaCli(tmp_path / "home", url + "/api")
    cli("login", "--username", "alice", "--password", DEFAULT_PASSWORD)
    wheel = build(dist_dir, builders.wheel, "Cli_Made", "3.2", module="cli_made")
    sdist = build(dist_dir, builders.sdist, "Cli_Made", "3.2", module="cli_made")
    cli("upload", wheel)
    cli("upload", sdist)
    doc = json.load(urllib.request.urlopen(urllib.request.Request(
        f"{url}/pypi/alice/simple/cli-made/", headers={"Accept": JSON})))
    assert sorted(f["filename"] for f in doc["files"]) == sorted([wheel.name, sdist.name])
    assert all(f["core-metadata"] for f in doc["files"] if f["filename"].endswith(".whl"))
    env = Venv(tmp_path / "env", tmp_path)
    env.pip("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "cli-made")
    assert env.value("cli_made") == "3.2"
    uv_env = Venv(tmp_path / "uv-env", tmp_path)  # uv takes the sdist when told to
    uv_env.uv("install", "--index-url", f"{url}/pypi/alice/simple/", "--no-deps", "--no-binary", "cli-made",
              "cli-made")
    assert uv_env.value("cli_made", "FROM_SDIST") == "True"
    # twine adds another file of the same project to the same package
    other = build(dist_dir, builders.wheel, "cli-made", "3.3", module="cli_made")
    twine_upload(url, server[3]["upload"], [other], tmp_path)
    with server[0].root() as root:
        names = [k for k in root.owners["alice"].packages.keys() if "cli" in k]
    assert names == ["cli_made"]

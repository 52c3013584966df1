"""py-rattler (a full conda client) solves and installs from anarepo channels.

One live server for the module: real packages built with conda-package-streaming,
published through the same path uploads take, then ``rattler.solve`` +
``rattler.install`` from the main label, a ``dev`` label, a private package
through both token URL forms, across ``noarch`` and ``linux-64``, with the
gateway forced onto ``repodata.json`` or onto CEP-16 shards.
"""
from __future__ import annotations

import asyncio
import threading

import pytest

rattler = pytest.importorskip("rattler")

from anarepo import main  # noqa: E402
from anarepo.testing import AppHarness, LiveServer, make_settings  # noqa: E402
from tests.conda_builders import build_package, publish_conda  # noqa: E402

pytestmark = pytest.mark.clients


class PathRecorder:
    """WSGI wrapper remembering request paths, to prove which protocol a client used."""

    def __init__(self, app):
        self.app = app
        self.paths = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.paths.append(environ.get("PATH_INFO", ""))
        return self.app(environ, start_response)


@pytest.fixture(scope="module")
def channel(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rattler")
    harness = AppHarness(main({}, **make_settings(tmp)))
    harness.make_user("alice")
    harness.make_user("bob")
    packages = [
        (build_package("libdep", "1.0", "h0", subdir="linux-64", fmt=".conda"), None, "public"),
        (build_package("libdep", "0.9", "h0", subdir="linux-64"), None, "public"),
        (build_package("tool", "1.0", depends=["libdep >=1.0"], run_exports={"weak": ["tool >=1.0"]}), None, "public"),
        (build_package("tool", "2.0", depends=["libdep >=1.0"]), ["dev"], "public"),
        (build_package("secret", "1.0", depends=["libdep"], fmt=".conda"), None, "private"),
    ]
    for (fn, data), labels, access in packages:
        publish_conda(harness, "alice", fn, data, labels=labels, access=access)
    token = harness.make_token("alice", "ci", scopes=["conda:download"])
    recorder = PathRecorder(harness.wsgi_app)
    server = LiveServer(recorder).start()
    yield {"url": server.url, "token": token, "recorder": recorder, "tmp": tmp, "app": harness}
    server.stop()
    harness.close()


def gateway(tmp, shards: bool):
    config = rattler.SourceConfig(sharded_enabled=shards, bz2_enabled=False, cache_action="no-cache")
    return rattler.Gateway(cache_dir=str(tmp / f"repodata-cache-{shards}"), default_config=config)


def solve_and_install(channel, channels, specs, shards, prefix_name):
    tmp = channel["tmp"]
    gw = gateway(tmp, shards)
    records = asyncio.run(rattler.solve(channels, specs, gateway=gw, platforms=["linux-64", "noarch"]))
    prefix = tmp / prefix_name
    asyncio.run(rattler.install(records, target_prefix=str(prefix), cache_dir=str(tmp / "pkgs"), show_progress=False))
    return {r.name.normalized: str(r.version) for r in records}, prefix


@pytest.mark.parametrize("shards", [False, True], ids=["repodata.json", "shards"])
def test_install_from_main_label_across_noarch_and_linux_64(channel, shards):
    recorder = channel["recorder"]
    recorder.paths.clear()
    url = f"{channel['url']}/conda/alice"
    solved, prefix = solve_and_install(channel, [url], ["tool"], shards, f"main-{shards}")
    assert solved == {"tool": "1.0", "libdep": "1.0"}  # tool 2.0 is only in dev; libdep 0.9 too old
    assert (prefix / "share/tool/tool-1.0.txt").read_text() == "tool 1.0\n"
    assert (prefix / "share/libdep/libdep-1.0.txt").read_text() == "libdep 1.0\n"
    fetched = [p for p in recorder.paths if "repodata" in p or "/shards/" in p]
    if shards:
        assert "/conda/alice/noarch/repodata_shards.msgpack.zst" in fetched
        assert any(p.startswith("/conda/alice/linux-64/shards/") for p in fetched)
        assert not any(p.endswith("repodata.json") or p.endswith("repodata.json.zst") for p in fetched)
    else:
        assert not any("shards" in p for p in fetched)
        assert any(p.startswith("/conda/alice/noarch/repodata.json") for p in fetched)


@pytest.mark.parametrize("shards", [False, True], ids=["repodata.json", "shards"])
def test_install_from_dev_label(channel, shards):
    base = f"{channel['url']}/conda/alice"
    solved, prefix = solve_and_install(channel, [f"{base}/label/dev", base], ["tool >=2"], shards, f"dev-{shards}")
    assert solved == {"tool": "2.0", "libdep": "1.0"}
    assert (prefix / "share/tool/tool-2.0.txt").exists()


@pytest.mark.parametrize("form", ["root", "mount"])
@pytest.mark.parametrize("shards", [False, True], ids=["repodata.json", "shards"])
def test_install_private_package_through_token_url(channel, form, shards):
    token = channel["token"]
    url = (f"{channel['url']}/t/{token}/conda/alice" if form == "root"
           else f"{channel['url']}/conda/t/{token}/alice")
    solved, prefix = solve_and_install(channel, [url], ["secret"], shards, f"private-{form}-{shards}")
    assert solved == {"secret": "1.0", "libdep": "1.0"}
    assert (prefix / "share/secret/secret-1.0.txt").exists()


@pytest.mark.parametrize("shards", [False, True], ids=["repodata.json", "shards"])
def test_private_package_is_invisible_anonymously(channel, shards):
    gw = gateway(channel["tmp"], shards)
    with pytest.raises(Exception, match="secret"):
        asyncio.run(rattler.solve([f"{channel['url']}/conda/alice"], ["secret"], gateway=gw,
                                  platforms=["linux-64", "noarch"]))


def test_anaconda_upload_then_install_with_the_login_token(channel, tmp_path):
    """``anaconda login`` + ``anaconda upload --private``; the login token then reads the
    private package through ``/conda/t/<token>/`` (the /api ↔ /conda symmetry)."""
    from anarepo.testing import DEFAULT_PASSWORD
    from tests.clients.anaconda_cli import AnacondaCli

    cli = AnacondaCli(tmp_path / "home", channel["url"] + "/api")
    cli("login", "--username", "alice", "--password", DEFAULT_PASSWORD)
    fn, data = build_package("uploaded", "3.1", "h0", subdir="linux-64", fmt=".conda", depends=["libdep >=1"])
    path = tmp_path / fn
    path.write_bytes(data)
    cli("upload", "--private", path)
    token = cli.token()
    assert token
    solved, prefix = solve_and_install(channel, [f"{channel['url']}/conda/t/{token}/alice"], ["uploaded"],
                                       True, "uploaded")
    assert solved == {"uploaded": "3.1", "libdep": "1.0"}
    assert (prefix / "share/uploaded/uploaded-3.1.txt").exists()
    with pytest.raises(Exception, match="uploaded"):
        asyncio.run(rattler.solve([f"{channel['url']}/conda/alice"], ["uploaded"],
                                  gateway=gateway(channel["tmp"], False), platforms=["linux-64", "noarch"]))

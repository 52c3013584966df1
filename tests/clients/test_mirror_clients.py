"""Real clients through mirrored and proxied labels, with local upstreams only.

conda: a channel directory indexed by rattler-index, served by nginx, with its
CEP-16 shards and (a copy) without them; py-rattler solves and installs from a
proxied label and from a mirrored one of each, through ``repodata.json`` and
through CEP-16 shards, and again after the upstreams have been stopped.  PyPI: a second anarepo (PEP 691) as upstream; pip
and uv install from a proxied and a mirrored index, also after it stopped.
"""
from __future__ import annotations

import asyncio
import shutil

import pytest

rattler = pytest.importorskip("rattler")

from anarepo.package_types.pypi import builders  # noqa: E402
from anarepo.sources.service import add_source  # noqa: E402
from anarepo.sources.sync import sync  # noqa: E402
from anarepo.testing import served_app  # noqa: E402
from tests.clients.test_pip_uv_twine import Venv  # noqa: E402
from tests.conda_builders import write_package  # noqa: E402
from tests.upstreams import StaticUpstream, drop_shards, index_channel  # noqa: E402

pytestmark = pytest.mark.clients


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mirror-clients")
    channel = tmp / "upstream-channel"
    write_package(channel, "libdep", "1.0", "h0", subdir="linux-64", fmt=".conda")
    write_package(channel, "libdep", "0.9", "h0", subdir="linux-64")
    write_package(channel, "tool", "1.0", depends=["libdep >=1.0"])
    write_package(channel, "tool", "2.0", depends=["libdep >=1.0"], fmt=".conda")
    index_channel(channel)
    plain = tmp / "upstream-plain"
    shutil.copytree(channel, plain)
    drop_shards(plain)
    conda_up = StaticUpstream(channel)
    plain_up = StaticUpstream(plain)
    with served_app(tmp / "pypi-upstream", users=["up"]) as (pypi_harness, pypi_live):
        pypi_harness.upload("up", *builders.wheel("mirrored-demo", "1.0", module="mirrored_demo"))
        pypi_harness.upload("up", *builders.wheel("mirrored-demo", "2.0", module="mirrored_demo"))
        with served_app(tmp / "ours", users=["alice"]) as (harness, live):
            with harness.root() as root:
                alice = root.owners["alice"]
                for mode in ("proxy", "mirror"):
                    add_source(alice, f"conda-{mode}", "conda", conda_up.url, mode=mode, label=f"c{mode}",
                               subdirs=("noarch", "linux-64"))
                    add_source(alice, f"plain-{mode}", "conda", plain_up.url, mode=mode, label=f"c{mode}-plain",
                               subdirs=("noarch", "linux-64"))
                    add_source(alice, f"pypi-{mode}", "pypi", f"{pypi_live.url}/pypi/up/", mode=mode,
                               label=f"p{mode}", filters={"names": ["mirrored-demo"]})
            for kind in ("conda", "plain", "pypi"):
                run = sync(harness.registry, "alice", f"{kind}-mirror")
                assert run["failed"] == 0 and run["added"], run
            yield {"url": live.url, "tmp": tmp, "conda_up": conda_up, "plain_up": plain_up, "pypi_live": pypi_live}
    conda_up.stop()
    plain_up.stop()


def solve_and_install(site, url, shards, name):
    tmp = site["tmp"]
    config = rattler.SourceConfig(sharded_enabled=shards, bz2_enabled=False, cache_action="no-cache")
    gw = rattler.Gateway(cache_dir=str(tmp / f"cache-{name}"), default_config=config)
    records = asyncio.run(rattler.solve([url], ["tool"], gateway=gw, platforms=["linux-64", "noarch"]))
    prefix = tmp / f"prefix-{name}"
    asyncio.run(rattler.install(records, target_prefix=str(prefix), cache_dir=str(tmp / f"pkgs-{name}"),
                                show_progress=False))
    return {r.name.normalized: str(r.version) for r in records}, prefix


def pip_and_uv(site, index, name):
    tmp = site["tmp"]
    env = Venv(tmp / f"venv-{name}", tmp)
    env.pip("install", "--index-url", index, "--no-deps", "mirrored-demo")
    assert env.value("mirrored_demo") == "2.0"
    env.uv("uninstall", "mirrored-demo")
    env.uv("install", "--index-url", index, "--no-deps", "mirrored-demo==1.0")
    assert env.value("mirrored_demo") == "1.0"


@pytest.mark.parametrize("upstream", ["", "-plain"], ids=["upstream-shards", "upstream-repodata"])
@pytest.mark.parametrize("mode", ["proxy", "mirror"])
@pytest.mark.parametrize("shards", [False, True], ids=["repodata.json", "shards"])
def test_rattler_installs_from_proxied_and_mirrored_channels(site, mode, shards, upstream):
    solved, prefix = solve_and_install(site, f"{site['url']}/conda/alice/label/c{mode}{upstream}", shards,
                                       f"{mode}-{shards}{upstream}")
    assert solved == {"tool": "2.0", "libdep": "1.0"}
    assert (prefix / "share/tool/tool-2.0.txt").exists()


@pytest.mark.parametrize("mode", ["proxy", "mirror"])
def test_pip_and_uv_install_from_proxied_and_mirrored_indexes(site, mode):
    pip_and_uv(site, f"{site['url']}/pypi/alice/label/p{mode}/simple/", mode)


def test_everything_keeps_working_after_the_upstreams_stopped(site):
    """Runs last in the module: the proxies fetched every file above; now the upstreams go away."""
    site["conda_up"].stop()
    site["plain_up"].stop()
    site["pypi_live"].stop()
    for mode in ("proxy", "mirror"):
        for shards in (False, True):
            for upstream in ("", "-plain"):
                solved, _ = solve_and_install(site, f"{site['url']}/conda/alice/label/c{mode}{upstream}", shards,
                                              f"after-{mode}-{shards}{upstream}")
                assert solved == {"tool": "2.0", "libdep": "1.0"}
        pip_and_uv(site, f"{site['url']}/pypi/alice/label/p{mode}/simple/", f"after-{mode}")

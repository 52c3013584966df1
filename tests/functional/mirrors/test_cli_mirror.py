"""``anarepo mirror add|list|sync|remove`` as a real subprocess on a real .ini."""
from __future__ import annotations

import json

from tests.functional.test_cli import ini, run  # noqa: F401  (the fixture)


def test_add_list_sync_remove(ini, conda_upstream):  # noqa: F811
    assert run("-c", str(ini), "user", "add", "alice", "--email", "a@example.com", "--password-stdin",
               stdin="a-long-password\n").returncode == 0
    added = run("-c", str(ini), "mirror", "add", "alice", "forge", "--kind", "conda", "--url", conda_upstream.url,
                "--subdir", "noarch", "--subdir", "linux-64", "--filter", "names=tool,libdep", "--filter", "latest=1",
                "--auth", "bearer", "--secret-stdin", stdin="sekrit-token-value\n")
    assert added.returncode == 0, added.stderr
    listed = run("-c", str(ini), "mirror", "list", "alice", "--json")
    (source,) = json.loads(listed.stdout)
    assert source["filters"] == {"names": ["tool", "libdep"], "latest": 1} and source["auth"] == "bearer"
    assert "sekrit" not in listed.stdout + listed.stderr
    labelled = run("-c", str(ini), "mirror", "label-filter", "alice", "main", "--kind", "conda",
                   "--filter", "exclude=nothing*")
    assert labelled.returncode == 0 and '"exclude": ["nothing*"]' in labelled.stdout, labelled.stderr
    synced = run("-c", str(ini), "mirror", "sync", "alice", "forge", "-q")
    assert synced.returncode == 0, synced.stderr
    assert "added 3, removed 0" in synced.stdout and "sekrit" not in synced.stdout + synced.stderr
    again = run("-c", str(ini), "mirror", "sync", "--all", "-q")
    assert "synced alice/forge: added 0, removed 0, patched 0, unchanged 3, failed 0" in again.stdout
    assert run("-c", str(ini), "mirror", "remove", "alice", "forge").returncode == 0
    assert json.loads(run("-c", str(ini), "mirror", "list", "alice", "--json").stdout) == []


def test_refusals_are_one_line_errors(ini, conda_upstream):  # noqa: F811
    run("-c", str(ini), "user", "add", "alice", "--email", "a@example.com", "--password-stdin",
        stdin="a-long-password\n")
    for args, message in [
        (["mirror", "add", "nobody", "x", "--kind", "conda", "--url", conda_upstream.url], "no owner"),
        (["mirror", "add", "alice", "x", "--kind", "conda", "--url", "ftp://x/"], "http(s) URL"),
        (["mirror", "add", "alice", "x", "--kind", "conda", "--url", conda_upstream.url, "--filter", "bogus=1"],
         "unknown filter"),
        (["mirror", "sync", "alice", "missing"], "no source named"),
        (["mirror", "sync", "alice"], "or --all"),
        (["mirror", "remove", "alice", "missing"], "no source named"),
    ]:
        result = run("-c", str(ini), *args)
        assert result.returncode == 1 and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr


def test_export_and_import_on_another_server(ini, conda_upstream, tmp_path):  # noqa: F811
    run("-c", str(ini), "user", "add", "alice", "--email", "a@example.com", "--password-stdin",
        stdin="a-long-password\n")
    run("-c", str(ini), "mirror", "add", "alice", "forge", "--kind", "conda", "--url", conda_upstream.url)
    assert run("-c", str(ini), "mirror", "sync", "alice", "forge", "-q").returncode == 0
    exported = run("-c", str(ini), "mirror", "export", "alice", "forge", str(tmp_path / "bundle"), "-q")
    assert exported.returncode == 0 and "exported 4 file(s)" in exported.stdout, exported.stderr
    offline = tmp_path / "offline" / "development.ini"
    offline.parent.mkdir()
    offline.write_text(ini.read_text())
    run("-c", str(offline), "user", "add", "alice", "--email", "a@example.com", "--password-stdin",
        stdin="a-long-password\n")
    imported = run("-c", str(offline), "mirror", "import", "alice", str(tmp_path / "bundle"), "-q")
    assert imported.returncode == 0 and "added 4, removed 0, failed 0" in imported.stdout, imported.stderr
    damaged = run("-c", str(offline), "mirror", "import", "alice", str(tmp_path / "nothing"), "-q")
    assert damaged.returncode == 1 and "not a mirror bundle" in damaged.stderr


def test_sync_all_goes_on_past_a_source_that_fails(ini, conda_upstream, pypi_upstream):  # noqa: F811
    """The schedule (``--all``): a source that can not be synced at all (here: a PyPI source
    on a site that has since turned the PyPI plugin off) is reported, the others are synced,
    and the exit status says something failed."""
    run("-c", str(ini), "user", "add", "alice", "--email", "a@example.com", "--password-stdin",
        stdin="a-long-password\n")
    assert run("-c", str(ini), "mirror", "add", "alice", "a-pypi", "--kind", "pypi", "--url", pypi_upstream.url,
               "--filter", "names=demo").returncode == 0
    assert run("-c", str(ini), "mirror", "add", "alice", "forge", "--kind", "conda",
               "--url", conda_upstream.url).returncode == 0
    ini.write_text(ini.read_text().replace("[app:main]", "[app:main]\nanarepo.disabled_plugins = pypi", 1))
    synced = run("-c", str(ini), "mirror", "sync", "--all", "-q")
    assert synced.returncode == 1 and "Traceback" not in synced.stderr, synced.stderr
    assert "failed: alice/a-pypi: this server does not serve pypi packages" in synced.stderr
    assert "synced alice/forge: added 4, removed 0" in synced.stdout, synced.stdout
    assert "1 of 2 source(s) could not be synced" in synced.stderr
    alone = run("-c", str(ini), "mirror", "sync", "alice", "a-pypi", "-q")  # one source: its error, at once
    assert alone.returncode == 1 and "does not serve pypi" in alone.stderr and "Traceback" not in alone.stderr

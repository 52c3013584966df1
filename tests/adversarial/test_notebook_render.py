"""Notebook rendering has a hard CPU, memory and time bound (issue 14).

nbconvert runs in a child process with ``RLIMIT_CPU`` and a wall-clock deadline
(:mod:`anarepo.package_types.ipynb.sandbox`).  A notebook whose render is stopped
is still stored and downloadable; its page says the preview is unavailable.  The
pathological notebook is a Markdown table mistune and nbconvert's sanitizer
spend seconds of CPU on (45 s at 1 MiB); here a smaller one against a 1 s limit.
"""
from __future__ import annotations

import os
import time

import pytest

from anarepo.testing import make_settings
from tests.builders import notebook

from . import bombs

LIMITS = {"cpu": {"anarepo.render.cpu_seconds": "1"},
          "wall": {"anarepo.render.cpu_seconds": "60", "anarepo.render.seconds": "1"}}


@pytest.fixture(params=sorted(LIMITS))
def anarepo_settings(request, tmp_path):
    return make_settings(tmp_path, **LIMITS[request.param])


def _page(app, testapp, name):
    with app.root() as root:
        package = root.owners["alice"].packages[name]
        version = next(iter(package.releases.keys()))
        basename = next(package.distributions()).basename
    page = testapp.get(f"/alice/{name}/{version}/notebook/{basename}")
    download = testapp.get(f"/alice/{name}/{version}/download/{basename}")
    return page.text, download.body


def test_a_pathological_notebook_is_stored_with_preview_unavailable(app, testapp):
    app.make_user("alice")
    filename, data, _ = bombs.notebook_markdown_table(rows=400)
    started = time.monotonic()
    app.upload("alice", filename, data)
    assert time.monotonic() - started < 120  # a guard against hanging; figures are in bench/
    text, downloaded = _page(app, testapp, "tablenb")
    assert "Preview unavailable" in text and "<table" not in text
    assert downloaded == data


def test_an_honest_notebook_still_renders_under_the_same_limits(app, testapp):
    app.make_user("alice")
    app.upload("alice", "report.ipynb", notebook(title="Quarterly"))
    text, _ = _page(app, testapp, "report")
    assert "Quarterly" in text and "42" in text


def test_a_render_leaves_no_process_behind(app):
    """Each render is one forked child; none survives it (killed or finished)."""
    import os

    app.make_user("alice")
    app.upload("alice", "report.ipynb", notebook())
    app.upload("alice", *bombs.notebook_markdown_table(rows=400)[:2])
    from anarepo.package_types.ipynb import sandbox

    server = sandbox._server.process
    assert server is not None and server.poll() is None
    children = f"/proc/{server.pid}/task/{server.pid}/children"
    for _ in range(50):  # the kernel reaps them as they end
        if not open(children).read().split():
            break
        time.sleep(0.1)
    assert open(children).read().split() == []
    assert os.path.exists(f"/proc/{server.pid}")



def test_killing_a_render_child_never_hits_a_process_that_took_its_pid():
    """The render server's children are reaped the moment they exit, so a finished
    child's pid may already name another process when the server process kills "the
    child" after its answer.  The handle it keeps (a pidfd) names the child only: the
    other process lives.  (The pid is handed on deterministically through the kernel's
    ns_last_pid.)"""
    import subprocess

    from anarepo.package_types.ipynb.sandbox import _ChildHandle

    last_pid = "/proc/sys/kernel/ns_last_pid"
    if not os.access(last_pid, os.W_OK):
        pytest.skip("needs a writable /proc/sys/kernel/ns_last_pid (root) to reuse a pid on purpose")
    for _ in range(50):  # another process may take the pid first: try again
        child = subprocess.Popen(["sleep", "30"])
        handle = _ChildHandle(child.pid)
        child.kill()
        child.wait()  # gone and reaped: its pid is free
        with open(last_pid, "w") as f:
            f.write(str(child.pid - 1))
        stranger = subprocess.Popen(["sleep", "30"])
        try:
            if stranger.pid != child.pid:
                continue
            handle.kill()
            time.sleep(0.2)
            assert stranger.poll() is None, "the stranger that took the child's pid was killed"
            return
        finally:
            stranger.kill()
            stranger.wait()
    pytest.fail("could not hand a pid on in 50 attempts")

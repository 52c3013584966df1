"""kill -9 in the middle of uploads, restart, ``anarepo gc``: nothing acknowledged
is lost, nothing half-done remains, every listed file downloads intact.
More rounds: ``bench/reliability.py --crash-rounds 20``."""
from __future__ import annotations

import pytest

from tests.functional.test_cli import ini, run  # noqa: F401 - the fixture
from tests.reliability import load
from tests.reliability.crash import crash_rounds, debris, harness_for
from tests.reliability.servers import Server

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ini")]

ROUNDS = 3


def test_sigkill_mid_upload_then_gc_leaves_a_consistent_store(ini):
    app = harness_for(ini)
    app.make_user("alice")
    token = app.make_token("alice", "ci")
    app.close()
    outcomes = crash_rounds(ini, token, ROUNDS)
    assert any(o.status == 200 for o in outcomes)

    result = run("-c", str(ini), "gc")
    assert result.returncode == 0, result.stderr
    assert "partial upload/temporary file(s)" in result.stdout
    check = run("-c", str(ini), "reindex", "--check", "-q")
    assert check.returncode == 0, check.stdout + check.stderr
    assert debris(ini) == {"temporary": [], "orphans": []}

    server = Server(ini)
    try:
        tally = load.verify(server.url, "alice", token, outcomes)
    finally:
        server.kill()
    assert tally.lost == [] and tally.listed_missing == []

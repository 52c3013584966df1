"""The import contracts of ``setup.cfg`` hold (docs/plugins.md): plugins reach the
core only through ``anarepo.plugins.api``, and the core imports no plugin."""
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_import_contracts_are_kept():
    # lint-imports in a fresh process: it imports nothing of anarepo, it reads the source
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "lint-imports"), "--config", "setup.cfg", "--no-cache"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": ROOT},
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "2 kept, 0 broken" in result.stdout

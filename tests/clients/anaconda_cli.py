"""Running the real ``anaconda`` CLI (anaconda-client 1.16.0) against a live server.

Each :class:`AnacondaCli` has its own config/token directory (``BINSTAR_CONFIG_DIR``
and ``HOME``), runs the classic argparse CLI (``ANACONDA_CLIENT_FORCE_STANDALONE``)
without telemetry, and in a new session (no controlling terminal), so password
prompts read stdin instead of hanging on /dev/tty.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ANACONDA = str(Path(sys.executable).with_name("anaconda"))


class AnacondaCli:
    def __init__(self, home: Path, api_url: str):
        self.home = home
        (home / "data").mkdir(parents=True, exist_ok=True)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),
            "BINSTAR_CONFIG_DIR": str(home),
            "ANACONDA_CLIENT_FORCE_STANDALONE": "1",
            "OTEL_SDK_DISABLED": "true",
            "ANACONDA_TELEMETRY_ENABLED": "false",
            "NO_COLOR": "1",
            "LANG": "C.UTF-8",
        }
        self.api_url = api_url
        self("config", "--set", "url", api_url)

    def __call__(self, *args, input: str | None = None, ok: bool = True, cwd=None, env=None, timeout=120):
        result = subprocess.run(
            [ANACONDA, *map(str, args)], input=input, capture_output=True, text=True,
            env={**self.env, **(env or {})}, cwd=cwd or self.home, timeout=timeout, start_new_session=True,
        )
        result.output = result.stdout + result.stderr
        if ok and result.returncode != 0:
            raise AssertionError(f"anaconda {' '.join(map(str, args))} failed ({result.returncode}):\n{result.output}")
        if ok is False and result.returncode == 0:
            raise AssertionError(f"anaconda {' '.join(map(str, args))} should have failed:\n{result.output}")
        return result

    def token(self) -> str | None:
        """The token the CLI stored for this server (``logout`` deletes it)."""
        from urllib.parse import quote_plus

        path = self.home / "data" / (quote_plus(self.api_url) + ".token")
        return path.read_text() if path.exists() else None

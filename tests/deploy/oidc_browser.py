"""The browser of ``anaconda login`` in tests: Python's ``webbrowser`` runs ``$BROWSER URL``.

anaconda-client opens the authorization URL and only then starts its loopback
listener, and ``webbrowser`` waits for the command to exit: so this script
starts the real browser work in a detached process and returns at once.  That
process drives Debian's Chromium through Playwright as a person would: the
login form if there is no session yet (the profile directory keeps the session
between runs), then "Allow" on the consent page, until anarepo's "Signed in"
page; it writes what it saw to ``$ANAREPO_BROWSER_LOG`` (JSON lines).

Environment: ``ANAREPO_BROWSER_LOGIN``, ``ANAREPO_BROWSER_PASSWORD``,
``ANAREPO_BROWSER_PROFILE`` (user data directory), ``ANAREPO_BROWSER_SPKI``
(the server key pin, base64 sha256), ``ANAREPO_BROWSER_LOG``.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def record(**entry) -> None:
    with open(os.environ["ANAREPO_BROWSER_LOG"], "a") as log:
        log.write(json.dumps(entry) + "\n")


def drive(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import ARGS, CHROMIUM

    steps = []
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                os.environ["ANAREPO_BROWSER_PROFILE"], executable_path=CHROMIUM, headless=True,
                args=ARGS + [f"--ignore-certificate-errors-spki-list={os.environ['ANAREPO_BROWSER_SPKI']}"])
            context.set_default_timeout(30_000)
            page = context.pages[0] if context.pages else context.new_page()
            page.goto(url)
            if "/account/login" in page.url:
                steps.append("login form")
                page.get_by_label("User name").fill(os.environ["ANAREPO_BROWSER_LOGIN"])
                page.get_by_label("Password").fill(os.environ["ANAREPO_BROWSER_PASSWORD"])
                page.get_by_role("button", name="Log in").click()
            page.get_by_role("button", name="Allow").wait_for()
            steps.append("consent: " + page.locator("h1").inner_text())
            page.get_by_role("button", name="Allow").click()
            page.wait_for_url("**/app/local-login-success")
            steps.append("done: " + page.locator("h1").inner_text())
            record(ok=True, steps=steps, url=page.url)
            context.close()
    except Exception as exc:  # the test reads the log; the CLI only sees its listener time out
        record(ok=False, steps=steps, error=f"{type(exc).__name__}: {exc}")


if __name__ == "__main__":
    if sys.argv[1] == "--drive":
        drive(sys.argv[2])
    else:
        with open(os.environ["ANAREPO_BROWSER_LOG"] + ".stderr", "ab") as err:
            subprocess.Popen([sys.executable, __file__, "--drive", sys.argv[1]], start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=err, stderr=err)

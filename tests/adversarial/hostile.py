"""Shared helpers of the adversarial tests: hostile inputs and the proof that they changed nothing."""
from __future__ import annotations

from anarepo.resources.packages import PACKAGE_TEXT_FIELDS

#: URL values that must never become a link (scheme tricks a browser's URL parser accepts).
HOSTILE_URLS = [
    "javascript:alert(document.domain)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\nscript:alert(1)",
    "\x01javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "file:///etc/passwd",
]


def snapshot(app) -> dict:
    """Everything a refused request could change: owners, packages and their fields,
    releases, files, labels, tokens."""
    with app.root() as root:
        out = {"tokens": tuple(sorted(root.tokens.keys()))}
        for login, owner in root.owners.items():
            out[(login, "labels")] = tuple(owner.labels.keys())
            for key, package in owner.packages.items():
                fields = tuple(getattr(package, f) for f in PACKAGE_TEXT_FIELDS)
                out[(login, key)] = (package.name, package.access, fields, tuple(package.collaborators))
                for version, release in package.releases.items():
                    out[(login, key, version)] = (release.summary, release.home_page, repr(release.attrs))
                    for name, dist in release.files.items():
                        out[(login, key, version, name)] = (dist.sha256, dist.labels, repr(dist.attrs))
        return out


def error_of(response) -> str:
    """The ``{"error": ...}`` message of an API refusal (and that it is one)."""
    assert response.content_type == "application/json", response
    assert isinstance(response.json.get("error"), str) and response.json["error"]
    return response.json["error"]

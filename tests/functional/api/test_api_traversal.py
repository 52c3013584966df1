"""The API on traversal: what is absent and what is hidden answer alike, as JSON, on every route.

Routes traverse ``/{owner}/{package}/{version}``; where traversal stops decides
the wording of the 404, and a package the requester may not see answers exactly
as an absent one (same status, same body).  A refused credential is 401 before
anything is looked up.  Nothing is changed by a refused request.
"""
from __future__ import annotations

import json

import pytest

from tests.functional.api.conftest import Api

#: (method, path template, JSON body) for one route of each family; {o} {p} {v} {f} are filled in.
ROUTES = [
    ("GET", "/package/{o}/{p}", None),
    ("PATCH", "/package/{o}/{p}", {"public_attrs": {"summary": "x"}}),
    ("DELETE", "/package/{o}/{p}", None),
    ("GET", "/packages/{o}/{p}/collaborators", None),
    ("GET", "/release/{o}/{p}/{v}", None),
    ("POST", "/release/{o}/{p}/{v}", {}),
    ("DELETE", "/release/{o}/{p}/{v}", None),
    ("GET", "/dist/{o}/{p}/{v}/{f}", None),
    ("DELETE", "/dist/{o}/{p}/{v}/{f}", None),
    ("GET", "/download/{o}/{p}/{v}/{f}", None),
    ("POST", "/copy/package/{o}/{p}/{v}/{f}", {"to_channel": "dev"}),
    ("POST", "/package/{o}/{p}/transfer", {"to_owner": "bob"}),
    ("POST", "/yank/{o}/{p}/{v}", {}),
]


def call(api: Api, method, template, body, **names):
    path = template.format(**{"o": "alice", "p": "secret", "v": "1.0", "f": "linux-64/secret-1.0.txt", **names})
    headers = api.headers()
    url = "/api" + path
    if body is None:
        return api.testapp.request(url, method=method, headers=headers, expect_errors=True)
    return api.testapp.request(url, method=method, headers={**headers, "Content-Type": "application/json"},
                               body=json.dumps(body).encode(), expect_errors=True)


@pytest.fixture
def world(app, alice, bob):
    app.publish_file("alice", "secret", "1.0", "linux-64/secret-1.0.txt", b"s", access="private")
    app.publish_file("alice", "open", "1.0", "linux-64/open-1.0.txt", b"o")
    return alice, bob


@pytest.mark.parametrize("method, template, body", ROUTES)
def test_absent_and_hidden_answer_alike(app, world, method, template, body):
    alice, bob = world
    hidden = call(bob, method, template, body)
    absent = call(bob, method, template, body, p="nothing")
    assert hidden.status_int == absent.status_int == 404
    assert hidden.json == {"error": "package alice/secret not found"}
    assert absent.json == {"error": "package alice/nothing not found"}
    ghost = call(bob, method, template, body, o="ghost")
    assert ghost.status_int == 404 and ghost.json == {"error": "user 'ghost' not found"}
    refused = call(Api(alice.testapp, "ar-not-a-token"), method, template, body, o="ghost")
    assert refused.status_int == 401 and refused.json == {"error": "invalid token"}
    with app.root() as root:  # nothing changed
        package = root.owners["alice"].packages["secret"]
        assert package.access == "private" and package.summary == ""
        assert list(package.releases["1.0"].files) == ["linux-64/secret-1.0.txt"]
        assert package.releases["1.0"].files["linux-64/secret-1.0.txt"].yanked is None


def test_missing_release_and_file_are_worded_by_where_traversal_stopped(world):
    alice, _bob = world
    assert alice.get("/release/alice/open/9.9", status=404).json == {"error": "release alice/open/9.9 not found"}
    assert alice.get("/dist/alice/open/1.0/linux-64/nope.txt", status=404).json == {"error": "file not found"}
    assert alice.get("/dist/alice/open/1.0/linux-64/open-1.0.txt").json["basename"] == "linux-64/open-1.0.txt"


def test_an_organization_route_on_a_user_is_404(world):
    alice, _bob = world
    response = alice.get("/groups/bob", status=404)
    assert response.json == {"error": "organization 'bob' not found"}

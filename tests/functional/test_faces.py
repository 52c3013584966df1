"""Faces are registered (``config.add_face``): the middleware, the policy, the scopes,
the error formats and the reserved names read the registry; a second face on a
name or a mount is a configuration conflict."""
import pytest
from pyramid.config import Configurator
from pyramid.exceptions import ConfigurationConflictError

from anarepo.plugins import Scope


def test_built_in_faces_register_like_plugins(app):
    registry = app.registry
    faces = registry.anarepo_faces
    assert {f.name for f in faces} == {"web", "api", "conda", "pypi", "r"}
    assert faces.token_mounts() == ("api", "conda", "pypi", "r")
    assert faces.subdomain_mounts() == ("conda", "pypi")
    assert faces.default.name == "web" and faces.default.sessions
    # introspectable, like package types
    found = {entry["introspectable"]["mount"] for entry in registry.introspector.get_category("anarepo faces")}
    assert found == {None, "api", "conda", "pypi", "r"}
    # every repository face adds its grant to "repos"; PyPI adds uploads to "api:write"
    repos = faces.scopes["repos"]
    assert repos.description == "Allow access to all package repositories"
    assert set(repos.grants) == {"api", "web", "conda", "pypi", "r"}
    assert set(faces.scopes["api:write"].grants) == {"api", "pypi"}
    assert list(faces.scopes)[0] == "all"


def test_scopes_listed_by_the_api_come_from_the_faces(app, testapp):
    listed = testapp.get("/api/scopes").json
    assert listed == {name: scope.description for name, scope in app.registry.anarepo_faces.scopes.items()}
    assert listed["conda:download"] == "Allow private downloads from Conda repositories"


def test_face_mounts_are_reserved_owner_names(app, testapp):
    app.make_user("alice")
    headers = {"Authorization": "token " + app.make_token("alice")}
    for name in ("api", "conda", "pypi"):  # ("r" is too short for any owner)
        answer = testapp.post_json("/api/organizations/" + name, {"email": "x@example.com"}, headers=headers,
                                   status=400)
        assert "reserved" in answer.json["error"]
    with app.root() as root:
        assert not {"api", "conda", "pypi", "r"} & set(root.owners.keys())


def _config():
    config = Configurator(settings={})
    config.include("anarepo.plugins.faces")
    return config


@pytest.mark.parametrize("second", [dict(name="other-npm", mount="/npm/"), dict(name="npm", mount="npm2")],
                         ids=["one mount", "one name"])
def test_two_faces_on_one_mount_or_with_one_name_conflict(second):
    config = _config()
    config.add_face("npm", mount="npm")
    config.add_face(**second)
    with pytest.raises(ConfigurationConflictError):
        config.commit()


def test_bad_face_declarations_are_refused():
    config = _config()
    with pytest.raises(ValueError):
        config.add_face("x", mount="a/b")
    with pytest.raises(ValueError):
        config.add_face("x", mount="x", error_format="xml")
    with pytest.raises(ValueError):
        config.add_face("x", factory=object)
    with pytest.raises(ValueError):
        config.add_face("x", mount="x", scopes={"x": "a description without grants"})


def test_scopes_of_several_faces_merge():
    config = _config()
    config.add_face("a", mount="a", scopes={"read": Scope("Read things", {"a": ("view",)})})
    config.add_face("b", mount="b", scopes={"read": Scope(grants={"b": ("view",)}, reads_types=("bt",)),
                                            "read-more": ("More", {"a": ("view", "upload")})})
    config.commit()
    scopes = config.registry.anarepo_faces.scopes
    assert scopes["read"] == Scope("Read things", {"a": ("view",), "b": ("view",)}, ("bt",))
    assert scopes["read-more"].grants == {"a": ("view", "upload")}

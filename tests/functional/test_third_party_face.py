"""A third party adds a face and a package type without touching the core.

The test writes a distribution (a package plus its ``.dist-info`` with an entry
point in ``anarepo.package_types``), puts it on ``sys.path`` as an installed
distribution, and builds the real application: the plugin's ``toy`` type and
its ``/toy`` face (own mount, token in the path, own scope, own JSON error
shape) then work end to end — uploaded through the binstar API, read through
the new face with and without a token, shown on the web pages, and ruled by the
same access rules as every face.  The plugin imports the core only through
``anarepo.plugins.api``, checked on its source.
"""
import ast

import pytest
import webtest

from anarepo import main
from anarepo.testing import AppHarness, make_settings
from tests.functional.api.conftest import Api
from tests.installed_plugins import install_distribution, plugins_installed

PLUGIN = '''
"""Toy bundles: files starting ``TOY <name> <version>``, served at ``/toy/<owner>/<file>``."""
from pyramid.httpexceptions import HTTPFound
from pyramid.response import Response
from pyramid.view import view_config

from anarepo.plugins.api import (
    P, FileInfo, InvalidPackage, PackageType, Scope, count_download, root_of, send_blob, web_page_url,
)

MAGIC = b"TOY "


class ToyType(PackageType):
    name = "toy"
    title = "Toy bundle"
    list_title = "Toy bundles"
    detect_priority = 40

    def detect(self, filename, path):
        with open(path, "rb") as f:
            return filename.endswith(".toy") and f.read(len(MAGIC)) == MAGIC

    def inspect(self, path, filename, name=None, version=None):
        with open(path, "rb") as f:
            head = f.readline().decode("utf-8", "replace").split()
        if len(head) != 3 or head[0] != "TOY":
            raise InvalidPackage(f"{filename}: no TOY header")
        return FileInfo(name=head[1], version=head[2], basename=filename, summary=f"the {head[1]} toy")

    def install_hints(self, request, package, label="main"):
        token = "t/<TOKEN>/" if package.access != "public" else ""
        return [("toy", f"toy fetch {request.application_url}/toy/{token}{package.owner.login}/{package.name}")]


class ToyFace:
    """``/toy``: owners below."""
    __name__ = ""
    __parent__ = None

    def __init__(self, request):
        self.root = root_of(request)

    def __getitem__(self, login):
        owner = self.root.get_owner(login)
        if owner is None:
            raise KeyError(login)
        return ToyShelf(self, owner)


class ToyShelf:
    """An owner's toys; the owner is public, so is its shelf (a private toy is not listed)."""

    def __init__(self, parent, owner):
        self.__parent__, self.__name__ = parent, owner.login
        self.owner = owner
        self.owner_login = owner.login  # organization tokens stay in their namespace

    def __acl__(self):
        return self.owner.__acl__()

    def __getitem__(self, name):
        package = self.owner.get_package(name)
        if package is None or "toy" not in package.package_types:
            raise KeyError(name)
        return ToyPackage(self, package)


class ToyPackage:
    """A package's newest toy file; readable by whoever may read the package."""

    def __init__(self, parent, package):
        self.__parent__, self.__name__ = parent, package.name
        self.package = package

    def __acl__(self):
        return self.package.__acl__()


def toy_error(request, status, message):
    response = Response(json={"toy_error": message, "status": status}, status=status)
    if status == 401:
        response.www_authenticate = ("Toy", {"realm": "toys"})
    return response


@view_config(route_name="toy", context=ToyShelf, renderer="json", permission=P.VIEW)
def shelf(context, request):
    packages = [p for p in context.owner.packages.values()
                if "toy" in p.package_types and request.has_permission(P.VIEW, p)]
    return {"toys": sorted(p.name for p in packages)}


@view_config(route_name="toy", context=ToyPackage, permission=P.VIEW)
def fetch(context, request):
    dists = [d for d in context.package.distributions() if d.type == "toy"]
    newest = max(dists, key=lambda d: d.upload_time)
    count_download(request, newest)
    return send_blob(request, newest, disposition="attachment")


@view_config(route_name="toy", context=ToyFace, permission=P.VIEW)
def in_a_browser(request):
    return HTTPFound(location=web_page_url(request, "toys"))


def includeme(config):
    config.add_package_type(ToyType)
    config.add_face(
        "toy", mount="toy", factory=ToyFace, error_format=toy_error, title="toy shelves",
        reserved_owner_names=("toys-admin",),
        scopes={
            "toy:read": Scope("Allow private downloads from toy shelves", {"toy": (P.VIEW,)},
                              reads_types=("toy",)),
            "repos": Scope(grants={"toy": (P.VIEW,)}),
        },
    )
    config.scan(__name__)
'''

MODULE = "thirdparty_toys"


@pytest.fixture
def site(tmp_path):
    with plugins_installed(MODULE):
        yield install_distribution(tmp_path / "site-packages", MODULE, PLUGIN, "toys")


@pytest.fixture
def toys(site, tmp_path):
    harness = AppHarness(main({}, **make_settings(tmp_path)))
    yield harness, webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})
    harness.close()


TOY = b"TOY widget 1.0\nsome toy bytes\n"


def test_the_plugin_imports_only_the_facade(site):
    tree = ast.parse((site / MODULE / "__init__.py").read_text())
    core = {node.module for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("anarepo")}
    assert core == {"anarepo.plugins.api"}


def test_a_third_party_face_and_type_work_end_to_end(toys):
    app, testapp = toys
    registry = app.registry
    assert MODULE.replace("thirdparty_", "") in registry.anarepo_plugins
    assert "toy" in registry.package_types and "toy" in registry.anarepo_faces
    app.make_user("alice")
    app.make_user("bob")
    alice = Api(testapp, app.make_token("alice", "cli"))

    # the API takes the new type (stage, the S3 form, commit), inspected by the plugin
    committed = alice.upload("alice", "widget", "1.0", "widget-1.0.toy", TOY, dtype="toy").json
    assert (committed["type"], committed["version"]) == ("toy", "1.0")
    # (the API's ``package_types`` lists only the names anaconda-client's enum knows)
    assert [f["type"] for f in alice.get("/package/alice/widget").json["files"]] == ["toy"]
    # an upload the plugin refuses is a clear 4xx
    bad = alice.stage("alice", "widget", "1.1", "widget-1.1.toy", b"no header", dtype="toy").json
    alice.s3(bad, b"no header", "widget-1.1.toy")
    refused = alice.commit("alice", "widget", "1.1", "widget-1.1.toy", bad["dist_id"], status=400)
    assert "no TOY header" in refused.json["error"]

    # the new face, public: anybody reads it
    assert testapp.get("/toy/alice/").json == {"toys": ["widget"]}
    assert testapp.get("/toy/alice/widget").body == TOY
    # the web UI: the type's title, its install hint, its list filter
    page = testapp.get("/alice/widget")
    assert "Toy bundle" in page.text and "toy fetch http://localhost/toy/alice/widget" in page.text
    # the face's mount and reserved names are not owner names
    for name in ("toy", "toys-admin"):
        answer = testapp.post_json("/api/organizations/" + name, {"email": "x@example.com"},
                                   headers=alice.headers(), status=400)
        assert "reserved" in answer.json["error"]
    # its scope is a scope like the others
    assert testapp.get("/api/scopes").json["toy:read"] == "Allow private downloads from toy shelves"

    # private: outsiders get the face's own 404, token holders read it (token in the path)
    alice.patch("/package/alice/widget", {"public": False})
    missing = testapp.get("/toy/alice/widget", status=404)
    assert set(missing.json) == {"toy_error", "status"}  # the face's error format, not the API's
    assert testapp.get("/toy/alice/").json == {"toys": []}
    reader = app.make_token("alice", "toy-reader", scopes=["toy:read"])
    assert testapp.get(f"/toy/t/{reader}/alice/widget").body == TOY  # after the mount, as conda puts it
    assert testapp.get(f"/t/{reader}/toy/alice/widget").body == TOY  # before it
    assert testapp.get("/toy/alice/widget", headers={"Authorization": f"Bearer {reader}"}).body == TOY
    assert testapp.get(f"/toy/t/{reader}/alice/").json == {"toys": ["widget"]}
    # a token without a scope for this face adds nothing: 404, as for anybody
    api_only = app.make_token("alice", "api-reader", scopes=["api:read"])
    testapp.get(f"/toy/t/{api_only}/alice/widget", status=404)
    # the scope reads toy files on the API too (reads_types), nothing else there
    assert [f["basename"] for f in Api(testapp, reader).get("/package/alice/widget").json["files"]] == [
        "widget-1.0.toy"]
    # another user, even with every scope, may not see it
    bob_token = app.make_token("bob", "all")
    assert testapp.get(f"/toy/t/{bob_token}/alice/widget", status=404).json["toy_error"]
    # a bad token is the face's 401
    refused = testapp.get("/toy/t/ar-not-a-real-token/alice/widget", status=401)
    assert "toy_error" in refused.json and refused.headers["WWW-Authenticate"].startswith("Toy")
    # the web page tells the owner how to fetch it with a token
    assert "toy fetch http://localhost/toy/t/&lt;TOKEN&gt;/alice/widget" in testapp.get(
        "/alice/widget", headers={"Authorization": f"token {alice.token}"}).text

    # the face never reads the web session: no CSRF, no login redirect; an anonymous
    # refused read is the face's 404 (private) — never an HTML page
    assert testapp.get("/toy/alice/widget", status=404).content_type == "application/json"
    # the middleware knows the mount and the face is introspectable
    assert "toy" in registry.anarepo_faces.token_mounts()
    intr = registry.introspector.get("anarepo faces", "toy")
    assert intr["mount"] == "toy" and set(intr["scopes"]) == {"toy:read", "repos"}

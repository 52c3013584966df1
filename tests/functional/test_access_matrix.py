"""The access matrix: roles × actions × faces × access levels, every cell asserted.

The expected answer of each cell comes from the rules written in docs/security.md,
restated here as small tables (who holds which permission, which scope opens
which face), not from the code under test:

* a requester who may not see a package gets 404, in every face and listing;
* one who may see it but not act gets 401 when anonymous, 403 otherwise
  (actions that always need a login, like staging an upload, answer 401 to
  anonymous requesters first); uploads answer the same for a package one may
  not see as for a name one may not use (403), so they reveal nothing;
* moving a package needs admin rights on it and upload rights on the target
  (an organization token has none outside its organization);
* a wrong (expired, revoked) credential gets 401;
* a token acts with its user's rights only within its scopes and organization,
  elsewhere with what anybody has.
"""
from __future__ import annotations

import base64
import hashlib
import itertools

import pytest
import webtest

from anarepo.services.orgs import add_group_member, add_group_package, create_group
from anarepo.services.packages import add_collaborator
from anarepo.package_types.pypi import builders as pypi_builders
from anarepo.testing import csrf_from, web_login
from tests.conda_builders import build_package

ACCESS = ("public", "authenticated", "private")
ORG = "acme"
VERSION = "1.0"

# -- the rules ------------------------------------------------------------------
ROLE_PERMS = {
    "owner": {"view", "upload", "edit", "admin"},  # alice owns the organization
    "collab": {"view", "upload", "edit"},  # collaborator on every package
    "gread": {"view"},  # member of a Read-Only group listing every package
    "gwrite": {"view", "upload", "edit"},  # Read-Write group
    "gadmin": {"view", "upload", "edit", "admin"},  # Administration group
    "other": set(),  # a logged-in stranger
    "anon": set(),
}
#: the ``<access>-solo`` packages: no collaborator, in no group; only the org's owners hold rights on them
SOLO_PERMS = {role: (perms if role == "owner" else set()) for role, perms in ROLE_PERMS.items()}
USER_OF_ROLE = {"owner": "alice", "collab": "bob", "gread": "gread", "gwrite": "gwrite", "gadmin": "gadmin",
                "other": "carol"}
ALL = {"view", "upload", "edit", "admin"}
SCOPE_GRANTS = {  # docs/security.md, the scope table
    "all": {"web": ALL, "api": ALL, "conda": ALL, "pypi": ALL},
    "api:read": {"api": {"view"}},
    "api:write": {"api": ALL, "pypi": {"view", "upload"}},
    "conda:download": {"conda": {"view"}},
    "pypi:download": {"pypi": {"view"}},
    "pypi:upload": {"pypi": {"view", "upload"}},
    "repos": {"web": {"view"}, "api": {"view"}, "conda": {"view"}, "pypi": {"view"}},
}
TYPED_API_READ = {"conda:download": "conda", "pypi:download": "pypi"}  # docs/security.md, below the table


def user_can(role: str, perm: str, access: str, perms=ROLE_PERMS) -> bool:
    if perm in perms[role]:
        return True
    return perm == "view" and (access == "public" or (access == "authenticated" and role != "anon"))


class Role:
    """How a requester authenticates on each face, and what it may do."""

    def __init__(self, name, user_role="anon", token=None, scope="all", bad=False, in_org=True, login=None,
                 org_token=False):
        self.name, self.user_role, self.token, self.scope = name, user_role, token, scope
        self.bad, self.in_org, self.login, self.org_token = bad, in_org, login, org_token

    @property
    def authenticated(self) -> bool:
        return self.user_role != "anon"

    def can(self, face: str, perm: str, access: str, file_type=None, perms=ROLE_PERMS) -> bool:
        """``file_type``: the type of the file an action reads (None: a whole package,
        which here always holds a conda and a PyPI file); ``perms``: who holds what on it."""
        if self.token is None:
            return user_can(self.user_role, perm, access, perms)
        if self.in_org and perm in SCOPE_GRANTS[self.scope].get(face, ()):
            return user_can(self.user_role, perm, access, perms)
        typed = TYPED_API_READ.get(self.scope)
        if self.in_org and face == "api" and perm == "view" and typed and file_type in (None, typed):
            return user_can(self.user_role, perm, access, perms)
        return user_can("anon", perm, access, perms)


def expected(role: Role, face: str, action, access: str) -> int:
    if role.bad:
        return 401
    if action.auth_first and not role.authenticated:
        return 401
    if action.account_page and role.token is not None and (role.org_token or role.scope != "all"):
        return 403  # a page of the user's account: only a full token of the user opens it
    if not role.can(face, "view", access, action.file_type, action.perms) and not action.hides_nothing:
        return 404
    allowed = action.perm == "view" or role.can(face, action.perm, access, action.file_type, action.perms)
    if allowed and action.needs_target and role.token is not None and role.org_token:
        allowed = False  # the token grants nothing in the target namespace
    if allowed:
        return action.ok
    return 403 if role.authenticated else 401


# -- the world ------------------------------------------------------------------
class World:
    def __init__(self, app):
        self.app = app
        self.counter = itertools.count()
        for login in ("alice", "bob", "gread", "gwrite", "gadmin", "carol", "dave"):
            app.make_user(login)
        app.make_org(ORG, "alice")
        app.make_org("elsewhere", "alice")
        self.files = {}
        for access in ACCESS:
            name = f"{access}-pkg"
            conda_fn, conda_data = build_package(name, VERSION)
            app.upload(ORG, conda_fn, conda_data, access=access)
            wheel_fn, wheel_data = pypi_builders.wheel(name, VERSION)
            app.upload(ORG, wheel_fn, wheel_data)
            self.files[access] = {"conda": f"noarch/{conda_fn}", "conda_fn": conda_fn, "wheel": wheel_fn}
            app.upload(ORG, *pypi_builders.wheel(f"{access}-solo", VERSION), access=access)
        with app.root() as root:
            org = root.owners[ORG]
            groups = {perm: create_group(org, f"g{perm}", perm) for perm in ("read", "write", "admin")}
            for perm, group in groups.items():
                add_group_member(root, org, group, f"g{perm}")
            for access in ACCESS:
                add_collaborator(app.registry, root, org.packages[f"{access}-pkg"], "bob")
                for group in groups.values():
                    add_group_package(app.registry, org, group, f"{access}-pkg")
        self.groups = ("gread", "gwrite", "gadmin")
        self.roles = self._roles()

    def _roles(self):
        app = self.app
        roles = [Role("anon")]
        for role, login in USER_OF_ROLE.items():
            roles.append(Role(f"{role}+all", role, app.make_token(login, "all-token"), login=login))
        for scope in ("api:read", "api:write", "conda:download", "pypi:download", "pypi:upload", "repos"):
            roles.append(Role(f"owner+{scope}", "owner", app.make_token("alice", scope, [scope]), scope=scope, login="alice"))
        roles.append(Role("owner+org-token", "owner", app.make_token("alice", "org", org=ORG), login="alice",
                          org_token=True))
        roles.append(Role("owner+other-org-token", "owner", app.make_token("alice", "other-org", org="elsewhere"),
                          in_org=False, login="alice", org_token=True))
        expired = app.make_token("alice", "expired")
        revoked = app.make_token("alice", "revoked")
        with app.root() as root:
            from datetime import timedelta

            from anarepo.clock import utcnow
            from anarepo.security.tokens import revoke_token

            for token in root.tokens.values():
                if token.name == "expired":
                    token.expires = utcnow() - timedelta(seconds=1)
            revoke_token(root, next(t for t in root.tokens.values() if t.name == "revoked"))
        roles.append(Role("expired-token", "owner", expired, bad=True))
        roles.append(Role("revoked-token", "owner", revoked, bad=True))
        return roles

    def throwaway(self, access: str) -> str:
        """A fresh package of the org for a destructive action."""
        name = f"tmp-{next(self.counter)}"
        self.app.publish_file(ORG, name, VERSION, f"{name}.txt", b"x", access=access)
        with self.app.root() as root:
            org = root.owners[ORG]
            add_collaborator(self.app.registry, root, org.packages[name], "bob")
            for group in org.groups.values():
                add_group_package(self.app.registry, org, group, name)
        return name


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    from anarepo import main
    from anarepo.testing import AppHarness, make_settings

    harness = AppHarness(main({}, **make_settings(tmp_path_factory.mktemp("matrix"))))
    yield World(harness)
    harness.close()


def client(world):
    return webtest.TestApp(world.app.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})


# -- actions ----------------------------------------------------------------------
class Action:
    def __init__(self, name, perm, ok, run, listing=False, auth_first=False, hides_nothing=False, needs_target=False,
                 file_type=None, perms=ROLE_PERMS, account_page=False):
        self.name, self.perm, self.ok, self.run = name, perm, ok, run
        self.file_type = file_type  # the type of the one file it reads, if it reads one
        self.listing, self.auth_first = listing, auth_first
        self.hides_nothing = hides_nothing  # answers 403, not 404, for invisible packages
        self.needs_target = needs_target  # also needs upload rights on another namespace
        self.perms = perms  # who holds which permission on the package acted on
        self.account_page = account_page  # a page of the user's own account (the web upload form)


def api_headers(role):
    return {"Authorization": f"token {role.token}"} if role.token else {}


def api_actions(world):
    def get(path):
        return lambda c, r, a: c.get(path(a), headers=api_headers(r), expect_errors=True)

    def listed(path, key="full_name"):
        def run(c, r, a):
            response = c.get(path(a), headers=api_headers(r), expect_errors=True)
            if response.status_int != 200:
                return response
            names = [item[key] for item in response.json]
            return response.status_int, f"{ORG}/{a}-pkg" in names
        return run

    def stage(c, r, a, package="pkg"):
        n = next(world.counter)
        return c.post_json(f"/api/stage/{ORG}/{a}-{package}/{VERSION}/extra_{n}.txt",
                           {"distribution_type": "conda", "sha256": "0" * 64, "channels": []},
                           headers=api_headers(r), expect_errors=True)

    def label(c, r, a):
        return c.post_json(f"/api/channels/{ORG}/lbl{next(world.counter)}",
                           {"package": f"{a}-pkg", "version": VERSION, "basename": None},
                           headers=api_headers(r), expect_errors=True)

    def set_access(c, r, a):
        other = "public" if a != "public" else "private"
        return c.patch_json(f"/api/package/{ORG}/{world.throwaway(a)}", {"access": other},
                            headers=api_headers(r), expect_errors=True)

    def delete(c, r, a):
        return c.delete(f"/api/package/{ORG}/{world.throwaway(a)}", headers=api_headers(r), expect_errors=True)

    def transfer(c, r, a):
        return c.post_json(f"/api/package/{ORG}/{world.throwaway(a)}/transfer", {"to_owner": r.login or "dave"},
                           headers=api_headers(r), expect_errors=True)

    f = world.files
    return [
        Action("see", "view", 200, get(lambda a: f"/api/package/{ORG}/{a}-pkg")),
        Action("list", "view", 200, listed(lambda a: f"/api/packages/{ORG}"), listing=True),
        Action("search", "view", 200, listed(lambda a: f"/api/search?name={a}-pkg"), listing=True),
        Action("download", "view", 302, get(lambda a: f"/api/download/{ORG}/{a}-pkg/{VERSION}/{f[a]['conda']}"),
               file_type="conda"),
        Action("download-wheel", "view", 302, get(lambda a: f"/api/download/{ORG}/{a}-pkg/{VERSION}/{f[a]['wheel']}"),
               file_type="pypi"),
        Action("upload", "upload", 200, stage, auth_first=True, hides_nothing=True),
        Action("upload-solo", "upload", 200, lambda c, r, a: stage(c, r, a, "solo"), auth_first=True,
               hides_nothing=True, perms=SOLO_PERMS),
        Action("label", "edit", 201, label),
        # these act on throwaway packages holding one plain file
        Action("set-access", "admin", 200, set_access, file_type="file"),
        Action("delete", "admin", 201, delete, file_type="file"),
        Action("transfer", "admin", 200, transfer, needs_target=True, file_type="file"),
    ]


def conda_actions(world):
    def prefix(role):
        return f"/conda/t/{role.token}" if role.token else "/conda"

    def repodata(c, r, a):
        response = c.get(f"{prefix(r)}/{ORG}/noarch/repodata.json", expect_errors=True)
        if response.status_int != 200:
            return response
        return 200, world.files[a]["conda_fn"] in response.json.get("packages", {})

    def download(c, r, a):
        return c.get(f"{prefix(r)}/{ORG}/{world.files[a]['conda']}", expect_errors=True)

    return [Action("repodata", "view", 200, repodata, listing=True), Action("download", "view", 200, download)]


def pypi_actions(world):
    def headers(role, extra=None):
        out = dict(extra or {})
        if role.token:
            out["Authorization"] = "Basic " + base64.b64encode(f"__token__:{role.token}".encode()).decode()
        return out

    def project(c, r, a):
        return c.get(f"/pypi/{ORG}/simple/{a}-pkg/", headers=headers(r, {"Accept": "application/vnd.pypi.simple.v1+json"}),
                     expect_errors=True)

    def index(c, r, a):
        response = c.get(f"/pypi/{ORG}/simple/", headers=headers(r, {"Accept": "application/vnd.pypi.simple.v1+json"}),
                         expect_errors=True)
        if response.status_int != 200:
            return response
        return 200, f"{a}-pkg" in [p["name"] for p in response.json["projects"]]

    def download(c, r, a):
        page = c.get(f"/pypi/{ORG}/simple/{a}-pkg/", headers={"Accept": "application/vnd.pypi.simple.v1+json",
                                                             "Authorization": "token " + world.owner_token})
        url = page.json["files"][0]["url"]
        target = f"/pypi/{ORG}/simple/{a}-pkg/{url}" if not url.startswith("/") else url
        return c.get(target, headers=headers(r), expect_errors=True)

    def upload(c, r, a, package="pkg"):
        n = next(world.counter)
        filename, data = pypi_builders.wheel(f"{a}-{package}", f"{VERSION}.{n}")
        fields = [(":action", "file_upload"), ("protocol_version", "1"), ("name", f"{a}-{package}"),
                  ("version", f"{VERSION}.{n}"), ("filetype", "bdist_wheel"), ("pyversion", "py3"),
                  ("metadata_version", "2.1"), ("sha256_digest", hashlib.sha256(data).hexdigest())]
        return c.post(f"/pypi/{ORG}/", params=fields, upload_files=[("content", filename, data)],
                      headers=headers(r), expect_errors=True)

    return [
        Action("project", "view", 200, project),
        Action("index", "view", 200, index, listing=True),
        Action("download", "view", 200, download),
        Action("upload", "upload", 200, upload, auth_first=True, hides_nothing=True),
        Action("upload-solo", "upload", 200, lambda c, r, a: upload(c, r, a, "solo"), auth_first=True,
               hides_nothing=True, perms=SOLO_PERMS),
    ]


def web_actions(world):
    def path(role, p):
        return f"/t/{role.token}{p}" if role.token else p

    def get(p):
        return lambda c, r, a: c.get(path(r, p(a)), expect_errors=True)

    def listed(c, r, a):
        response = c.get(path(r, f"/{ORG}"), expect_errors=True)
        if response.status_int != 200:
            return response
        return 200, f'href="http://localhost{path(r, "")}/{ORG}/{a}-pkg/"' in response.text

    def settings_post(action, **fields):
        def run(c, r, a):
            name = world.throwaway(a)
            form = {"action": action, **{k: (v(r, name) if callable(v) else v) for k, v in fields.items()}}
            if not r.token:
                form["csrf_token"] = csrf_from(c.get("/account/login"))
            return c.post(path(r, f"/{ORG}/{name}/settings/admin"), form, expect_errors=True)
        return run

    f = world.files
    return [
        Action("see", "view", 200, get(lambda a: f"/{ORG}/{a}-pkg")),
        Action("list", "view", 200, listed, listing=True),
        Action("download", "view", 200, get(lambda a: f"/{ORG}/{a}-pkg/{VERSION}/download/{f[a]['conda']}")),
        Action("set-access", "admin", 302, settings_post("access", access=lambda r, n: "public")),
        Action("delete", "admin", 302, settings_post("delete", confirm=lambda r, n: n)),
        Action("transfer", "admin", 302, settings_post("transfer", owner=lambda r, n: r.login or "dave")),
    ]


def web_upload_actions(world):
    """The browser's upload form, a new version into an existing package of the org."""
    def upload(c, r, a, package="pkg"):
        n = next(world.counter)
        filename, data = pypi_builders.wheel(f"{a}-{package}", f"{VERSION}.{n}")
        form = {"owner": ORG, "type": "", "name": "", "version": "", "label": "main", "access": "public"}
        if not r.token:
            form["csrf_token"] = csrf_from(c.get("/account/login"))
        prefix = f"/t/{r.token}" if r.token else ""
        return c.post(f"{prefix}/upload", {**form, "file": webtest.Upload(filename, data)}, expect_errors=True)

    return [
        Action("upload", "upload", 302, upload, auth_first=True, hides_nothing=True, account_page=True),
        Action("upload-solo", "upload", 302, lambda c, r, a: upload(c, r, a, "solo"), auth_first=True,
               hides_nothing=True, perms=SOLO_PERMS, account_page=True),
    ]


FACES = {"api": api_actions, "conda": conda_actions, "pypi": pypi_actions, "web": web_actions}


def web_roles(world):
    """The web face by session for every user role, plus path tokens."""
    roles = [Role("anon")] + [Role(f"{role}+session", role, login=login) for role, login in USER_OF_ROLE.items()]
    by_name = {r.name: r for r in world.roles}
    roles += [by_name[n] for n in ("owner+all", "owner+repos", "owner+api:read", "expired-token", "revoked-token")]
    return roles


def run_cell(world, face, role, action, access, clients):
    c = clients.get(role.name)
    if c is None:
        c = clients[role.name] = client(world)
        if face == "web" and role.token is None and role.authenticated:
            web_login(c, role.login)
    result = action.run(c, role, access)
    want = expected(role, face, action, access)
    if isinstance(result, tuple):
        status, present = result
        if want != 401 and action.listing:
            visible = role.can(face, "view", access, action.file_type, action.perms)
            return None if (status == 200 and present == visible) else f"status {status}, listed={present}, want listed={visible}"
        return None if status == want else f"status {status}, want {want}"
    status = result.status_int
    if face == "web" and not role.token and not role.authenticated and want == 401 and action.perm == "view":
        want = 302  # web pages send anonymous visitors to the login page
    if status != want:
        return f"status {status}, want {want} ({result.body[:120]!r})"
    return None


@pytest.mark.parametrize("face", sorted(FACES))
@pytest.mark.parametrize("access", ACCESS)
def test_access_matrix(world, face, access):
    world.owner_token = next(r.token for r in world.roles if r.name == "owner+all")
    actions = FACES[face](world)
    roles = web_roles(world) if face == "web" else world.roles
    clients, failures, cells = {}, [], 0
    for role in roles:
        for action in actions:
            cells += 1
            problem = run_cell(world, face, role, action, access, clients)
            if problem:
                failures.append(f"{face:5} {access:13} {role.name:22} {action.name:10} {problem}")
    assert cells >= len(roles) * len(actions)
    assert not failures, "\n" + "\n".join(failures)


@pytest.mark.parametrize("access", ACCESS)
def test_web_upload_matrix(world, access):
    """The browser upload answers as the API and twine do: by each org role and
    collaborator kind (session), and by each token scope (path token)."""
    roles = web_roles(world) + [r for r in world.roles if r.token and r not in web_roles(world)]
    clients, failures = {}, []
    for role in roles:
        for action in web_upload_actions(world):
            problem = run_cell(world, "web", role, action, access, clients)
            if problem:
                failures.append(f"web   {access:13} {role.name:22} {action.name:12} {problem}")
    assert not failures, "\n" + "\n".join(failures)


def test_private_package_appears_in_no_listing_for_strangers(world):
    """A private package shows up in no listing, search, repodata or index for a stranger."""
    stranger = next(r for r in world.roles if r.name == "other+all")
    c = client(world)
    h = {"Authorization": f"token {stranger.token}"}
    private = "private-pkg"
    assert private not in c.get(f"/api/packages/{ORG}", headers=h, expect_errors=True).text
    assert private not in c.get(f"/api/search?name={private}", headers=h, expect_errors=True).text
    assert private not in c.get(f"/conda/t/{stranger.token}/{ORG}/noarch/repodata.json").text
    assert private not in c.get(f"/pypi/t/{stranger.token}/{ORG}/simple/").text
    assert private not in c.get(f"/t/{stranger.token}/{ORG}").text
    assert private not in c.get("/acme").text
    assert world.files["private"]["conda_fn"] not in c.get(f"/conda/{ORG}/noarch/repodata.json").text


HOSTILE_ATTRS = {  # what a client could put in ``anaconda upload``'s attrs
    "noarch": "python",
    "timestamp": 4_102_444_800_000,  # 2100-01-01
    "constrains": ["openssl <0"],
    "track_features": "evil",
    "python_site_packages_path": "../../../etc",
    "arch": "evil-arch",
    "platform": "evil-os",
    "depends": ["malware"],
    "license": "EVIL",
    "subdir": "noarch",
    "build_number": 999,
}


@pytest.mark.parametrize("field", sorted(HOSTILE_ATTRS))
def test_client_attrs_never_reach_repodata(world, field):
    """A field the client sends in its upload attrs may show in the API but never
    becomes a repodata field: the record holds what the archive says, plus the
    server's hashes, size and time."""
    from anarepo.package_types.conda.inspect import RECORD_FIELDS

    name = f"inject-{field.replace('_', '-')}"
    index = {"name": name, "version": "1.0", "build": "h0_0", "build_number": 0, "subdir": "linux-64",
             "depends": ["libc >=2"], "license": "MIT", "arch": "x86_64", "platform": "linux"}
    fn, data = build_package(name, "1.0", "h0_0", index=index)
    c = client(world)
    token = next(r.token for r in world.roles if r.name == "owner+all")
    headers = {"Authorization": f"token {token}"}
    basename = f"linux-64/{fn}"
    staged = c.post_json(f"/api/stage/{ORG}/{name}/1.0/{basename}",
                         {"distribution_type": "conda", "sha256": hashlib.sha256(data).hexdigest(), "channels": [],
                          "attrs": {field: HOSTILE_ATTRS[field]}}, headers=headers).json
    url = staged["post_url"].split("://", 1)[1].split("/", 1)[1]
    c.post("/" + url, list(staged["form_data"].items()), upload_files=[("file", fn, data)], status=201)
    c.post_json(f"/api/commit/{ORG}/{name}/1.0/{basename}", {"dist_id": staged["dist_id"]}, headers=headers)
    record = c.get(f"/conda/{ORG}/linux-64/repodata.json").json["packages"][fn]
    from_archive = {k: index[k] for k in RECORD_FIELDS if k in index}
    server = {"md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
    computed = {k: v for k, v in record.items() if k not in from_archive and k not in server}
    assert {k: record.get(k) for k in from_archive} == from_archive
    assert {k: record[k] for k in server} == server
    assert set(computed) <= {"indexed_timestamp"}, computed  # nothing else: no field the archive does not have
    # the API still shows what the client said where the file says nothing
    dist = c.get(f"/api/dist/{ORG}/{name}/1.0/{basename}", headers=headers).json
    assert dist["attrs"][field] == index.get(field, HOSTILE_ATTRS[field])


# -- every token scope against every API write ------------------------------------
#: docs/security.md, the scope table, for the API face: what a token of each scope may
#: do there (its user, alice, owns the organization and so holds every permission).
API_SCOPE_PERMS = {
    "all": {"view", "upload", "edit", "admin", "manage", "manage-groups", "account"},
    "api": {"view", "upload", "edit", "admin", "manage", "manage-groups", "account"},
    "api:read": {"view"},
    "api:write": {"view", "upload", "edit", "admin"},
    "api:modify-group": {"view", "manage-groups"},
    "conda": {"view"},
    "conda:download": set(),
    "pypi": set(),
    "pypi:download": set(),
    "pypi:upload": set(),
    "repos": {"view"},
}


def api_writes(world):
    """(name, permission, success status, run(client, headers)) for every API write."""
    app, n = world.app, world.counter

    def package():
        return world.throwaway("public")

    def org():
        return app.make_org(f"scratch{next(n)}", "alice")

    def label():
        name = f"lbl{next(n)}"
        with app.root() as root:
            root.owners[ORG].ensure_label(name)
        return name

    def group(with_member=False):
        name = f"grp{next(n)}"
        with app.root() as root:
            org_ = root.owners[ORG]
            create_group(org_, name, "read")
            if with_member:
                add_group_member(root, org_, org_.groups[name], "dave")
                add_group_package(app.registry, org_, org_.groups[name], "public-pkg")
        return name

    def notice():
        from anarepo.services.notices import create_notice

        with app.root() as root:
            return create_notice(root.owners[ORG], "scheduled maintenance").id

    def wheel():
        name = f"yank-{next(n)}"
        filename, data = pypi_builders.wheel(name, VERSION)
        app.upload(ORG, filename, data)
        return name

    def token(org_=None):
        name = f"tok{next(n)}"
        app.make_token("alice", name, org=org_)
        return name

    def second_owner():
        login = org()
        with app.root() as root:
            from anarepo.services.orgs import add_org_owner

            add_org_owner(root, root.owners[login], "dave")
        return login

    return [
        ("create-package", "upload", 200, lambda c, h: c.post_json(f"/api/package/{ORG}/new-{next(n)}", {}, headers=h, expect_errors=True)),
        ("edit-package", "edit", 200,
         lambda c, h: c.patch_json(f"/api/package/{ORG}/{package()}", {"public_attrs": {"summary": "s"}}, headers=h, expect_errors=True)),
        ("set-access", "admin", 200,
         lambda c, h: c.patch_json(f"/api/package/{ORG}/{package()}", {"access": "private"}, headers=h, expect_errors=True)),
        ("delete-package", "admin", 201, lambda c, h: c.delete(f"/api/package/{ORG}/{package()}", headers=h, expect_errors=True)),
        ("transfer", "admin", 200,
         lambda c, h: c.post_json(f"/api/package/{ORG}/{package()}/transfer", {"to_owner": "alice"}, headers=h, expect_errors=True)),
        ("add-release", "upload", 200, lambda c, h: c.post_json(f"/api/release/{ORG}/{package()}/2.0", {}, headers=h, expect_errors=True)),
        ("edit-release", "edit", 200,
         lambda c, h: c.patch_json(f"/api/release/{ORG}/{package()}/{VERSION}", {"description": "d"}, headers=h, expect_errors=True)),
        ("delete-release", "edit", 201, lambda c, h: c.delete(f"/api/release/{ORG}/{package()}/{VERSION}", headers=h, expect_errors=True)),
        ("delete-file", "edit", 200,
         lambda c, h: c.delete(f"/api/dist/{ORG}/{(p := package())}/{VERSION}/{p}.txt", headers=h, expect_errors=True)),
        ("stage", "upload", 200,
         lambda c, h: c.post_json(f"/api/stage/{ORG}/{package()}/1.1/more.txt",
                                  {"distribution_type": "file", "sha256": "0" * 64}, headers=h, expect_errors=True)),
        ("copy-to-label", "edit", 200,
         lambda c, h: c.post_json(f"/api/copy/package/{ORG}/{(p := package())}/{VERSION}/{p}.txt",
                                  {"to_owner": ORG, "to_channel": "dev"}, headers=h, expect_errors=True)),
        ("copy-to-owner", "upload", 200,
         lambda c, h: c.post_json(f"/api/copy/package/{ORG}/{(p := package())}/{VERSION}/{p}.txt",
                                  {"to_owner": "alice"}, headers=h, expect_errors=True)),
        ("label-add-files", "edit", 201,
         lambda c, h: c.post_json(f"/api/channels/{ORG}/{label()}", {"package": package(), "version": VERSION},
                                  headers=h, expect_errors=True)),
        ("label-remove", "manage", 201, lambda c, h: c.delete(f"/api/channels/{ORG}/{label()}", headers=h, expect_errors=True)),
        ("label-copy", "manage", 201,
         lambda c, h: c.post(f"/api/channels/{ORG}/main/copy/{label()}", headers=h, expect_errors=True)),
        ("label-lock", "manage", 201, lambda c, h: c.post(f"/api/channels/{ORG}/{label()}/lock", headers=h, expect_errors=True)),
        ("label-unlock", "manage", 201, lambda c, h: c.delete(f"/api/channels/{ORG}/{label()}/lock", headers=h, expect_errors=True)),
        ("collaborator-add", "admin", 201,
         lambda c, h: c.put(f"/api/packages/{ORG}/{package()}/collaborators/dave", headers=h, expect_errors=True)),
        ("collaborator-remove", "admin", 201,
         lambda c, h: c.delete(f"/api/packages/{ORG}/{package()}/collaborators/bob", headers=h, expect_errors=True)),
        ("group-create", "manage-groups", 204,
         lambda c, h: c.post_json(f"/api/group/{ORG}/new{next(n)}", {"perms": "read"}, headers=h, expect_errors=True)),
        ("group-delete", "manage-groups", 204, lambda c, h: c.delete(f"/api/group/{ORG}/{group()}", headers=h, expect_errors=True)),
        ("group-member-add", "manage-groups", 204,
         lambda c, h: c.put(f"/api/group/{ORG}/{group()}/members/dave", headers=h, expect_errors=True)),
        ("group-member-remove", "manage-groups", 204,
         lambda c, h: c.delete(f"/api/group/{ORG}/{group(True)}/members/dave", headers=h, expect_errors=True)),
        ("group-package-add", "manage-groups", 204,
         lambda c, h: c.put(f"/api/group/{ORG}/{group()}/packages/public-pkg", headers=h, expect_errors=True)),
        ("group-package-remove", "manage-groups", 204,
         lambda c, h: c.delete(f"/api/group/{ORG}/{group(True)}/packages/public-pkg", headers=h, expect_errors=True)),
        ("org-create", "upload", 200,
         lambda c, h: c.post_json(f"/api/organizations/fresh{next(n)}", {"email": "o@example.com"}, headers=h, expect_errors=True)),
        ("org-delete", "manage", 201,
         lambda c, h: c.delete_json(f"/api/organizations/{(o := org())}", {"confirm": o}, headers=h, expect_errors=True)),
        ("org-owner-add", "manage", 201, lambda c, h: c.put(f"/api/organizations/{org()}/owners/dave", headers=h, expect_errors=True)),
        ("org-owner-remove", "manage", 201,
         lambda c, h: c.delete(f"/api/organizations/{second_owner()}/owners/dave", headers=h, expect_errors=True)),
        ("notice-create", "manage", 201, lambda c, h: c.post_json(f"/api/{ORG}/notices", {"message": "m"}, headers=h, expect_errors=True)),
        ("notice-edit", "manage", 200,
         lambda c, h: c.patch_json(f"/api/{ORG}/notices/{notice()}", {"message": "m2"}, headers=h, expect_errors=True)),
        ("notice-publish", "manage", 200, lambda c, h: c.post(f"/api/{ORG}/notices/{notice()}/publish", headers=h, expect_errors=True)),
        ("notice-delete", "manage", 204, lambda c, h: c.delete(f"/api/{ORG}/notices/{notice()}", headers=h, expect_errors=True)),
        ("yank", "edit", 200, lambda c, h: c.post_json(f"/api/yank/{ORG}/{wheel()}/{VERSION}", {}, headers=h, expect_errors=True)),
        ("unyank", "edit", 200, lambda c, h: c.delete(f"/api/yank/{ORG}/{wheel()}/{VERSION}", headers=h, expect_errors=True)),
        ("token-revoke", "account", 201, lambda c, h: c.delete(f"/api/authentications/name/{token()}", headers=h, expect_errors=True)),
        ("org-token-revoke", "manage", 201,
         lambda c, h: c.delete(f"/api/authentications/org/{ORG}/name/{token(ORG)}", headers=h, expect_errors=True)),
    ]


def test_every_scope_against_every_api_write(world):
    """A token does on the API exactly what its scope names; elsewhere it is a stranger (403)."""
    c = client(world)
    failures, cells = [], 0
    for scope, granted in API_SCOPE_PERMS.items():
        headers = {"Authorization": f"token {world.app.make_token('alice', f'scope-{scope}', [scope])}"}
        for name, perm, ok, run in api_writes(world):
            cells += 1
            want = ok if perm in granted else 403
            response = run(c, headers)
            if response.status_int != want:
                failures.append(f"{scope:17} {name:21} status {response.status_int}, want {want} "
                                f"({response.body[:100]!r})")
    assert cells == len(API_SCOPE_PERMS) * len(api_writes(world))
    assert not failures, "\n" + "\n".join(failures)


def test_a_group_token_manages_groups_and_nothing_else(world):
    """``api:modify-group`` once meant ``manage``: such a token deleted an organization,
    added an owner and locked labels.  Now each is refused and leaves everything as it was."""
    app = world.app
    org = app.make_org(f"grouporg{next(world.counter)}", "alice")
    headers = {"Authorization": f"token {app.make_token('alice', f'groups-{org}', ['api:modify-group'])}"}
    c = client(world)
    c.delete_json(f"/api/organizations/{org}", {"confirm": org}, headers=headers, status=403)
    c.put(f"/api/organizations/{org}/owners/dave", headers=headers, status=403)
    c.post(f"/api/channels/{org}/main/lock", headers=headers, status=403)
    c.post_json(f"/api/group/{org}/team", {"perms": "write"}, headers=headers, status=204)
    c.put(f"/api/group/{org}/team/members/dave", headers=headers, status=204)
    with app.root() as root:
        owner = root.owners[org]
        assert sorted(owner.owners) == ["alice"]
        assert not owner.labels["main"].locked
        assert list(owner.groups["team"].members) == ["dave"]

"""LDAP sign-in against a real slapd (started here, in a temporary directory): the web
form and ``POST /api/authentications`` both sign directory users in, provision them,
map their directory groups to organization groups, and refuse them again once the
directory no longer knows them; a directory outage is a clear 503 while local
administrators still get in."""
from __future__ import annotations

import base64
import time

import pytest
import webtest

from anarepo import main
from anarepo.testing import DEFAULT_PASSWORD, AppHarness, csrf_from, make_settings

from ..ldap_server import GROUPS, PEOPLE, LdapServer, free_port, ldap_settings

ORG_GROUP_MAP = f"""
    cn=devs,{GROUPS} -> myorg/developers
    CN=Ops, OU=Groups, DC=example, DC=org -> myorg/ops
"""


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    server = LdapServer(tmp_path_factory.mktemp("slapd")).start().seed()
    server.add_user("alice", "alice-ldap-pw")
    server.add_user("bob", "bob-ldap-pw", mail="robert@corp.example.org")
    server.add_user("carol", "carol-ldap-pw")
    server.add_group("devs", [f"uid=alice,{PEOPLE}", f"uid=bob,{PEOPLE}"])
    server.add_group("ops", [f"uid=bob,{PEOPLE}"])
    yield server
    server.stop()


@pytest.fixture
def site(tmp_path, slapd):
    made = []

    def make(**settings):
        path = tmp_path / f"site{len(made)}"
        path.mkdir()
        options = ldap_settings(slapd, **{"anarepo.ldap.group_map": ORG_GROUP_MAP})
        options.update(settings)
        harness = AppHarness(main({}, **make_settings(path, **options)))
        made.append(harness)
        harness.make_user("siteadmin", admin=True)
        harness.make_org("myorg", "siteadmin")
        with harness.root() as root:
            from anarepo.services.orgs import create_group

            create_group(root.owners["myorg"], "developers", "write")
            create_group(root.owners["myorg"], "ops", "read")
            create_group(root.owners["myorg"], "manual", "read")
        return harness, webtest.TestApp(harness.wsgi_app, extra_environ={"HTTP_HOST": "localhost"})

    yield make
    for harness in made:
        harness.close()


def web_sign_in(testapp, login, password, status=302):
    page = testapp.get("/account/login")
    return testapp.post("/account/login", {"login": login, "password": password, "csrf_token": csrf_from(page)},
                        status=status)


def api_sign_in(testapp, login, password, status=200):
    basic = base64.b64encode(f"{login}:{password}".encode()).decode()
    return testapp.post_json("/api/authentications", {"note": f"t{time.time()}", "scopes": ["all"]},
                             headers={"Authorization": f"Basic {basic}"}, status=status)


def groups_of(harness, login):
    with harness.root() as root:
        org = root.owners["myorg"]
        return sorted(name for name, group in org.groups.items() if login in group.members)


def test_first_sign_in_provisions_the_user_with_the_directory_email_and_groups(site):
    harness, testapp = site()
    web_sign_in(testapp, "Alice", "alice-ldap-pw")
    settings_page = testapp.get("/account/settings")
    assert "alice@corp.example.org" in settings_page.text
    assert "directory (LDAP)" in settings_page.text and "new_password" not in settings_page.text
    with harness.root() as root:
        alice = root.owners["alice"]
        assert alice.email == "alice@corp.example.org" and alice.password_hash == ""
        assert root.external_accounts.accounts["alice"].subject.endswith(f"|uid=alice,{PEOPLE}")  # uuid:<entryUUID>|DN
        assert "myorg" in alice.organizations
    assert groups_of(harness, "alice") == ["developers"]
    # the API's password login (anaconda login --username --password) is the same check
    token = api_sign_in(testapp, "bob", "bob-ldap-pw").json["token"]
    me = testapp.get("/api/user", headers={"Authorization": f"token {token}"}).json
    assert me["login"] == "bob"
    assert groups_of(harness, "bob") == ["developers", "ops"]  # the map's DNs compare case- and space-blind
    with harness.root() as root:
        assert root.owners["bob"].email == "robert@corp.example.org"


def test_wrong_password_unknown_user_and_filter_injection_are_refused_and_provision_nothing(site):
    harness, testapp = site()
    assert "Invalid user name or password" in web_sign_in(testapp, "alice", "wrong", status=400).text
    web_sign_in(testapp, "nobody", "whatever-pw", status=400)
    web_sign_in(testapp, "*", "alice-ldap-pw", status=400)  # a wildcard login matches no one
    web_sign_in(testapp, "alice)(uid=*", "alice-ldap-pw", status=400)
    assert api_sign_in(testapp, "alice", "", status=401).json == {"error": "invalid user name or password"}
    assert api_sign_in(testapp, "alice", "wrong", status=401).json["error"] == "invalid user name or password"
    with harness.root() as root:
        assert sorted(root.owners) == ["myorg", "siteadmin"]
        assert len(root.external_accounts.accounts) == 0
        assert root.login_throttle.attempts["user:alice"].failures == 3  # the throttle counts LDAP failures


def test_group_mapping_follows_the_directory_at_each_sign_in_and_leaves_other_groups_alone(site, slapd):
    harness, testapp = site()
    api_sign_in(testapp, "carol", "carol-ldap-pw")
    assert groups_of(harness, "carol") == []
    with harness.root() as root:
        from anarepo.services.orgs import add_group_member

        org = root.owners["myorg"]
        add_group_member(root, org, org.groups["manual"], "carol")  # not managed by the directory
    slapd.modify(f"cn=ops,{GROUPS}", member=[f"uid=bob,{PEOPLE}", f"uid=carol,{PEOPLE}"])
    try:
        api_sign_in(testapp, "carol", "carol-ldap-pw")
        assert groups_of(harness, "carol") == ["manual", "ops"]
    finally:
        slapd.modify(f"cn=ops,{GROUPS}", member=[f"uid=bob,{PEOPLE}"])
    api_sign_in(testapp, "carol", "carol-ldap-pw")
    assert groups_of(harness, "carol") == ["manual"]
    with harness.root() as root:
        assert "myorg" in root.owners["carol"].organizations  # still a member through "manual"


def test_a_removed_or_disabled_directory_user_loses_sessions_and_tokens_at_the_next_recheck(site, slapd):
    interval = 3.0  # long enough for two requests on a loaded machine, short enough to wait for
    harness, testapp = site(**{"anarepo.ldap.recheck_interval": str(interval)})
    slapd.add_user("dave", "dave-ldap-pw")
    try:
        web_sign_in(testapp, "dave", "dave-ldap-pw")
        token = api_sign_in(testapp, "dave", "dave-ldap-pw").json["token"]
        vouched = time.time()  # the directory vouched for dave during that sign-in
        auth = {"Authorization": f"token {token}"}
        slapd.modify(f"uid=dave,{PEOPLE}", description="disabled")  # the user filter excludes it now
        # within the stated bound the last verdict stands ...
        testapp.get("/account/settings", status=200)
        testapp.get("/api/user", headers=auth, status=200)
        assert time.time() - vouched < interval, "too slow to show the bound; the assertions above prove nothing"
        time.sleep(max(0.0, vouched + interval + 0.1 - time.time()))
        # ... after it, the directory is asked again: the session ends, the token is refused
        assert "/account/login" in testapp.get("/account/settings", status=302).location
        refused = testapp.get("/api/user", headers=auth, status=401).json
        assert refused == {"error": "the account was removed or disabled in its directory, or must sign in there again"}
        web_sign_in(testapp, "dave", "dave-ldap-pw", status=400)
        # enabled again: a new sign-in works and the old token with it
        slapd.modify(f"uid=dave,{PEOPLE}", description="back")
        web_sign_in(testapp, "dave", "dave-ldap-pw")
        testapp.get("/api/user", headers=auth, status=200)
    finally:
        slapd.remove(f"uid=dave,{PEOPLE}")
    time.sleep(interval + 0.1)
    assert testapp.get("/api/user", headers=auth, status=401).json["error"].startswith("the account was removed")
    with harness.root() as root:
        assert root.external_accounts.accounts["dave"].active is False


def test_group_removal_in_the_directory_reaches_org_groups_at_the_recheck(site, slapd):
    harness, testapp = site(**{"anarepo.ldap.recheck_interval": "1"})
    slapd.add_user("erin", "erin-ldap-pw")
    slapd.modify(f"cn=ops,{GROUPS}", member=[f"uid=bob,{PEOPLE}", f"uid=erin,{PEOPLE}"])
    try:
        token = api_sign_in(testapp, "erin", "erin-ldap-pw").json["token"]
        assert groups_of(harness, "erin") == ["ops"]
        slapd.modify(f"cn=ops,{GROUPS}", member=[f"uid=bob,{PEOPLE}"])
        time.sleep(1.1)
        testapp.get("/api/user", headers={"Authorization": f"token {token}"}, status=200)
        assert groups_of(harness, "erin") == []
    finally:
        slapd.modify(f"cn=ops,{GROUPS}", member=[f"uid=bob,{PEOPLE}"])
        slapd.remove(f"uid=erin,{PEOPLE}")


def test_directory_down_is_a_clear_503_and_local_admins_still_sign_in(site):
    harness, testapp = site(**{"anarepo.ldap.url": f"ldap://127.0.0.1:{free_port()}", "anarepo.ldap.timeout": "1"})
    page = web_sign_in(testapp, "alice", "alice-ldap-pw", status=503)
    assert "cannot be reached" in page.text and page.headers["Retry-After"] == "30"
    assert api_sign_in(testapp, "alice", "alice-ldap-pw", status=503).json == {
        "error": "the sign-in directory (LDAP) cannot be reached; try again later"}
    web_sign_in(testapp, "siteadmin", DEFAULT_PASSWORD)
    assert api_sign_in(testapp, "siteadmin", DEFAULT_PASSWORD).json["token"]
    with harness.root() as root:
        assert "user:alice" not in root.login_throttle.attempts  # an outage is nobody's failure
        assert "alice" not in root.owners


def test_an_outage_during_a_recheck_keeps_the_last_verdict(site, slapd):
    harness, testapp = site(**{"anarepo.ldap.recheck_interval": "0.5", "anarepo.ldap.timeout": "1"})
    token = api_sign_in(testapp, "alice", "alice-ldap-pw").json["token"]
    slapd.stop()
    try:
        time.sleep(0.6)
        testapp.get("/api/user", headers={"Authorization": f"token {token}"}, status=200)
    finally:
        slapd.start()


def test_local_passwords_off_leaves_directory_users_and_the_break_glass_admin(site):
    harness, testapp = site(**{"anarepo.allow_local_passwords": "false", "anarepo.break_glass_admins": "siteadmin"})
    harness.make_user("localbob")
    refused = web_sign_in(testapp, "localbob", DEFAULT_PASSWORD, status=403)
    assert "turned off" in refused.text
    assert "turned off" in api_sign_in(testapp, "localbob", DEFAULT_PASSWORD, status=403).json["error"]
    web_sign_in(testapp, "localbob", "wrong-password", status=400)  # a wrong password learns nothing more
    web_sign_in(testapp, "siteadmin", DEFAULT_PASSWORD)
    api_sign_in(testapp, "alice", "alice-ldap-pw")
    testapp.get("/account/signup", status=404)
    assert "Sign up" not in testapp.get("/account/login").text


def test_a_local_account_name_is_never_taken_over_by_the_directory(site):
    harness, testapp = site()
    harness.make_user("carol", password="carol-local-pw")
    web_sign_in(testapp, "carol", "carol-ldap-pw", status=400)  # the local account answers, not LDAP
    web_sign_in(testapp, "carol", "carol-local-pw")
    with harness.root() as root:
        assert "carol" not in root.external_accounts.accounts


@pytest.mark.parametrize("mode", ["ldaps", "starttls", "bind_template"])
def test_tls_and_direct_bind(site, slapd, mode):
    options = {
        "ldaps": {"anarepo.ldap.url": slapd.tls_url, "anarepo.ldap.ca_file": slapd.ca_file},
        "starttls": {"anarepo.ldap.start_tls": "true", "anarepo.ldap.ca_file": slapd.ca_file},
        "bind_template": {"anarepo.ldap.bind_dn": "", "anarepo.ldap.bind_password": "",
                          "anarepo.ldap.bind_template": f"uid={{login}},{PEOPLE}"},
    }[mode]
    harness, testapp = site(**options)
    api_sign_in(testapp, "alice", "alice-ldap-pw")
    api_sign_in(testapp, "alice", "bad-password", status=401)
    assert groups_of(harness, "alice") == ["developers"]


def test_tls_with_an_untrusted_certificate_is_refused(site, slapd):
    harness, testapp = site(**{"anarepo.ldap.url": slapd.tls_url})  # the system CAs do not know the test CA
    assert api_sign_in(testapp, "alice", "alice-ldap-pw", status=503).json["error"].startswith("the sign-in directory")


def test_referrals_are_never_followed_with_our_credentials(site, slapd):
    """A referral in the directory (or planted by whoever may write there) would make
    ldap3 connect to its host and bind there with the service account's password."""
    import socket
    import threading

    trap = socket.socket()
    trap.bind(("127.0.0.1", 0))
    trap.listen(5)
    trap.settimeout(0.2)
    visits = []

    def watch():
        while not stop.is_set():
            try:
                conn, _ = trap.accept()
                visits.append(conn.recv(4096))
                conn.close()
            except OSError:
                pass

    stop = threading.Event()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    dn = f"ou=elsewhere,{PEOPLE}"
    with slapd.admin() as conn:
        conn.add(dn, ["referral", "extensibleObject"],
                 {"ou": "elsewhere", "ref": f"ldap://127.0.0.1:{trap.getsockname()[1]}/{PEOPLE}"})
        assert conn.result["result"] == 0, conn.result
    try:
        harness, testapp = site(**{"anarepo.ldap.search_base": dn})  # the server answers "referral" (10)
        api_sign_in(testapp, "alice", "alice-ldap-pw", status=401)
    finally:
        with slapd.admin() as conn:
            conn.delete(dn, controls=[("2.16.840.1.113730.3.4.2", True, None)])  # ManageDsaIT
        stop.set()
        watcher.join(timeout=2)
        trap.close()
    assert visits == []


def test_a_directory_user_runs_the_browser_flow_of_anaconda_login(site):
    from tests.oidc_flow import Flow, mint, redirect_query

    harness, testapp = site()
    flow = Flow(testapp)
    login_page = flow.authorize(status=302).follow()
    form = [f for f in login_page.forms.values() if f.action.endswith("/account/login")][0]
    form["login"], form["password"] = "bob", "bob-ldap-pw"
    consent = form.submit(status=302).follow()
    query = redirect_query(consent.forms["consent-form"].submit("decision", value="allow", status=302))
    token = mint(testapp, flow.exchange(query["code"]).json["access_token"]).json["token"]
    assert testapp.get("/api/user", headers={"Authorization": f"token {token}"}).json["login"] == "bob"
    assert groups_of(harness, "bob") == ["developers", "ops"]


def test_a_directory_name_that_cannot_be_an_account_is_refused_clearly(site, slapd):
    harness, testapp = site()
    slapd.add_user("conda", "conda-ldap-pw")  # a reserved name here
    try:
        refused = web_sign_in(testapp, "conda", "conda-ldap-pw", status=403)
        assert "cannot be an account name here" in refused.text
    finally:
        slapd.remove(f"uid=conda,{PEOPLE}")
    with harness.root() as root:
        assert "conda" not in root.owners


def test_a_direct_bind_signs_in_only_as_the_entry_it_bound_as(site, slapd):
    """With ``bind_template`` the password proves the bound DN; the entry the filter
    finds must be that one.  Here the filter looks at ``cn``, and eve's login names
    another person's cn: she binds as herself and would be signed in as zvictim."""
    slapd.add_user("eve", "eve-ldap-pw", cn="Evelyn")
    slapd.add_user("zvictim", "zvictim-ldap-pw", cn="Eve")
    harness, testapp = site(**{"anarepo.ldap.bind_dn": "", "anarepo.ldap.bind_password": "",
                               "anarepo.ldap.bind_template": f"uid={{login}},{PEOPLE}",
                               "anarepo.ldap.user_filter": "(&(objectClass=inetOrgPerson)(cn={login}))"})
    api_sign_in(testapp, "eve", "eve-ldap-pw", status=401)
    with harness.root() as root:
        assert "zvictim" not in root.owners and "eve" not in root.owners


def test_another_directory_entry_under_a_reused_name_is_another_person(site, slapd):
    """A directory account is bound to its entry's entryUUID: a DN may move (a rename,
    another OU), but when frank leaves and a new frank is created under the same name,
    the newcomer does not get the old account (its packages, its tokens): sign-in is
    refused, and the old account's tokens stop at the next re-check."""
    interval = 1.0
    harness, testapp = site(**{"anarepo.ldap.recheck_interval": str(interval)})
    dn = slapd.add_user("frank", "frank-ldap-pw")
    try:
        token = api_sign_in(testapp, "frank", "frank-ldap-pw").json["token"]
        with harness.root() as root:
            assert root.external_accounts.accounts["frank"].subject.startswith("uuid:")
        slapd.remove(dn)
        slapd.add_user("frank", "new-frank-pw")  # same name, same DN, another entry
        time.sleep(interval + 0.1)
        auth = {"Authorization": f"token {token}"}
        assert testapp.get("/api/user", headers=auth, status=401).json["error"].startswith("the account was removed")
        refused = api_sign_in(testapp, "frank", "new-frank-pw", status=403).json["error"]
        assert "another ldap identity" in refused
    finally:
        slapd.remove(f"uid=frank,{PEOPLE}")

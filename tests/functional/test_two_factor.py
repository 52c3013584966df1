"""TOTP two-step verification for local passwords, through the real app: enrolment with a
QR code and a confirming code, recovery codes shown once and stored hashed, the code
step of the web login (throttled, no replay), and the API's password-plus-code login
that ``anaconda login --username --password`` can send."""
from __future__ import annotations

import base64
import re
import time

import pyotp
import pytest

from anarepo.testing import DEFAULT_PASSWORD, csrf_from, make_settings, web_login

FAST = {"anarepo.login.free_attempts": "3", "anarepo.login.base_delay": "5", "anarepo.login.max_delay": "5"}


@pytest.fixture
def anarepo_settings(tmp_path):
    return make_settings(tmp_path, **FAST)


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def current_step() -> int:
    """The TOTP step now, far enough from its end that a test's few requests stay in it."""
    if time.time() % 30 > 20:  # 10 s for the requests that use the code, on a loaded machine
        time.sleep(30 - time.time() % 30 + 0.1)
    return int(time.time() // 30)


def post_form(testapp, url, status=302, **fields):
    page = testapp.get(url)
    return testapp.post(url, {"csrf_token": csrf_from(page), **fields}, status=status)


def enroll(app, testapp, login="alice"):
    """Sign in, turn two-step verification on; return (secret, recovery codes, step)."""
    app.make_user(login)
    web_login(testapp, login)
    post_form(testapp, "/account/two-factor", action="begin")
    page = testapp.get("/account/two-factor")
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page.text).group(1)
    step = current_step()
    done = post_form(testapp, "/account/two-factor", status=200, action="confirm", code=code_at(secret, step - 1))
    codes = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", done.text)
    assert len(codes) == 10
    return secret, codes, step


def sign_in_password(testapp, login="alice", password=DEFAULT_PASSWORD, came_from=""):
    page = testapp.get("/account/login")
    return testapp.post("/account/login", {"login": login, "password": password, "came_from": came_from,
                                           "csrf_token": csrf_from(page)}, status=302)


def api_login(testapp, login, password, status=200):
    basic = base64.b64encode(f"{login}:{password}".encode()).decode()
    return testapp.post_json("/api/authentications", {"note": f"n{time.time()}", "scopes": ["all"]},
                             headers={"Authorization": f"Basic {basic}"}, status=status)


def logout(testapp):
    page = testapp.get("/account/settings")
    testapp.post("/account/logout", {"csrf_token": csrf_from(page)}, status=302)


def test_enrolment_shows_a_qr_code_and_needs_a_right_code(app, testapp):
    app.make_user("alice")
    web_login(testapp, "alice")
    post_form(testapp, "/account/two-factor", action="begin")
    page = testapp.get("/account/two-factor")
    assert page.headers["Cache-Control"] == "no-store"
    assert "<svg" in page.text and 'class="qr"' in page.text
    uri = re.search(r'id="totp-uri">([^<]+)<', page.text).group(1)
    assert uri.startswith("otpauth://totp/anarepo-test:alice?secret=")
    refused = post_form(testapp, "/account/two-factor", status=400, action="confirm", code="000000")
    assert "not right" in refused.text
    with app.root() as root:
        assert root.owners["alice"].second_factor.confirmed is False
    logout(testapp)
    sign_in_password(testapp)  # a pending set-up asks nothing at sign-in
    assert testapp.get("/account/settings").status_int == 200


def test_sign_in_asks_for_the_code_and_refuses_a_replayed_one(app, testapp):
    secret, codes, step = enroll(app, testapp)
    with app.root() as root:
        factor = root.owners["alice"].second_factor
        stored = set(factor.recovery)
    assert not stored & set(codes) and not stored & {c.replace("-", "") for c in codes}  # hashed
    logout(testapp)
    response = sign_in_password(testapp, came_from="/alice/")
    assert response.location == "http://localhost/account/login/code"
    assert "/account/login" in testapp.get("/account/settings", status=302).location  # not signed in yet
    assert "Invalid code" in post_form(testapp, "/account/login/code", status=400, code="123456").text
    done = post_form(testapp, "/account/login/code", code=code_at(secret, step))
    assert done.location == "http://localhost/alice/"
    assert testapp.get("/account/settings").status_int == 200
    logout(testapp)
    sign_in_password(testapp)
    post_form(testapp, "/account/login/code", status=400, code=code_at(secret, step))  # used once already
    post_form(testapp, "/account/login/code", status=400, code=code_at(secret, step - 1))  # older still
    post_form(testapp, "/account/login/code", code=code_at(secret, step + 1))


def test_a_recovery_code_signs_in_once(app, testapp):
    secret, codes, step = enroll(app, testapp)
    logout(testapp)
    sign_in_password(testapp)
    page = post_form(testapp, "/account/login/code", code=codes[3].upper()).follow()
    assert "recovery code; 9 left" in page.text
    logout(testapp)
    sign_in_password(testapp)
    post_form(testapp, "/account/login/code", status=400, code=codes[3])


def test_code_guesses_are_throttled_and_a_right_password_does_not_reset_them(app, testapp):
    secret, codes, step = enroll(app, testapp)
    logout(testapp)
    sign_in_password(testapp)
    for guess in ("111111", "222222", "333333"):
        post_form(testapp, "/account/login/code", status=400, code=guess)
    throttled = post_form(testapp, "/account/login/code", status=429, code=code_at(secret, step))
    assert "too many wrong codes" in throttled.text and throttled.headers["Retry-After"]
    sign_in_password(testapp)  # the password is still right ...
    post_form(testapp, "/account/login/code", status=429, code=code_at(secret, step))  # ... the wait stands
    assert "/account/login" in testapp.get("/account/settings", status=302).location


def test_the_code_page_without_a_password_step_goes_back_to_the_login(app, testapp):
    assert testapp.get("/account/login/code", status=302).location == "http://localhost/account/login"
    page = testapp.get("/account/login")
    testapp.post("/account/login/code", {"csrf_token": csrf_from(page), "code": "123456"}, status=302)
    assert "/account/login" in testapp.get("/account/settings", status=302).location


def test_api_password_login_needs_the_code_after_the_password(app, testapp):
    secret, codes, step = enroll(app, testapp)
    refused = api_login(testapp, "alice", DEFAULT_PASSWORD, status=403).json["error"]
    assert "two-step verification" in refused and "append the current 6-digit code" in refused
    api_login(testapp, "alice", DEFAULT_PASSWORD + "000000", status=403)
    assert api_login(testapp, "alice", "wrong-password" + code_at(secret, step),
                     status=401).json == {"error": "invalid user name or password"}
    api_login(testapp, "alice", DEFAULT_PASSWORD + codes[0], status=401)  # recovery codes are for the web
    token = api_login(testapp, "alice", DEFAULT_PASSWORD + code_at(secret, step)).json["token"]
    assert testapp.get("/api/user", headers={"Authorization": f"token {token}"}).json["login"] == "alice"
    api_login(testapp, "alice", DEFAULT_PASSWORD + code_at(secret, step), status=403)  # no replay


def test_turning_it_off_needs_the_password_and_a_code_and_the_page_needs_a_session(app, testapp):
    secret, codes, step = enroll(app, testapp)
    token = app.make_token("alice", scopes=["all"])
    testapp.get(f"/t/{token}/account/two-factor", status=403)
    assert "not correct" in post_form(testapp, "/account/two-factor", status=400, action="disable",
                                      password="wrong-password", code=code_at(secret, step)).text
    post_form(testapp, "/account/two-factor", status=400, action="disable", password=DEFAULT_PASSWORD, code="999999")
    with app.root() as root:
        assert root.owners["alice"].second_factor.confirmed
    post_form(testapp, "/account/two-factor", action="disable", password=DEFAULT_PASSWORD, code=codes[0])
    with app.root() as root:
        assert root.owners["alice"].second_factor is None
    logout(testapp)
    sign_in_password(testapp)
    assert testapp.get("/account/settings").status_int == 200


def test_new_recovery_codes_replace_the_old_ones(app, testapp):
    secret, codes, step = enroll(app, testapp)
    page = post_form(testapp, "/account/two-factor", status=200, action="recovery", code=code_at(secret, step))
    fresh = re.findall(r"<li><code>([0-9a-f]{5}-[0-9a-f]{5})</code></li>", page.text)
    assert len(fresh) == 10 and not set(fresh) & set(codes)
    logout(testapp)
    sign_in_password(testapp)
    post_form(testapp, "/account/login/code", status=400, code=codes[1])
    post_form(testapp, "/account/login/code", code=fresh[1])


def test_the_browser_flow_of_anaconda_login_asks_for_the_code_and_returns_to_the_consent(app, testapp):
    from tests.oidc_flow import Flow, mint, redirect_query

    secret, codes, step = enroll(app, testapp)
    logout(testapp)
    flow = Flow(testapp)
    login_page = flow.authorize(status=302).follow()
    form = [f for f in login_page.forms.values() if f.action.endswith("/account/login")][0]
    form["login"], form["password"] = "alice", DEFAULT_PASSWORD
    to_code = form.submit(status=302)
    assert to_code.location == "http://localhost/account/login/code"
    back = post_form(testapp, "/account/login/code", code=code_at(secret, step))
    assert back.location.startswith("http://localhost/account/oauth/authorize?")  # came_from kept
    consent = back.follow()
    query = redirect_query(consent.forms["consent-form"].submit("decision", value="allow", status=302))
    access = flow.exchange(query["code"]).json["access_token"]
    assert mint(testapp, access).json["token"].startswith("ar-")


def test_the_password_of_the_off_switch_is_throttled(app, testapp):
    """Turning two-step verification off asks for the password: with a borrowed session
    those guesses count under the login throttle, so the right one waits too."""
    secret, codes, step = enroll(app, testapp)
    for i in range(3):
        post_form(testapp, "/account/two-factor", status=400, action="disable", password=f"wrong-{i}", code=codes[0])
    r = post_form(testapp, "/account/two-factor", status=429, action="disable", password=DEFAULT_PASSWORD,
                  code=codes[0])
    assert "too many wrong passwords" in r.text and r.headers["Retry-After"]
    with app.root() as root:
        assert root.owners["alice"].second_factor.confirmed
        assert root.owners["alice"].second_factor.use_recovery_code(codes[0])  # not spent by the refusals

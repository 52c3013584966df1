"""Two-step verification in Chromium: set up with the QR code page, recovery codes shown
once, then a sign-in that asks for the code after the password."""
from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect

from .conftest import shot


def test_set_up_two_step_verification_then_sign_in_with_a_code(site, as_user, context_factory):
    site.app.make_user("tina")
    page = as_user("tina")
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(site.url + "/account/two-factor")
    page.get_by_role("button", name="Set up two-step verification").click()
    page.wait_for_load_state()
    expect(page.locator("figure.qr svg")).to_be_visible()  # the inline SVG passes the CSP
    secret = page.locator("#totp-secret").inner_text()
    shot(page, "two-factor-setup")
    if time.time() % 30 > 20:  # leave the requests that use the code 10 s inside one TOTP step
        time.sleep(30 - time.time() % 30 + 0.1)
    step = int(time.time() // 30)
    page.get_by_label("Code from the app").fill(pyotp.TOTP(secret).generate_otp(step - 1))
    page.get_by_role("button", name="Turn on").click()
    page.wait_for_load_state()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    shot(page, "two-factor-recovery-codes")
    page.reload()
    expect(page.locator("#recovery-codes")).to_have_count(0)  # shown once
    assert not [e for e in errors if "Content Security Policy" in e]

    other = context_factory().new_page()
    other.goto(site.url + "/account/login")
    other.get_by_label("User name").fill("tina")
    other.get_by_label("Password").fill("correct-horse-battery")
    other.get_by_role("button", name="Log in").click()
    other.wait_for_load_state()
    assert other.url.endswith("/account/login/code")
    other.get_by_label("Code from your authenticator app").fill(pyotp.TOTP(secret).generate_otp(step))
    other.get_by_role("button", name="Verify").click()
    other.wait_for_load_state()
    other.goto(site.url + "/account/settings")
    expect(other.locator("main")).to_contain_text("Signed in as tina")

"""Optional second factor for local passwords: TOTP (RFC 6238, pyotp) and recovery codes.

A user enrolls on ``/account/two-factor``: a fresh secret is shown as a QR code
and an ``otpauth://`` URI, and becomes active once a code from the
authenticator app confirms it.  Then ten recovery codes are shown, once; only
their sha256 is kept (they are 80 random bits, so a fast hash is enough).  The
TOTP secret itself must be readable to check codes: it is stored as is, like
every TOTP server does, and protected as the database is.

A code is accepted for the current 30-second step and one step either side; a
step once used is never accepted again (no replay of an observed code).  Code
guesses are throttled under their own key (``totp:<login>``), which only a
right code clears: a right password does not reset them.
"""
from __future__ import annotations

import hmac
import secrets
import time

import pyotp
from BTrees.OOBTree import OOTreeSet
from persistent import Persistent

STEP = 30
WINDOW = 1  # steps either side of now
RECOVERY_CODES = 10
PENDING_SECONDS = 300  # a password sign-in waits this long for its code


class SecondFactor(Persistent):
    """A user's TOTP secret (pending until confirmed), last used step and recovery codes."""

    def __init__(self, secret: str):
        self.secret = secret
        self.confirmed = False
        self.last_step = 0
        self.recovery = OOTreeSet()  # sha256 hex digests of unused recovery codes

    def totp(self) -> pyotp.TOTP:
        return pyotp.TOTP(self.secret, interval=STEP)

    def verify(self, code: str, now: float | None = None) -> bool:
        """A right code for a step not used yet (the step is then used up)."""
        code = (code or "").strip().replace(" ", "")
        if len(code) != 6 or not code.isdigit():
            return False
        current = int((time.time() if now is None else now) // STEP)
        totp = self.totp()
        for step in range(current - WINDOW, current + WINDOW + 1):
            if step > self.last_step and hmac.compare_digest(totp.generate_otp(step), code):
                self.last_step = step
                return True
        return False

    def new_recovery_codes(self) -> list[str]:
        """Replace the recovery codes; the plain codes are returned to be shown once."""
        codes = ["-".join(secrets.token_hex(5)[i:i + 5] for i in (0, 5)) for _ in range(RECOVERY_CODES)]
        self.recovery.clear()
        for code in codes:
            self.recovery.add(_digest(code))
        return codes

    def use_recovery_code(self, code: str) -> bool:
        digest = _digest(code)
        if digest in self.recovery:
            self.recovery.remove(digest)
            return True
        return False


def _digest(code: str) -> str:
    """A recovery code's digest, as typed: case, dashes and spaces do not matter."""
    from .tokens import secret_digest

    return secret_digest((code or "").strip().lower().replace("-", "").replace(" ", ""))


def active_factor(user) -> SecondFactor | None:
    """The user's confirmed second factor, or None."""
    factor = getattr(user, "second_factor", None)  # organizations have none
    return factor if factor is not None and factor.confirmed else None


def begin_enrollment(user) -> SecondFactor:
    """A new pending secret (replacing a pending one; never an active one)."""
    if active_factor(user) is not None:
        raise ValueError("two-step verification is on already")
    user.second_factor = SecondFactor(pyotp.random_base32())
    return user.second_factor


def provisioning_uri(factor: SecondFactor, login: str, issuer: str) -> str:
    return factor.totp().provisioning_uri(name=login, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The URI as an inline SVG QR code (segno; no script, no external image)."""
    import segno

    return segno.make(uri, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def code_keys(login: str, address: str | None) -> list[str]:
    """Throttle keys of code guesses: their own per account, the address shared with passwords."""
    from .throttle import address_key

    keys = [f"totp:{(login or '').lower()[:100]}"]
    if address:
        keys.append(address_key(address))
    return keys

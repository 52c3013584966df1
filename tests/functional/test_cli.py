"""The ``anarepo`` console script, run as a real subprocess on a real .ini."""
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ANAREPO = str(Path(sys.executable).with_name("anarepo"))


def run(*args, stdin="", cwd=None):
    return subprocess.run([ANAREPO, *args], input=stdin, capture_output=True, text=True, cwd=cwd, timeout=120)


@pytest.fixture
def ini(tmp_path):
    """A copy of development.ini elsewhere: its data must follow it (var/ beside it)."""
    target = tmp_path / "site" / "development.ini"
    target.parent.mkdir()
    text = (REPO / "development.ini").read_text()
    text = text.replace("[app:main]", "[app:main]\nanarepo.argon2.time_cost = 1\nanarepo.argon2.memory_cost = 64", 1)
    target.write_text(text)
    return target


def test_init_creates_the_database_beside_the_ini(ini):
    result = run("-c", str(ini), "init")
    assert result.returncode == 0, result.stderr
    assert "database ready" in result.stdout
    assert (ini.parent / "var" / "Data.fs").exists()
    assert (ini.parent / "var" / "blobs").is_dir()
    assert not (REPO / "var" / "should-not-exist").exists()


def test_default_config_is_development_ini_in_cwd(ini):
    result = run("init", cwd=ini.parent)
    assert result.returncode == 0, result.stderr


def test_user_add_list_and_token_create(ini):
    result = run("-c", str(ini), "user", "add", "Alice", "--email", "alice@example.com", "--password-stdin", "--admin",
                 stdin="a-long-password\n")
    assert result.returncode == 0, result.stderr
    assert "created user alice (site admin)" in result.stdout
    listing = run("-c", str(ini), "user", "list")
    assert listing.stdout.startswith("alice\talice@example.com\t") and listing.stdout.rstrip().endswith("admin")
    token = run("-c", str(ini), "token", "create", "alice", "--name", "ci", "--scopes", "conda:download", "pypi:download")
    assert token.returncode == 0, token.stderr
    raw = token.stdout.strip()
    assert raw.startswith("ar-") and len(raw) == 43 and raw.replace("-", "").isalnum()


@pytest.mark.parametrize(
    "args,stdin,message",
    [
        (["user", "add", "api", "--email", "a@example.com", "--password-stdin"], "a-long-password\n", "reserved"),
        (["user", "add", "bob", "--email", "nope", "--password-stdin"], "a-long-password\n", "e-mail"),
        (["user", "add", "bob", "--email", "b@example.com", "--password-stdin"], "short\n", "at least 8"),
        (["user", "add", "bob", "--email", "b@example.com", "--password-stdin"], "", "no password"),
        (["user", "add", "bob", "--email", "b@example.com"], "", "--password-stdin"),
        (["token", "create", "ghost", "--name", "x"], "", "no user named"),
    ],
)
def test_errors_are_one_clear_line_and_exit_1(ini, args, stdin, message):
    result = run("-c", str(ini), *args, stdin=stdin)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_duplicate_user_and_bad_scope(ini):
    assert run("-c", str(ini), "user", "add", "bob", "--email", "b@example.com", "--password-stdin", stdin="a-long-password\n").returncode == 0
    again = run("-c", str(ini), "user", "add", "BOB", "--email", "b@example.com", "--password-stdin", stdin="a-long-password\n")
    assert again.returncode == 1 and "taken" in again.stderr
    scope = run("-c", str(ini), "token", "create", "bob", "--name", "x", "--scopes", "root")
    assert scope.returncode == 1 and "unknown scope" in scope.stderr


def test_usage_errors_exit_2(ini):
    assert run("-c", str(ini)).returncode == 2
    assert run("-c", str(ini), "user", "frobnicate").returncode == 2


def test_missing_ini(tmp_path):
    result = run("-c", str(tmp_path / "nope.ini"), "init")
    assert result.returncode == 1 and "not found" in result.stderr


def test_evolve_on_a_current_database(ini):
    assert run("-c", str(ini), "init").returncode == 0
    result = run("-c", str(ini), "evolve")
    assert result.returncode == 0 and "ran 0 evolve step(s)" in result.stdout

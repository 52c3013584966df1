from anarepo.http.middleware import TokenPrefixMiddleware, redact


def run(path, host="localhost", script=""):
    seen = {}

    def app(environ, start_response):
        seen.update(environ)
        start_response("200 OK", [])
        return [b""]

    environ = {"PATH_INFO": path, "SCRIPT_NAME": script, "HTTP_HOST": host}
    status = []
    # the mounts the built-in faces register (tests/functional/test_faces.py reads them from the app)
    TokenPrefixMiddleware(app, mounts=("api", "conda", "pypi", "r"), subdomain_mounts=("conda", "pypi"))(
        environ, lambda s, h: status.append(s))
    return seen, status[0]


def test_root_token_moves_into_script_name():
    env, _ = run("/t/abc-DEF123/conda/alice/noarch/repodata.json")
    assert env["anarepo.token"] == "abc-DEF123"
    assert env["SCRIPT_NAME"] == "/t/abc-DEF123"
    assert env["PATH_INFO"] == "/conda/alice/noarch/repodata.json"


def test_token_after_mount_point_is_cut_out():
    env, _ = run("/conda/t/tk-1/alice/label/dev/noarch/repodata.json")
    assert env["anarepo.token"] == "tk-1"
    assert env["PATH_INFO"] == "/conda/alice/label/dev/noarch/repodata.json"
    assert env["SCRIPT_NAME"] == ""
    env, _ = run("/pypi/t/tk-1/alice/simple/")
    assert env["PATH_INFO"] == "/pypi/alice/simple/"
    env, _ = run("/api/t/tk-1/user")
    assert env["PATH_INFO"] == "/api/user"


def test_deployment_prefix_is_kept():
    env, _ = run("/t/tk/alice", script="/repo")
    assert env["SCRIPT_NAME"] == "/repo/t/tk"
    assert env["anarepo.script_name"] == "/repo"


def test_two_different_tokens_are_refused():
    _, status = run("/t/one/conda/t/two/alice/")
    assert status.startswith("400")


def test_subdomains_map_to_faces():
    env, _ = run("/alice/noarch/repodata.json", host="conda.example.com")
    assert env["PATH_INFO"] == "/conda/alice/noarch/repodata.json"
    env, _ = run("/t/tk/alice/simple/", host="pypi.example.com:8080")
    assert env["PATH_INFO"] == "/pypi/alice/simple/"
    assert env["anarepo.token"] == "tk"


def test_paths_without_tokens_are_untouched():
    env, _ = run("/alice/pkg")
    assert "anarepo.token" not in env and env["PATH_INFO"] == "/alice/pkg"
    env, _ = run("/t/bad.token/x")  # '.' is not in the token alphabet: an ordinary path
    assert "anarepo.token" not in env


def test_redact():
    assert redact("/conda/t/abc-1/alice") == "/conda/t/<TOKEN>/alice"


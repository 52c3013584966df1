"""Package types load without a server, as the client needs them."""

def test_package_types_load_without_a_server():
    """The client detects types locally: every plugin must load without a database."""
    from anarepo.plugins import standalone_registry

    types = standalone_registry().package_types
    assert {"conda", "pypi", "r", "ipynb", "env", "project", "file"} <= set(types)

"""A small but complete site for web tests: users, an organization, and a package
of every type (public and private), published through the real upload path."""
from __future__ import annotations

from anarepo.package_types.pypi.builders import wheel
from tests.builders import ENVIRONMENT, notebook, notebook_with_script, project_archive, r_package
from tests.conda_builders import build_package, publish_conda

CSV = b"name,count\nada,3\nbob,5\n"


def populate(app) -> dict:
    app.make_user("root-admin", admin=True)
    app.make_user("alice")
    app.make_user("bob")
    app.make_org("acme", "alice")
    fn, data = build_package("mypkg", "1.0", about={"summary": "My conda package"})
    publish_conda(app, "alice", fn, data)
    fn, data = build_package("mypkg", "2.0")
    publish_conda(app, "alice", fn, data, labels=["dev"])
    fn, data = wheel("pyfoo", "0.1")
    app.upload("alice", fn, data)
    app.upload("alice", "analysis.ipynb", notebook(title="Sales report"))
    app.upload("alice", "evil.ipynb", notebook_with_script())
    app.upload("alice", "environment.yml", ENVIRONMENT, name="analysis-env")
    app.upload("alice", "mytool_1.2.3.tar.gz", r_package("mytool"))
    app.upload("alice", "myproject.tar.gz", project_archive(), version="1")
    app.upload("alice", "baby-names1.csv", CSV, type_name="file", name="baby-names", version="1")
    app.upload("alice", "baby-names2.csv", CSV + b"cy,1\n", type_name="file", name="baby-names", version="2")
    app.upload("alice", "secret.txt", b"top secret\n", type_name="file", name="secret", version="1", access="private")
    app.upload("acme", "orgdata.csv", CSV, type_name="file", name="orgdata", version="1")
    return {"users": ["root-admin", "alice", "bob"], "org": "acme"}

"""Plain files with CSV previews, R packages with a CRAN index, projects with revisions."""
import gzip

import pytest

from anarepo.plugins import InvalidPackage
from tests.builders import project_archive, r_package, tar_gz


def test_csv_file_shows_a_table_preview(app, testapp):
    app.make_user("travis")
    app.upload("travis", "baby-names1.csv", b"name,count\nEmma,20\n<b>Liam</b>,19\n",
               type_name="file", name="baby-names", version="1")
    page = testapp.get("/travis/baby-names")
    table = page.html.find("table", class_="preview")
    assert [th.text for th in table.find_all("th")] == ["name", "count"]
    cells = [td.text for td in table.find_all("td")]
    assert cells == ["Emma", "20", "<b>Liam</b>", "19"]  # escaped, shown as text
    with pytest.raises(InvalidPackage, match="explicit package name"):
        app.upload("travis", "other.csv", b"a\n", type_name="file")


def test_r_package_is_indexed_in_packages(app, testapp):
    app.make_user("alice")
    app.upload("alice", "mypkg_1.2.3.tar.gz", r_package())
    app.upload("alice", "mypkg_1.3.0.tar.gz", r_package(version="1.3.0"))
    app.upload("alice", "devpkg_0.1.tar.gz", r_package("devpkg", "0.1"), labels=["dev"])
    packages = testapp.get("/r/alice/src/contrib/PACKAGES").text
    assert "Package: mypkg\nVersion: 1.3.0\nDepends: R (>= 3.5)\nImports: methods\nLicense: MIT\nMD5sum: " in packages
    assert "1.2.3" not in packages and "devpkg" not in packages
    compressed = testapp.get("/r/alice/src/contrib/PACKAGES.gz")
    assert gzip.decompress(compressed.body).decode() == packages
    assert "devpkg" in testapp.get("/r/alice/label/dev/src/contrib/PACKAGES").text
    archive = testapp.get("/r/alice/src/contrib/mypkg_1.2.3.tar.gz")
    assert archive.body == r_package()
    testapp.get("/r/alice/src/contrib/devpkg_0.1.tar.gz", status=404)  # not in main
    testapp.get("/r/nobody/src/contrib/PACKAGES", status=404)


def test_private_r_packages_need_a_token(app, testapp):
    app.make_user("alice")
    app.upload("alice", "secretpkg_1.0.tar.gz", r_package("secretpkg", "1.0"), access="private")
    assert "secretpkg" not in testapp.get("/r/alice/src/contrib/PACKAGES").text
    testapp.get("/r/alice/src/contrib/secretpkg_1.0.tar.gz", status=404)
    token = app.make_token("alice", "r", ["repos"])
    assert "secretpkg" in testapp.get(f"/r/t/{token}/alice/src/contrib/PACKAGES").text
    assert "secretpkg" in testapp.get(f"/t/{token}/r/alice/src/contrib/PACKAGES").text
    testapp.get(f"/r/t/{token}/alice/src/contrib/secretpkg_1.0.tar.gz", status=200)


@pytest.mark.parametrize("files,message", [
    ({"mypkg/DESCRIPTION": b"Package: mypkg\nVersion: 1.0\n", "../evil": b"x"}, "unsafe path"),
    ({"mypkg/DESCRIPTION": b"Package: mypkg\nVersion: 1.0\n", "/etc/passwd": b"x"}, "unsafe path"),
    ({"mypkg/DESCRIPTION": b"Version: 1.0\n"}, "no Package field"),
    ({"other/DESCRIPTION": b"Package: mypkg\nVersion: 1.0\n"}, "is not the package"),
])
def test_bad_r_archives_are_refused(app, files, message):
    app.make_user("alice")
    with pytest.raises(InvalidPackage, match=message):
        app.upload("alice", "mypkg_1.0.tar.gz", tar_gz(files), type_name="r")
    with pytest.raises(InvalidPackage, match="named mypkg_1.2.3.tar.gz"):
        app.upload("alice", "renamed.tar.gz", r_package(), type_name="r")
    with pytest.raises(InvalidPackage, match="not a readable tar"):
        app.upload("alice", "mypkg_1.0.tar.gz", b"garbage", type_name="r")
    with app.root() as root:
        assert len(root.owners["alice"].packages) == 0


def test_project_revisions_and_history(app, testapp):
    app.make_user("alice")
    app.upload("alice", "myproject.tar.gz", project_archive(), version="1")
    app.upload("alice", "myproject.tar.gz", project_archive(revision_text="v2", extra={"myproject/README.md": b"# hi\n"}), version="2")
    page = testapp.get("/alice/myproject")
    assert "revision 2" in page.text and "README.md" in page.text and "data/values.csv" in page.text
    rows = page.html.find("h2", string="Revisions and history").find_next("table").find_all("tr")[1:]
    assert [r.find("td").text for r in rows] == ["2", "1"]
    assert "<code>run</code>" in page.text


def test_unsafe_project_archives_are_refused(app):
    app.make_user("alice")
    with pytest.raises(InvalidPackage, match="unsafe path"):
        app.upload("alice", "p.tar.gz", tar_gz({"p/anaconda-project.yml": b"name: p\n", "p/../../x": b"x"}),
                   type_name="project", version="1")
    with pytest.raises(InvalidPackage, match="revisions are numbers"):
        app.upload("alice", "p.tar.gz", project_archive("p"), type_name="project", version="one")


def test_the_r_index_reads_no_file_of_a_package_without_r_files(app):
    """A change to a conda package (a mirror batch changes big ones) costs the R type
    nothing: it used to load every file of every changed package to find R ones."""
    from anarepo.services.events import PackageChanged
    from tests.conda_builders import build_package, publish_conda

    app.make_user("alice")
    for minor in range(5):
        publish_conda(app, "alice", *build_package("tool", f"1.{minor}"))
    with app.root() as root:
        package = root.owners["alice"].get_package("tool")
        dists = list(package.distributions())
        root._p_jar.cacheMinimize()
        app.registry.package_types["r"].package_changed(PackageChanged(package), app.registry)
        assert all(dist._p_status == "ghost" for dist in dists)
    app.upload("alice", "mypkg_1.2.3.tar.gz", r_package())  # an R package is still indexed
    with app.root() as root:
        from anarepo.package_types.r.index import index_of

        assert index_of(root.owners["alice"]).places_of("mypkg")

"""Package types are plugins: a third-party type found through its entry point works
end to end; registering a type name twice is a configuration conflict."""
import pytest
import webtest
from pyramid.exceptions import ConfigurationConflictError

from anarepo import main
from anarepo.plugins import InvalidPackage
from anarepo.testing import AppHarness, make_settings
from tests.installed_plugins import install_distribution, plugins_installed

PLUGIN = '''
"""A third-party package type: shell installers (a name anaconda-client knows)."""
from pyramid.view import view_config
from anarepo.plugins.api import PackageType, FileInfo, InvalidPackage, Package

MAGIC = b"#!/bin/sh\\n# installer "

class InstallerType(PackageType):
    name = "installer"
    title = "Installer"
    detect_priority = 50

    def detect(self, filename, path):
        with open(path, "rb") as f:
            return filename.endswith(".sh") and f.read(len(MAGIC)) == MAGIC

    def inspect(self, path, filename, name=None, version=None):
        with open(path, "rb") as f:
            head = f.readline() and f.readline().decode()
        try:
            _, _, pkg, ver = head.split()
        except ValueError:
            raise InvalidPackage(f"{filename}: no installer header")
        return FileInfo(name=pkg, version=ver, basename=filename, summary=f"{pkg} installer")

@view_config(context=Package, name="installers", renderer="json")
def installers(request):
    return [d.basename for d in request.context.distributions() if d.type == "installer"]

def includeme(config):
    config.add_package_type(InstallerType)
    config.scan(__name__)
'''

DUPLICATE = '''
from anarepo.package_types.file import FileType

def includeme(config):
    config.add_package_type(FileType())
'''


def install_plugin(tmp_path, module_name, source, ep_name):
    """A real installed distribution with an entry point in the anarepo group."""
    return install_distribution(tmp_path / f"site-{module_name}", module_name, source, ep_name)


@pytest.fixture
def plugin_path(tmp_path):
    with plugins_installed("thirdparty_installer", "thirdparty_duplicate"):
        yield tmp_path


def test_third_party_type_works_end_to_end(plugin_path):
    install_plugin(plugin_path, "thirdparty_installer", PLUGIN, "installer")
    harness = AppHarness(main({}, **make_settings(plugin_path)))
    try:
        types = harness.registry.package_types
        assert "installer" in types and "file" in types
        installer = plugin_path / "tool-2.0.sh"
        installer.write_bytes(b"#!/bin/sh\n# installer tool 2.0\necho hi\n")
        ptype = types.detect(installer.name, installer)
        assert ptype is types["installer"]
        info = ptype.inspect(installer, installer.name)
        assert (info.name, info.version) == ("tool", "2.0")
        bogus = plugin_path / "bogus.sh"
        bogus.write_bytes(b"#!/bin/sh\n# installer\n")
        with pytest.raises(InvalidPackage):
            ptype.inspect(bogus, bogus.name)
        harness.make_user("alice")
        harness.publish_file("alice", info.name, info.version, installer.name, installer.read_bytes(), type_name="installer")
        testapp = webtest.TestApp(harness.wsgi_app)
        assert testapp.get("/alice/tool/@@installers").json == ["tool-2.0.sh"]
        page = testapp.get("/alice/tool")
        assert "tool-2.0.sh" in page.text and "Installer" in page.text  # the plugin's title names the type
    finally:
        harness.close()


def test_two_plugins_registering_one_type_conflict(plugin_path):
    install_plugin(plugin_path, "thirdparty_duplicate", DUPLICATE, "file-again")
    with pytest.raises(ConfigurationConflictError):
        main({}, **make_settings(plugin_path))


def test_disabled_plugins_are_not_loaded(plugin_path):
    install_plugin(plugin_path, "thirdparty_installer", PLUGIN, "installer")
    harness = AppHarness(main({}, **make_settings(plugin_path, **{"anarepo.disabled_plugins": "installer"})))
    try:
        assert "installer" not in harness.registry.package_types
    finally:
        harness.close()

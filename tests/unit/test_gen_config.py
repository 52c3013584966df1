"""``anarepo gen-config``: the files it writes parse as what reads them (ZConfig for the
database and the ZEO server, nginx -t for the front server), with absolute paths."""
from __future__ import annotations

import os
import shutil
import subprocess

import pytest
import ZConfig

from anarepo.cli import main


def gen(tmp_path, *args):
    return main(["gen-config", "--dir", str(tmp_path / "etc"), "--var", str(tmp_path / "var"), *args])


def load_zconfig(path):
    import ZODB.config  # the schema zodburi's zconfig:// uses: ZODB plus %import'ed components

    schema = ZConfig.loadSchemaFile(__import__("io").StringIO(
        '<schema><import package="ZODB"/><multisection type="ZODB.database" attribute="databases"/></schema>'))
    config, _ = ZConfig.loadConfig(schema, path)
    assert ZODB.config is not None
    return config.databases[0]


def test_zeo_site_files(tmp_path, capsys):
    assert gen(tmp_path, "--ports", "7001,7002", "--zeo-address", "127.0.0.1:9100") == 0
    written = capsys.readouterr().out.split()
    etc = tmp_path / "etc"
    assert sorted(os.path.relpath(p, etc) for p in written) == [
        "anarepo.ini", "nginx-anarepo.conf", "systemd/anarepo-init.service", "systemd/anarepo-zeo.service",
        "systemd/anarepo@.service", "zeo.conf", "zodb.conf"]
    db = load_zconfig(str(etc / "zodb.conf"))
    client = db.config.storage.config
    assert client.server_sync is True and client.shared_blob_dir is True
    assert client.blob_dir == str(tmp_path / "var" / "blobs")
    zeo = (etc / "zeo.conf").read_text()
    assert f"blob-dir {tmp_path / 'var' / 'blobs'}" in zeo and "127.0.0.1:9100" in zeo
    ini = (etc / "anarepo.ini").read_text()
    assert f"zconfig://{etc / 'zodb.conf'}" in ini and "anarepo.x_accel.location = /_anarepo_blobs/" in ini
    nginx = (etc / "nginx-anarepo.conf").read_text()
    assert "server 127.0.0.1:7001" in nginx and "server 127.0.0.1:7002" in nginx
    assert f"alias {tmp_path / 'var' / 'blobs'}/;" in nginx and "internal;" in nginx
    assert "serve --port %i" in (etc / "systemd" / "anarepo@.service").read_text()


def test_relstorage_site_files(tmp_path):
    pytest.importorskip("relstorage")
    assert gen(tmp_path, "--backend", "relstorage", "--dsn", "dbname='x' user='y'", "--no-x-accel") == 0
    etc = tmp_path / "etc"
    db = load_zconfig(str(etc / "zodb.conf"))
    assert db.config.storage.config.keep_history is False
    assert (etc / "zodbpack.conf").exists() and not (etc / "zeo.conf").exists()
    assert "x_accel" not in (etc / "anarepo.ini").read_text()
    assert "_anarepo_blobs" not in (etc / "nginx-anarepo.conf").read_text()


@pytest.mark.skipif(shutil.which("nginx") is None and not os.path.exists("/usr/sbin/nginx"), reason="no nginx")
def test_nginx_accepts_the_generated_config(tmp_path):
    from tests.deploy.services import Nginx

    assert gen(tmp_path, "--listen", "127.0.0.1:18080") == 0
    nginx = Nginx(str(tmp_path / "nginx"), str(tmp_path / "etc" / "nginx-anarepo.conf"), 18080)
    conf = nginx.write_main_conf()
    result = subprocess.run([Nginx.BIN, "-t", "-c", conf, "-p", nginx.dir], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_bad_ports_are_refused(tmp_path, capsys):
    assert gen(tmp_path, "--ports", "80,x") == 1
    assert "--ports must be numbers" in capsys.readouterr().err
    assert not (tmp_path / "etc").exists()

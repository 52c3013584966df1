"""A real OpenLDAP ``slapd`` for sign-in tests, in a temporary directory.

Debian's ``slapd`` (scripts/system-packages.txt) runs with its own ``slapd.conf``
(``slapd -f``; never the system service), an mdb database, the standard schemas,
and a test CA's certificate for ``ldaps://`` and StartTLS, on free loopback
ports.  ``LdapServer.admin()`` is an ldap3 connection as the root DN for
arranging and changing entries while anarepo uses the server.
"""
from __future__ import annotations

import datetime
import ipaddress
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

SUFFIX = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{SUFFIX}"
ROOT_PASSWORD = "admin-secret"
READER_DN = f"cn=reader,{SUFFIX}"
READER_PASSWORD = "reader-secret"
PEOPLE = f"ou=people,{SUFFIX}"
GROUPS = f"ou=groups,{SUFFIX}"

CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile {dir}/slapd.pid
argsfile {dir}/slapd.args
TLSCACertificateFile {dir}/ca.pem
TLSCertificateFile {dir}/server.pem
TLSCertificateKeyFile {dir}/server.key
database mdb
maxsize 10485760
suffix "{suffix}"
rootdn "{root_dn}"
rootpw {root_password}
directory {dir}/db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_ca(directory: Path, host_ip: str = "127.0.0.1") -> None:
    """A throwaway CA (``ca.pem``) and a server certificate for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "anarepo test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                         x509.IPAddress(ipaddress.ip_address(host_ip))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()))


class LdapServer:
    def __init__(self, directory: Path):
        self.dir = directory
        self.port = free_port()
        self.tls_port = free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.tls_url = f"ldaps://127.0.0.1:{self.tls_port}"
        self.ca_file = str(directory / "ca.pem")
        self.process = None

    def start(self):
        slapd = shutil.which("slapd") or "/usr/sbin/slapd"
        if not Path(slapd).exists():
            pytest.skip("slapd is not installed (scripts/system-packages.txt)")
        (self.dir / "db").mkdir(exist_ok=True)
        if not (self.dir / "ca.pem").exists():
            make_ca(self.dir)
        conf = self.dir / "slapd.conf"
        conf.write_text(CONF.format(dir=self.dir, suffix=SUFFIX, root_dn=ROOT_DN, root_password=ROOT_PASSWORD))
        self.process = subprocess.Popen(
            [slapd, "-f", str(conf), "-h", f"{self.url}/ {self.tls_url}/", "-d", "0"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"slapd exited: {self.process.stderr.read().decode(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("slapd did not start")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def admin(self):
        from ldap3 import Connection, Server

        return Connection(Server(self.url), ROOT_DN, ROOT_PASSWORD, auto_bind=True)

    # -- arranging entries --------------------------------------------------------
    def seed(self):
        with self.admin() as conn:
            conn.add(SUFFIX, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
            conn.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
            conn.add(GROUPS, ["organizationalUnit"], {"ou": "groups"})
            conn.add(READER_DN, ["simpleSecurityObject", "organizationalRole"],
                     {"cn": "reader", "userPassword": READER_PASSWORD})
            assert conn.result["result"] == 0, conn.result
        return self

    def add_user(self, uid: str, password: str, mail: str | None = None, **attrs):
        with self.admin() as conn:
            conn.add(f"uid={uid},{PEOPLE}", ["inetOrgPerson"],
                     {"uid": uid, "cn": uid.title(), "sn": uid, "mail": mail or f"{uid}@corp.example.org",
                      "userPassword": password, **attrs})
            assert conn.result["result"] == 0, conn.result
        return f"uid={uid},{PEOPLE}"

    def remove(self, dn: str):
        with self.admin() as conn:
            conn.delete(dn)
            assert conn.result["result"] == 0, conn.result

    def modify(self, dn: str, **replace):
        from ldap3 import MODIFY_REPLACE

        with self.admin() as conn:
            conn.modify(dn, {k: [(MODIFY_REPLACE, v if isinstance(v, list) else [v])] for k, v in replace.items()})
            assert conn.result["result"] == 0, conn.result

    def add_group(self, cn: str, members: list[str]):
        with self.admin() as conn:
            conn.add(f"cn={cn},{GROUPS}", ["groupOfNames"], {"cn": cn, "member": members})
            assert conn.result["result"] == 0, conn.result
        return f"cn={cn},{GROUPS}"


def ldap_settings(server: LdapServer, **extra) -> dict:
    """anarepo settings for this server with the service account (override freely)."""
    settings = {
        "anarepo.ldap.url": server.url,
        "anarepo.ldap.bind_dn": READER_DN,
        "anarepo.ldap.bind_password": READER_PASSWORD,
        "anarepo.ldap.search_base": PEOPLE,
        "anarepo.ldap.user_filter": "(&(objectClass=inetOrgPerson)(uid={login})(!(description=disabled)))",
        "anarepo.ldap.group_search_base": GROUPS,
        "anarepo.ldap.timeout": "3",
    }
    settings.update(extra)
    return settings

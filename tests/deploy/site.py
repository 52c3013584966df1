"""A whole site as docs/operations.md deploys it: a database server, ``anarepo gen-config``,
``anarepo init`` once, two ``anarepo serve --port`` processes and nginx round robin in front."""
from __future__ import annotations

import os
import subprocess
import sys

from .services import AppProcess, Nginx, PostgresCluster, ZEOServer, free_port, stop

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANAREPO = os.path.join(os.path.dirname(sys.executable), "anarepo")
FAST = ("--set",)


class DeploySite:
    def __init__(self, directory, backend: str, postgres: PostgresCluster | None = None, processes: int = 2,
                 tls=None):
        self.dir = str(directory)
        self.backend = backend
        self.postgres = postgres
        self.ports = [free_port() for _ in range(processes)]
        self.http_port = free_port()
        self.tls = tls  # a tests.deploy.tls.TestPKI: nginx serves https with its certificate
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.http_port}"
        self.zeo = None
        self.apps: list[AppProcess] = []
        self.nginx = None
        self.env = {**os.environ, "PYTHONPATH": ROOT + os.pathsep + os.environ.get("PYTHONPATH", "")}

    def anarepo(self, *args, input=None, check=True, timeout=300):
        result = subprocess.run([ANAREPO, "-c", self.ini, *args], input=input, capture_output=True, text=True,
                                env=self.env, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"anarepo {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result.stdout.strip()

    def generate(self):
        args = ["gen-config", "--dir", os.path.join(self.dir, "etc"), "--var", os.path.join(self.dir, "var"),
                "--backend", self.backend, "--ports", ",".join(map(str, self.ports)),
                "--listen", f"127.0.0.1:{self.http_port}" + (" ssl" if self.tls else ""), "--user", "root"]
        if self.tls:
            args += ["--ssl-certificate", str(self.tls.cert_pem), "--ssl-certificate-key", str(self.tls.key_pem)]
        if self.backend == "zeo":
            self.zeo_port = free_port()
            args += ["--zeo-address", f"127.0.0.1:{self.zeo_port}"]
        else:
            args += ["--dsn", self.postgres.create_database("anarepo_" + os.urandom(4).hex())]
        subprocess.run([ANAREPO, *args], check=True, capture_output=True, env=self.env)
        self.etc = os.path.join(self.dir, "etc")
        self.ini = os.path.join(self.etc, "anarepo.ini")
        with open(self.ini) as f:  # fast password hashing for tests
            text = f.read().replace("[app:main]\n", "[app:main]\nanarepo.argon2.time_cost = 1\n"
                                    "anarepo.argon2.memory_cost = 64\n"
                                    "anarepo.x_accel.documents_min_size = 0\n"
                                    "anarepo.publish.gzip_min_size = 0\n", 1)
        with open(self.ini, "w") as f:
            f.write(text)

    def start_database(self):
        if self.backend == "zeo":
            self.zeo = ZEOServer(os.path.join(self.etc, "zeo.conf"), self.zeo_port,
                                 os.path.join(self.dir, "zeo.log")).start()

    def start(self) -> "DeploySite":
        self.generate()
        self.start_database()
        self.anarepo("init")
        self.apps = [AppProcess(self.ini, port, os.path.join(self.dir, f"app-{port}.log"), self.env).start(wait=False)
                     for port in self.ports]
        for app in self.apps:
            app.wait_ready()
        self.nginx = Nginx(os.path.join(self.dir, "nginx"), os.path.join(self.etc, "nginx-anarepo.conf"),
                           self.http_port).start()
        return self

    def stop(self):
        stop(self.nginx.proc if self.nginx else None)
        for app in self.apps:
            app.stop()
        if self.zeo:
            self.zeo.stop()

    def logs(self) -> str:
        out = []
        for name in sorted(os.listdir(self.dir)):
            if name.endswith(".log"):
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append(f"== {name}\n{f.read()[-4000:]}")
        return "\n".join(out)

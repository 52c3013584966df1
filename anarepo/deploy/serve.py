"""``anarepo serve``: N waitress processes on one listening socket, restarted gracefully.

A small master process binds the port (``--port``/``--listen``, else the .ini's
``[server:main] listen``) and starts ``--workers`` worker processes that inherit the
socket; the kernel spreads connections over them.  The master never imports the
application, so each worker loads the current code and configuration.

* ``SIGHUP``: graceful restart. New workers start; once every one of them has
  loaded the application, the old ones stop accepting, finish the requests they
  have (up to ``--graceful-timeout`` seconds), answer ``Connection: close`` and
  close keep-alive connections once idle, and exit.  A new worker that fails
  to start leaves the old ones serving.
* ``SIGTERM``/``SIGINT``: the same graceful stop for every worker, then exit.
* A worker that dies is replaced.

Database initialization and evolve steps run once however many workers start at
once (the start-up lease, ``anarepo/startup.py``).  For nginx's round robin over
separate ports, run one ``anarepo serve --port P`` per port (``anarepo@.service``).
"""
from __future__ import annotations

import argparse
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time

log = logging.getLogger("anarepo.serve")

START_TIMEOUT = 300.0


def server_settings(ini: str) -> dict:
    import plaster

    settings = dict(plaster.get_settings(ini, "server:main"))
    for key in ("use", "__file__", "here"):
        settings.pop(key, None)
    return settings


def parse_listen(value: str) -> tuple[str, int]:
    host, _, port = value.strip().rpartition(":")
    return (host.strip("[]") or "0.0.0.0"), int(port)


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


# -- the master -------------------------------------------------------------------------
class Worker:
    def __init__(self, ini, sock, graceful_timeout):
        read_fd, write_fd = os.pipe()
        self.ready_pipe = read_fd
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "anarepo.deploy.serve", "--worker", "-c", ini, "--fd", str(sock.fileno()),
             "--ready-fd", str(write_fd), "--graceful-timeout", str(graceful_timeout)],
            pass_fds=(sock.fileno(), write_fd),
        )
        os.close(write_fd)
        self.ready = False

    def poll_ready(self, timeout: float) -> bool:
        if not self.ready and select.select([self.ready_pipe], [], [], timeout)[0]:
            self.ready = os.read(self.ready_pipe, 16).startswith(b"ready")
        return self.ready

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def close(self):
        try:
            os.close(self.ready_pipe)
        except OSError:
            pass


class Master:
    def __init__(self, ini, sock, workers, graceful_timeout):
        self.ini, self.sock, self.count, self.graceful_timeout = ini, sock, workers, graceful_timeout
        self.workers: list[Worker] = []
        self.retiring: list[Worker] = []
        self.signals: list[int] = []

    def spawn(self, count) -> list[Worker]:
        return [Worker(self.ini, self.sock, self.graceful_timeout) for _ in range(count)]

    def wait_ready(self, workers) -> bool:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if all(w.poll_ready(0.2) for w in workers):
                return True
            if any(w.proc.poll() is not None for w in workers):
                return False
        return False

    def reload(self):
        log.info("graceful restart: starting %d new worker(s)", self.count)
        fresh = self.spawn(self.count)
        if not self.wait_ready(fresh):
            log.error("new workers failed to start; the old ones keep serving")
            for w in fresh:
                w.stop()
            self.retiring.extend(fresh)
            return
        old, self.workers = self.workers, fresh
        for w in old:
            w.stop()
        self.retiring.extend(old)

    def reap(self):
        for w in list(self.retiring):
            if w.proc.poll() is not None:
                w.close()
                self.retiring.remove(w)
        for i, w in enumerate(self.workers):
            if w.proc.poll() is not None:
                log.warning("worker %d exited with %s; starting another", w.proc.pid, w.proc.returncode)
                w.close()
                time.sleep(1.0)
                self.workers[i] = self.spawn(1)[0]

    def run(self) -> int:
        for sig in (signal.SIGHUP, signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, frame: self.signals.append(signum))
        self.workers = self.spawn(self.count)
        if not self.wait_ready(self.workers):
            log.error("workers failed to start")
            for w in self.workers:
                w.stop()
            return 1
        log.info("serving on %s with %d worker(s)", self.sock.getsockname(), self.count)
        while True:
            while self.signals:
                signum = self.signals.pop(0)
                if signum == signal.SIGHUP:
                    self.reload()
                else:
                    for w in self.workers + self.retiring:
                        w.stop()
                    for w in self.workers + self.retiring:
                        try:
                            w.proc.wait(self.graceful_timeout + 5)
                        except subprocess.TimeoutExpired:
                            w.proc.kill()
                    return 0
            self.reap()
            time.sleep(0.2)


def serve(ini: str, listen: str | None = None, port: int | None = None, workers: int = 1,
          graceful_timeout: float = 30.0) -> int:
    settings = server_settings(ini)
    host, ini_port = parse_listen(listen or settings.get("listen") or "127.0.0.1:6543")
    sock = bind(host, port if port is not None else ini_port)
    print(f"anarepo: serving http://{host}:{sock.getsockname()[1]} with {workers} worker(s)", flush=True)
    return Master(ini, sock, workers, graceful_timeout).run()


# -- a worker ---------------------------------------------------------------------------
#: a stopping worker closes a keep-alive connection only after it was this long idle:
#: closing one just as the client sends a request on it would lose that request
IDLE_GRACE = 2.0


def _idle(channel, now: float) -> bool:
    return (channel.request is None and not channel.requests and not channel.total_outbufs_len
            and now - channel.last_activity > IDLE_GRACE)


def closing_channel(stopping: list):
    """waitress's channel whose answers say ``Connection: close`` once the worker is
    stopping: clients reconnect, to the other workers, instead of reusing a
    connection this worker is about to close."""
    from waitress.channel import HTTPChannel
    from waitress.task import WSGITask

    class ClosingTask(WSGITask):
        def build_response_header(self):
            if stopping:
                self.request.headers["CONNECTION"] = "close"
            return super().build_response_header()

    class ClosingChannel(HTTPChannel):
        task_class = ClosingTask

    return ClosingChannel


def run_worker(ini: str, fd: int, ready_fd: int, graceful_timeout: float) -> int:
    from pyramid.paster import get_app, setup_logging
    from waitress.server import create_server

    setup_logging(ini)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(time.monotonic()))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the master decides
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    app = get_app(ini, "main")
    settings = server_settings(ini)
    for key in ("listen", "host", "port", "unix_socket"):
        settings.pop(key, None)
    sock = socket.socket(fileno=fd)
    server = create_server(app, sockets=[sock], **settings)
    server.channel_class = closing_channel(stopping)
    os.write(ready_fd, b"ready")
    os.close(ready_fd)
    while True:
        server.asyncore.loop(timeout=0.5, map=server._map, count=1, use_poll=True)
        if not stopping:
            continue
        if server.accepting:  # stop taking connections; the other workers take them
            server.accepting = False
            server.del_channel()
            sock.close()
        now = time.time()
        for channel in list(server.active_channels.values()):
            if _idle(channel, now):
                channel.will_close = True
                channel.handle_close()
        if not server.active_channels or time.monotonic() - stopping[0] > graceful_timeout:
            break
    server.task_dispatcher.shutdown()
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="anarepo.deploy.serve")
    parser.add_argument("--worker", action="store_true")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--fd", type=int)
    parser.add_argument("--ready-fd", type=int)
    parser.add_argument("--graceful-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    return run_worker(os.path.abspath(args.config), args.fd, args.ready_fd, args.graceful_timeout)


if __name__ == "__main__":
    sys.exit(main())

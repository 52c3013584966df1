"""Notebook rendering in a child process that is killed when it costs too much.

nbconvert, mistune and pygments run a stranger's text through regular
expressions and parsers; some notebooks within the size limits cost minutes of
CPU (a 1 MiB Markdown table: about 45 s).  A thread cannot be stopped, so every
render runs in its own process with

* ``RLIMIT_CPU`` (``anarepo.render.cpu_seconds``): the kernel ends it with
  SIGXCPU, whatever it is doing;
* ``RLIMIT_AS`` (``anarepo.render.memory``): its allocations fail beyond it;
* a wall-clock deadline (``anarepo.render.seconds``): the server kills it.

Starting an interpreter and importing nbconvert costs about a second of CPU, so
renders are forked from a small **render server** (``python -m`` this module,
started on first use, one per server process): single-threaded, it has
nbconvert imported and its templates compiled, and for each render receives one
end of a fresh socket pair (``SCM_RIGHTS``) and forks a child that talks over it
alone.  The child sends its pid, reads the notebook, renders and answers; it
holds nothing of the server (no database, no threads, no other sockets).  The
render server ends when the process that started it closes its control socket.
"""
from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

MiB = 1 << 20
_HEADER = struct.Struct("!cQ")  # kind, payload length
_LIMITS = struct.Struct("!IQ")  # CPU seconds, address-space bytes
_PID = struct.Struct("!i")
#: how long the first render may wait for the render server to import nbconvert
STARTUP_SECONDS = 60


class TooCostly(Exception):
    """The render was stopped by its CPU, memory or time limit."""


# -- framing ------------------------------------------------------------------------------
def _recv_exactly(conn, size: int) -> bytes:
    chunks, left = [], size
    while left:
        chunk = conn.recv(min(left, 1 << 20))
        if not chunk:
            raise EOFError("the render process ended")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _send_frame(conn, kind: bytes, payload: bytes = b"") -> None:
    conn.sendall(_HEADER.pack(kind, len(payload)) + payload)


def _recv_frame(conn) -> tuple[bytes, bytes]:
    kind, size = _HEADER.unpack(_recv_exactly(conn, _HEADER.size))
    return kind, _recv_exactly(conn, size)


# -- the client side (in the server process) --------------------------------------------------
class RenderServer:
    """The render server this process started, and the lock around its control socket."""

    def __init__(self):
        self.lock = threading.Lock()
        self.process = None
        self.control = None

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(theirs.fileno())], pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL, env=env,
        )
        theirs.close()
        self.control = ours

    def _hand_over(self, channel, cpu_seconds: int, memory: int) -> None:
        """Give the render server one end of a render's socket pair (restarting it if it died)."""
        message = _LIMITS.pack(cpu_seconds, memory)
        with self.lock:
            for attempt in (1, 2):
                if self.process is None or self.process.poll() is not None:
                    self._start()
                try:
                    socket.send_fds(self.control, [message], [channel.fileno()])
                    return
                except OSError:
                    if attempt == 2:
                        raise
                    self.process.kill()
                    self.process.wait()

    def render(self, source: bytes, cpu_seconds: int, seconds: float, memory: int) -> tuple[bytes, bytes]:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        child = None
        try:
            self._hand_over(theirs, cpu_seconds, memory)
            theirs.close()
            mine.settimeout(max(seconds, STARTUP_SECONDS))  # a first render waits for the server to start
            (pid,) = _PID.unpack(_recv_exactly(mine, _PID.size))
            child = _ChildHandle(pid)  # now, while the child waits for the notebook: alive
            deadline = time.monotonic() + seconds
            mine.settimeout(seconds)
            _send_frame(mine, b"n", source)
            mine.settimeout(max(0.01, deadline - time.monotonic()))
            return _recv_frame(mine)
        except (TimeoutError, EOFError, ConnectionError) as exc:
            raise TooCostly(f"stopped after {cpu_seconds} s of CPU, {seconds:g} s or {memory // MiB} MiB"
                            f" ({type(exc).__name__})") from None
        finally:
            if child is not None:
                child.kill()  # gone already when it answered
            mine.close()
            theirs.close()


class _ChildHandle:
    """A render child to kill, held by a pidfd: its pid is reaped by the kernel the
    moment it exits (the render server ignores SIGCHLD) and may soon name another
    process, which ``os.kill(pid)`` would then kill.  A pidfd keeps naming the child."""

    def __init__(self, pid: int):
        self.pid = pid
        try:
            self.fd = os.pidfd_open(pid)
        except (AttributeError, OSError):  # no pidfd (an old kernel): the pid, as before
            self.fd = None

    def kill(self) -> None:
        try:
            if self.fd is not None:
                signal.pidfd_send_signal(self.fd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        finally:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None


_server = RenderServer()


def render_isolated(source: bytes, cpu_seconds: int = 5, seconds: float = 15, memory: int = 2048 * MiB):
    """``("html", bytes)``, ``("too-large", None)`` or ``("error", message)`` from a
    child process; raises :class:`TooCostly` when a limit stopped it."""
    kind, payload = _server.render(source, int(cpu_seconds), float(seconds), int(memory))
    if kind == b"h":
        return "html", payload
    if kind == b"L":
        return "too-large", None
    if kind == b"C":
        raise TooCostly(f"ran out of its {int(memory) // MiB} MiB")
    return "error", payload.decode("utf-8", "replace")


# -- the render server and its children -----------------------------------------------------
def _render_child(conn, cpu_seconds: int, memory: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from .render import TooLargeToRender, render_html

    conn.sendall(_PID.pack(os.getpid()))
    _, source = _recv_frame(conn)
    try:
        html = render_html(source)
    except TooLargeToRender:
        _send_frame(conn, b"L")
    except MemoryError:
        _send_frame(conn, b"C")
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which logs it
        _send_frame(conn, b"E", f"{type(exc).__name__}: {exc}"[:500].encode())
    else:
        _send_frame(conn, b"h", html)


def serve(control_fd: int) -> None:
    """Fork one child per render handed over on the control socket, until it closes."""
    import warnings

    warnings.simplefilter("ignore")  # nbconvert's lexer fallback warnings are not ours to print
    from .render import warm_up

    warm_up()  # nbconvert imported, the template compiled: children start warm
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    control = socket.socket(fileno=control_fd)
    while True:
        try:
            message, fds, _flags, _addr = socket.recv_fds(control, _LIMITS.size, 1)
        except OSError:
            return
        if not message or not fds:
            return  # the process that started us is gone
        cpu_seconds, memory = _LIMITS.unpack(message)
        pid = os.fork()
        if pid == 0:
            status = 0
            try:
                control.close()
                _render_child(socket.socket(fileno=fds[0]), cpu_seconds, memory)
            except BaseException:  # noqa: BLE001 - the parent sees the closed socket
                status = 1
            finally:
                os._exit(status)
        os.close(fds[0])


if __name__ == "__main__":
    serve(int(sys.argv[1]))

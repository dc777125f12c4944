"""Watching a Ray cluster from the driver: is it still there, and keeping its native lines off the terminal.

Ray's core worker in the driver waits 60 s for a GCS that has gone, printing its own log lines
on file descriptor 2, then ends the process with exit 1 and no word of why. A run that watches
the cluster itself ends in seconds with the reason:

* :class:`ClusterWatch` checks what the run depends on: the GCS and raylet processes of a private
  instance (their exit is final), else the GCS and this machine's raylet by their ports (lost when
  they do not answer for :data:`LOST_AFTER_S`).
* :func:`native_output_aside` points file descriptor 2 away from the terminal while Ray runs in
  the process (Ray keeps the same lines in its session logs), and Python's ``sys.stderr`` at the
  terminal, so the tool's own lines and progress bar still show.

Example::

    from movenet_cli.run.engines.ray_watch import ClusterWatch

    watch = ClusterWatch(ports=[("its GCS at 127.0.0.1:1", "127.0.0.1", 1)])
    print(watch.check())   # its GCS at 127.0.0.1:1 does not answer: Connection refused
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import time
from typing import Iterator

LOST_AFTER_S = 3.0  # a GCS or raylet that does not answer for this long is gone
CHECK_EVERY_S = 0.5  # the engine waits for its tasks this long between checks
_CONNECT_TIMEOUT_S = 1.0


class ClusterWatch:
    """Whether the cluster a run depends on is still there.

    ``processes``: name -> ``subprocess.Popen`` of processes this run started (a private
    instance); ``ports``: ``(what, host, port)`` that must accept connections.
    """

    def __init__(self, processes: dict | None = None, ports: list[tuple[str, str, int]] | None = None):
        self._processes = dict(processes or {})
        self._ports = list(ports or ())
        self._failing_since: float | None = None
        self._checked = 0.0

    @classmethod
    def of_driver(cls, ray, address: str | None) -> "ClusterWatch":
        """The watch for the cluster this process is connected to as a Ray driver."""
        try:
            node = ray._private.worker.global_worker.node  # None for Ray Client
        except AttributeError:
            node = None
        processes, ports = {}, []
        if node is not None:
            if address is None:  # a private instance: its processes are this process's children
                for name in ("gcs_server", "raylet"):
                    for info in node.all_processes.get(name, ()):
                        processes[name] = info.process
            host, _, port = node.gcs_address.rpartition(":")
            ports.append((f"its GCS at {node.gcs_address}", host, int(port)))
            raylet = f"{node.node_ip_address}:{node.node_manager_port}"
            ports.append((f"this machine's raylet at {raylet}", node.node_ip_address, int(node.node_manager_port)))
        elif address and address.startswith("ray://"):  # Ray Client: the client server is the cluster
            host, _, port = address.removeprefix("ray://").rpartition(":")
            if port.isdigit():
                ports.append((f"its client server at {host}:{port}", host.strip("[]"), int(port)))
        return cls(processes, ports)

    def check(self) -> str | None:
        """Why the cluster is not there now (one check of everything), or None."""
        for name, process in self._processes.items():
            if process.poll() is not None:
                return f"its {name} process ended"
        for what, host, port in self._ports:
            try:
                socket.create_connection((host, port), timeout=_CONNECT_TIMEOUT_S).close()
            except OSError as exc:
                return f"{what} does not answer: {exc.strerror or exc}"
        return None

    def lost(self) -> str | None:
        """The cause once the cluster is gone for good, else None (checks at most every half second)."""
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY_S:
            return None
        self._checked = now
        cause = self.check()
        if cause is None:
            self._failing_since = None
            return None
        if cause.endswith("process ended"):
            return cause
        self._failing_since = self._failing_since or now
        return cause if now - self._failing_since >= LOST_AFTER_S else None

    def confirm(self) -> str | None:
        """After an error from Ray: wait (at most :data:`LOST_AFTER_S`) to tell a lost cluster from a
        lost task. The cause when the cluster is gone, None when it answers."""
        deadline = time.monotonic() + LOST_AFTER_S + CHECK_EVERY_S
        self._checked = 0.0
        while True:
            cause = self.lost()
            if cause is not None or self._failing_since is None or time.monotonic() > deadline:
                return cause
            time.sleep(CHECK_EVERY_S)


@contextlib.contextmanager
def native_output_aside() -> Iterator[None]:
    """Keep what native code prints on file descriptor 2 off the terminal while the tool's own
    lines (``sys.stderr``, the progress bar made inside) still reach it. ``MOVENET_DEBUG=1`` lets
    everything through."""
    if os.environ.get("MOVENET_DEBUG"):
        yield
        return
    sys.stderr.flush()
    try:
        ours = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a stream of a test runner, not the terminal
        ours = False
    try:
        terminal = os.dup(2)
    except OSError:  # no stderr at all: nothing to keep anything off
        yield
        return
    saved = sys.stderr
    if ours:
        sys.stderr = os.fdopen(os.dup(terminal), "w", buffering=1, encoding=saved.encoding, errors="backslashreplace")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        if ours:
            sys.stderr.flush()
            sys.stderr.close()
            sys.stderr = saved
        os.dup2(terminal, 2)
        os.close(terminal)


@contextlib.contextmanager
def driver_messages_aside(ray) -> Iterator[None]:
    """Ray's driver prints what the cluster publishes to it (a dead raylet's last 20 log lines) on
    ``sys.stdout``, whatever ``log_to_driver`` says; stdout may carry the tool's data. While this
    is entered they are dropped: the run says itself what went wrong. ``MOVENET_DEBUG=1`` keeps them."""
    worker = getattr(getattr(ray, "_private", None), "worker", None)
    printer = getattr(worker, "print_to_stdstream", None)
    if printer is None or os.environ.get("MOVENET_DEBUG"):
        yield
        return
    worker.print_to_stdstream = _drop
    try:
        yield
    finally:
        worker.print_to_stdstream = printer


def _drop(data, ignore_prefix: bool = False) -> None:
    return None

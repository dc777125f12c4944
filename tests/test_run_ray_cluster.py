"""`dir --engine ray` against Ray as users run it, and against Ray going away mid-run.

A cluster started as users start one (`ray start --head`, which from Ray 2.59 on wants a token
from every client), on loopback. Beside it runs a second Ray instance nobody here uses: every
test stops only the processes it started (by process group or pid, never `ray stop`, which stops
every Ray process of the user on the machine), and the last test checks that instance survived.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers import PERSON_JPG, descendants, movenet_command, processes, start_movenet

ray = pytest.importorskip("ray")
RAY = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")
_AUTH = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


class Head:
    """A Ray head node started with `ray start --head` in a process group of its own, on ports
    and a temporary folder of its own; stopped by that group, and nothing else."""

    def __init__(self, home: Path):
        self.env = dict(os.environ, HOME=str(home))
        for name in (*_AUTH, "RAY_ADDRESS"):
            self.env.pop(name, None)
        self.port = _free_port()
        self.temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay under 107 bytes
        ports = {"--port": self.port, "--dashboard-port": _free_port(), "--dashboard-agent-listen-port": _free_port()}
        command = [RAY, "start", "--head", "--num-cpus", "2", "--include-dashboard=false", "--temp-dir", self.temp]
        for option, port in ports.items():
            command += [option, str(port)]
        # The `ray start` process leads a new group; the head's processes stay in it after it exits.
        self.starter = subprocess.Popen(command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True, start_new_session=True)
        self.group = self.starter.pid
        self.pids: set[int] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def wait(self) -> None:
        output, _ = self.starter.communicate(timeout=180)
        if self.starter.returncode:
            self.stop()
            pytest.fail(f"ray start failed here: {output.strip().splitlines()[-3:]}")
        self.pids = set(self.members())

    def members(self) -> list[int]:
        """The live processes of this head: its group, and what they started (workers)."""
        table = processes()
        found = set()
        for pid in table:
            try:
                if os.getpgid(pid) == self.group:
                    found.add(pid)
            except OSError:
                continue
        for pid in list(found):
            found.update(descendants(pid, table))
        return sorted(found)

    def alive(self) -> bool:
        return bool(self.members()) and _answers(self.port)

    def stop(self) -> None:
        """SIGTERM to the head's processes, SIGKILL to those left after 2 s (some wait for ever)."""
        for sig, grace in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 10.0)):
            _signal(self.members(), sig)
            deadline = time.monotonic() + grace
            while self.members() and time.monotonic() < deadline:
                time.sleep(0.2)
        shutil.rmtree(self.temp, ignore_errors=True)


def _signal(pids, sig) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except OSError:
            pass


@pytest.fixture(scope="module")
def heads(tmp_path_factory):
    """(cluster, bystander): a head with token authentication the tests use, and one they leave alone."""
    if RAY is None:
        pytest.fail("Ray is importable but its `ray` command is not installed")
    started = []
    try:
        for name in ("cluster", "bystander"):  # both start at once
            home = tmp_path_factory.mktemp(f"ray-home-{name}")
            subprocess.run([RAY, "get-auth-token", "--generate"], env=dict(os.environ, HOME=str(home)),
                           capture_output=True, check=True, timeout=60)
            started.append(Head(home))
        for head in started:
            head.wait()
        yield tuple(started)
    finally:
        for head in started:
            head.stop()


@pytest.fixture(scope="module")
def cluster(heads):
    return heads[0]


def _input(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copyfile(PERSON_JPG, src / "p.jpg")
    return src


def test_explicit_address_uses_the_users_token(cluster, tmp_path):
    env = dict(cluster.env)
    result = subprocess.run(
        [sys.executable, "-m", "movenet_cli", "dir", str(_input(tmp_path)), "-o", str(tmp_path / "out"),
         "--engine", "ray", "--address", cluster.address, "-q"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "InvalidAuthToken" not in result.stderr and "gcs_client" not in result.stderr
    manifest = json.loads((tmp_path / "out" / "movenet-run.json").read_text())
    assert manifest["engine"]["address"] == cluster.address and manifest["counts"]["done"] == 1


def test_a_missing_token_is_one_line_in_seconds(cluster, tmp_path):
    empty = tmp_path / "home"
    empty.mkdir()
    env = dict(cluster.env, HOME=str(empty))
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "movenet_cli", "dir", str(_input(tmp_path)), "-o", str(tmp_path / "out"),
         "--engine", "ray", "--address", cluster.address],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "authentication token" in lines[0] and "ray get-auth-token" in lines[0], lines
    assert time.monotonic() - started < 30


# -- a cluster lost mid-run ----------------------------------------------------------------------


def test_the_watch_gives_a_gcs_that_does_not_answer_its_grace(monkeypatch):
    from movenet_cli.run.engines import ray_watch

    monkeypatch.setattr(ray_watch, "LOST_AFTER_S", 0.6)
    gone = ray_watch.ClusterWatch(ports=[("its GCS at here", "127.0.0.1", _free_port())])
    assert gone.check() == "its GCS at here does not answer: Connection refused"
    assert gone.lost() is None  # a GCS that restarts is given time
    started = time.monotonic()
    assert gone.confirm() == "its GCS at here does not answer: Connection refused"
    assert 0.5 <= time.monotonic() - started < 5
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        there = ray_watch.ClusterWatch(ports=[("its GCS", "127.0.0.1", server.getsockname()[1])])
        assert there.check() is None and there.lost() is None and there.confirm() is None


def test_the_watch_tells_an_ended_process_at_once():
    from movenet_cli.run.engines.ray_watch import ClusterWatch

    ended = subprocess.Popen([sys.executable, "-c", ""])
    ended.wait()
    assert ClusterWatch(processes={"raylet": ended}).lost() == "its raylet process ended"


TINY_IMAGES = 150


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    """Many small images: a run long enough to be cut, cheap to finish."""
    from PIL import Image

    folder = tmp_path_factory.mktemp("tiny") / "in"
    folder.mkdir()
    for i in range(TINY_IMAGES):
        Image.new("RGB", (24, 16), (i, 255 - i, 60)).save(folder / f"img{i:03d}.png")
    return folder


def _manifest(out: Path) -> dict | None:
    try:
        return json.loads((out / "movenet-run.json").read_text())
    except (OSError, ValueError):
        return None


def _ray_processes_of(pid: int) -> list[int]:
    """The processes of the private Ray instance that run ``pid`` started: all below it (images
    with --no-video start no other child)."""
    return descendants(pid)


def _raylet_of(pid: int) -> list[int]:
    table = processes()
    return [child for child in descendants(pid, table) if table[child][1] == "raylet"]


# How Ray goes away: `ray stop --force` (SIGKILL to every Ray process: nothing tells the driver,
# only the watch notices), `ray stop` (SIGTERM: the tasks fail as their raylet died), and the
# raylet alone killed, as by the OOM killer (Ray's driver then prints the raylet's last log lines).
STOPS = {
    "ray-stop-force": (_ray_processes_of, signal.SIGKILL),
    "ray-stop": (_ray_processes_of, signal.SIGTERM),
    "raylet-killed": (_raylet_of, signal.SIGKILL),
}


@pytest.mark.parametrize("stop", ["ray-stop-force", "raylet-killed"])
def test_a_lost_cluster_ends_the_run_in_seconds_and_it_resumes(heads, tiny_folder, tmp_path, stop):
    """Ray's processes stopped from outside after the first files: one line in seconds, the
    manifest says how far the run got, and --skip-existing does the rest."""
    victims_of, sig = STOPS[stop]
    out = tmp_path / "out"
    proc = start_movenet("dir", tiny_folder, "-o", out, "--engine", "ray", "--no-video", "-m", "lightning", "-q",
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed_at = None
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            manifest = _manifest(out)
            if manifest and manifest["counts"]["done"] >= 3:
                _signal(victims_of(proc.pid), sig)
                killed_at = time.monotonic()
                break
            time.sleep(0.1)
        stdout, stderr = proc.communicate(timeout=120)
        ended_after = time.monotonic() - (killed_at or 0)
    finally:
        proc.kill()
        _signal(_ray_processes_of(proc.pid), signal.SIGKILL)
    assert killed_at is not None, f"the run ended before three files were done: {stderr}"
    assert proc.returncode == 1, stderr
    assert ended_after < 30, ended_after
    assert stdout == ""  # no raylet log dump
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr  # no Ray log lines, no traceback
    assert lines[0].startswith("movenet: error: private Ray instance: the Ray cluster stopped answering ("), lines
    manifest = _manifest(out)
    counts = manifest["counts"]
    assert manifest["status"] == "aborted" and manifest["error"] == lines[0].removeprefix("movenet: error: ")
    assert counts["failed"] == 0 and counts["done"] >= 3 and counts["pending"] >= 1, counts
    assert counts["done"] + counts["pending"] == TINY_IMAGES
    assert lines[0].endswith(f"{counts['pending']} files left pending: run again with --skip-existing to do them")
    for entry in manifest["files"]:
        if entry["status"] == "done":
            assert (out / entry["outputs"]["json"]).is_file(), entry
    if stop != "ray-stop-force":
        return  # resuming is the same after any stop

    again = subprocess.run(movenet_command("dir", tiny_folder, "-o", out, "--no-video", "-m", "lightning", "-q",
                                           "--skip-existing"), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    resumed = _manifest(out)
    assert resumed["status"] == "complete"
    assert resumed["counts"]["skipped"] >= counts["done"]
    assert resumed["counts"]["done"] + resumed["counts"]["skipped"] == TINY_IMAGES


def test_a_head_stopped_under_a_run_ends_it_and_other_ray_lives_on(heads, tiny_folder, tmp_path):
    """Last in this module: the cluster's head, stopped by its own processes under a run that
    joined it by address, ends that run in seconds; the other Ray instance lives on."""
    cluster, bystander = heads
    assert bystander.alive() and cluster.alive()
    out = tmp_path / "out"
    proc = start_movenet("dir", tiny_folder, "-o", out, "--engine", "ray", "--address", cluster.address,
                         "--no-video", "-m", "lightning", "-q", env=cluster.env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and proc.poll() is None:
            manifest = _manifest(out)
            if manifest and manifest["counts"]["done"] >= 3:
                break
            time.sleep(0.1)
        stopped_at = time.monotonic()
        cluster.stop()
        stdout, stderr = proc.communicate(timeout=120)
        ended_after = time.monotonic() - stopped_at
    finally:
        proc.kill()
    assert cluster.members() == [] and not _answers(cluster.port)
    assert proc.returncode == 1 and ended_after < 30 and stdout == "", (ended_after, stderr)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(
        f"movenet: error: Ray at {cluster.address}: the Ray cluster stopped answering ("), stderr
    assert _manifest(out)["status"] == "aborted"
    assert bystander.pids <= set(bystander.members()), "a process of the other Ray instance was stopped"
    assert bystander.alive()

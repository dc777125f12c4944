"""`dir --engine ray` against a cluster started as users start one: `ray start --head`, which
(Ray 2.59 on) wants a token from every client. The cluster is this machine's, on loopback."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from helpers import PERSON_JPG

ray = pytest.importorskip("ray")
RAY = shutil.which("ray", path=os.path.dirname(sys.executable)) or shutil.which("ray")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """(address, home holding the cluster's token) of a head node with token authentication."""
    if RAY is None:
        pytest.skip("the ray command is not installed")
    home = tmp_path_factory.mktemp("ray-home")
    env = dict(os.environ, HOME=str(home))
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS"):
        env.pop(name, None)
    subprocess.run([RAY, "get-auth-token", "--generate"], env=env, capture_output=True, check=True, timeout=60)
    port = _free_port()
    temp = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # Ray's socket paths must stay under 107 bytes
    started = subprocess.run(
        [RAY, "start", "--head", "--port", str(port), "--num-cpus", "2", "--include-dashboard=false",
         "--temp-dir", temp],
        env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    if started.returncode:
        pytest.skip(f"ray start failed here: {started.stderr.strip().splitlines()[-1:]}")
    try:
        yield f"127.0.0.1:{port}", home
    finally:
        subprocess.run([RAY, "stop", "--force"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(temp, ignore_errors=True)


def _input(tmp_path: Path) -> Path:
    src = tmp_path / "in"
    src.mkdir()
    shutil.copyfile(PERSON_JPG, src / "p.jpg")
    return src



def test_explicit_address_uses_the_users_token(cluster, tmp_path):
    address, home = cluster
    env = dict(os.environ, HOME=str(home))
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        env.pop(name, None)
    result = subprocess.run(
        [sys.executable, "-m", "movenet_cli", "dir", str(_input(tmp_path)), "-o", str(tmp_path / "out"),
         "--engine", "ray", "--address", address, "-q"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "InvalidAuthToken" not in result.stderr and "gcs_client" not in result.stderr
    manifest = json.loads((tmp_path / "out" / "movenet-run.json").read_text())
    assert manifest["engine"]["address"] == address and manifest["counts"]["done"] == 1


def test_a_missing_token_is_one_line_in_seconds(cluster, tmp_path):
    address, _ = cluster
    empty = tmp_path / "home"
    empty.mkdir()
    env = dict(os.environ, HOME=str(empty))
    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        env.pop(name, None)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "movenet_cli", "dir", str(_input(tmp_path)), "-o", str(tmp_path / "out"),
         "--engine", "ray", "--address", address],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "authentication token" in lines[0] and "ray get-auth-token" in lines[0], lines
    assert time.monotonic() - started < 30

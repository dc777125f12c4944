"""Shared fixtures: the real models from the user's cache, the real sample media."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_media"
DEMO_CLIP = SAMPLES / "demo_clip.mp4"
PORTRAIT_CLIP = SAMPLES / "portrait_clip.mp4"
PERSON_JPG = SAMPLES / "person.jpg"


@pytest.fixture(scope="session")
def store():
    """The model store the CLI uses (``MOVENET_HOME`` or the user cache), with every model fetched."""
    from movenet_cli.models.store import ModelStore

    s = ModelStore()
    s.fetch()
    return s


@pytest.fixture(scope="session")
def estimators(store):
    """One estimator per (model, backend), built lazily and shared."""
    from movenet_cli import PoseEstimator

    made = {}

    def get(model="multipose", backend="tflite", **kw):
        key = (model, backend, tuple(sorted(kw.items())))
        if key not in made:
            made[key] = PoseEstimator(model, backend=backend, store=store, **kw)
        return made[key]

    return get


@pytest.fixture(scope="session")
def person_image():
    from movenet_cli.media import read_image

    return read_image(PERSON_JPG)


def run_movenet(*args, cwd=None, env=None, timeout=300):
    """Run the installed CLI in a child process, as a user would."""
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "movenet_cli", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def diagonal(height: int, width: int) -> float:
    return float(np.hypot(height, width))

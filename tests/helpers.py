"""What the tests share besides fixtures: the sample paths, running the CLI, small measures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_media"
DEMO_CLIP = SAMPLES / "demo_clip.mp4"
PORTRAIT_CLIP = SAMPLES / "portrait_clip.mp4"
PERSON_JPG = SAMPLES / "person.jpg"


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

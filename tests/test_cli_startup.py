"""cli/: commands that need no TensorFlow start without importing it, and PyAV stays out of the process."""

from __future__ import annotations

import subprocess
import sys

from helpers import DEMO_CLIP, PERSON_JPG


def _imports(module: str, args: list[str]) -> tuple[bool, object]:
    """Run ``movenet ARGS`` in a fresh interpreter: whether ``module`` was imported, and the exit code."""
    script = (
        "import sys\n"
        "from movenet_cli.cli import main\n"
        "module = sys.argv[1]\n"
        "sys.argv = ['movenet'] + sys.argv[2:]\n"
        "code = 0\ntry:\n    main()\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print(module in sys.modules, code, file=sys.stderr)\n"
    )
    r = subprocess.run([sys.executable, "-c", script, module, *args], capture_output=True, text=True, timeout=300)
    imported, code = r.stderr.strip().splitlines()[-1].split()
    return imported == "True", int(code) if code.isdigit() else code


def test_commands_that_need_no_tensorflow_do_not_import_it(estimators, tmp_path):
    """--help, models list and a TFLite image run start without loading TensorFlow."""
    estimators("multipose", "tflite")  # the TFLite conversion is cached (that step does need TensorFlow)
    out = tmp_path / "out.jpg"
    for args in (["--help"], ["models", "list"], ["image", str(PERSON_JPG), "-o", str(out), "--backend", "tflite", "-q"]):
        assert _imports("tensorflow", args) == (False, 0), args
    assert out.exists() and out.with_suffix(".json").exists()


def test_video_runs_never_load_pyav_in_the_process(tmp_path):
    """PyAV (FFmpeg's GPL libraries) is loaded only in the probe's child process, never beside the model."""
    args = ["video", str(DEMO_CLIP), "-o", str(tmp_path / "clip.mp4"), "--end", "0.5", "-q"]  # with audio
    assert _imports("av", args) == (False, 0)
    assert (tmp_path / "clip.mp4").exists()

"""cli/: commands that need no TensorFlow start without importing it."""

from __future__ import annotations

import subprocess
import sys

from helpers import PERSON_JPG


def test_commands_that_need_no_tensorflow_do_not_import_it(estimators, tmp_path):
    """--help, models list and a TFLite image run start without loading TensorFlow."""
    estimators("multipose", "tflite")  # the TFLite conversion is cached (that step does need TensorFlow)
    script = (
        "import sys\n"
        "from movenet_cli.cli import main\n"
        "sys.argv = ['movenet'] + sys.argv[1:]\n"
        "code = 0\ntry:\n    main()\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print('TENSORFLOW' if 'tensorflow' in sys.modules else 'NO-TENSORFLOW', code, file=sys.stderr)\n"
    )
    out = tmp_path / "out.jpg"
    for args in (["--help"], ["models", "list"], ["image", str(PERSON_JPG), "-o", str(out), "--backend", "tflite", "-q"]):
        r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
        assert r.stderr.strip().splitlines()[-1] == "NO-TENSORFLOW 0", (args, r.stderr)
    assert out.exists() and out.with_suffix(".json").exists()


def test_video_runs_never_load_pyav_in_the_process(tmp_path):
    """PyAV (FFmpeg's GPL libraries) is loaded only in the probe's child process, never beside the model."""
    from helpers import DEMO_CLIP

    script = (
        "import sys\n"
        "from movenet_cli.cli import main\n"
        "sys.argv = ['movenet'] + sys.argv[1:]\n"
        "code = 0\ntry:\n    main()\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print('AV' if 'av' in sys.modules else 'NO-AV', code, file=sys.stderr)\n"
    )
    args = ["video", str(DEMO_CLIP), "-o", str(tmp_path / "clip.mp4"), "--end", "0.5", "-q"]  # with audio
    r = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=300)
    assert r.stderr.strip().splitlines()[-1] == "NO-AV 0", r.stderr
    assert (tmp_path / "clip.mp4").exists()

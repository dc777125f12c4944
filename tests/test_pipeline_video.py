"""pipeline/video.py: the stages stop together when one fails, and leave no output."""

from __future__ import annotations

from helpers import DEMO_CLIP


def test_a_failing_writer_stops_a_batched_run(estimators, tmp_path, monkeypatch):
    """The writer thread dying mid-run ends the run with its error instead of a hang."""
    import threading
    import time

    from movenet_cli import pipeline
    from movenet_cli.pipeline import video as video_pipeline

    calls = []

    def failing_draw(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            time.sleep(1.5)  # the model thread meanwhile fills the queue and waits on it
            raise OSError("disk full")
        return args[0]

    monkeypatch.setattr(video_pipeline, "draw_poses", failing_draw)
    monkeypatch.setattr(video_pipeline, "draw_poses_yuv", failing_draw)  # frames kept as YUV planes
    est = estimators("multipose", "tflite", batch_size=3)
    out = tmp_path / "out.mp4"
    outcome = {}

    def run():
        try:
            pipeline.process_video(est, DEMO_CLIP, pipeline.Outputs(out, tmp_path / "o.json"), end=2.0, progress=False)
        except OSError as exc:
            outcome["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(60)
    assert not worker.is_alive(), "the run hung after its writer failed"
    assert "disk full" in str(outcome.get("error"))
    assert not out.exists() and not (tmp_path / "o.json").exists()

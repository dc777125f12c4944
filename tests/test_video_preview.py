"""``movenet video --scale``: a smaller annotated video, the same keypoint data."""

from __future__ import annotations

from helpers import DEMO_CLIP, run_movenet

from movenet_cli.media import probe_video
from movenet_cli.media.encode import scaled_size
from movenet_cli.results import load_result


def test_scale_writes_a_smaller_video_and_the_same_data(tmp_path, clip_second):
    """Half the size for a quick look; the JSON (source pixels) is the full-size run's."""
    out = tmp_path / "preview.mp4"
    run = run_movenet("video", DEMO_CLIP, "-o", out, "--scale", "0.5", "--end", "1", "-q")
    assert run.returncode == 0, run.stderr
    info = probe_video(out)
    assert (info.width, info.height) == (480, 270) and info.frame_count == len(clip_second.frames)
    doc = load_result(out.with_suffix(".json"))
    assert doc.source["width"] == 960
    assert "video_high" not in doc.model  # standard's JSON keeps the keys it always had
    assert [[p.keypoints.tolist() for p in f.people] for f in doc.frames] == \
        [[p.keypoints.tolist() for p in f.people] for f in clip_second.frames]


def test_scaled_sizes_are_even_and_never_below_two():
    assert scaled_size(1767, 993, 1.0) == (1768, 994)
    assert scaled_size(1768, 994, 0.5) == (884, 496)
    assert scaled_size(1768, 994, 0.33) == (584, 328)
    assert scaled_size(10, 6, 0.05) == (2, 2)

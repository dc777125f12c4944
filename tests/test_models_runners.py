"""models/runners.py: TFLite batches give the single-frame answers."""

from __future__ import annotations

import numpy as np

from helpers import DEMO_CLIP
from movenet_cli import media


def test_tflite_batches_give_the_single_frame_answers(store, estimators):
    from movenet_cli.models.runners import make_runner

    est = estimators("multipose")
    frames = [f.image for f in media.iter_frames(DEMO_CLIP, every=20, end=2.0)]
    tensors = np.stack([est.preprocess(f)[0] for f in frames])
    single = np.concatenate([est.infer(t[None]) for t in tensors])
    batched = make_runner(store, "multipose", "tflite", threads=2, batch_size=2)(tensors)
    assert batched.shape == single.shape == (3, 6, 56)
    np.testing.assert_allclose(batched, single, atol=1e-4)

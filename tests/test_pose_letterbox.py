"""pose/letterbox.py: the model input's shape, the letterbox and its inverse, the resize."""

from __future__ import annotations

import numpy as np

from helpers import DEMO_CLIP
from movenet_cli import media
from movenet_cli.pose.letterbox import Letterbox, letterbox, multipose_input_shape, resize


def test_multipose_input_shape_keeps_aspect_in_multiples_of_32():
    assert multipose_input_shape(720, 1280) == (160, 256)
    assert multipose_input_shape(1280, 720) == (256, 160)
    assert multipose_input_shape(994, 1768) == (160, 256)
    assert multipose_input_shape(993, 1767, 384) == (224, 384)
    assert multipose_input_shape(100, 100) == (256, 256)


def test_letterbox_inverse_is_exact():
    box = Letterbox.fit(993, 1767, 160, 256)
    canvas = letterbox(np.zeros((993, 1767, 3), np.uint8), box)
    assert canvas.shape == (160, 256, 3)
    # The corners of the resized content map back to the corners of the source.
    x, y = box.to_source(
        np.array([box.left, box.left + box.new_w]) / box.in_w, np.array([box.top, box.top + box.new_h]) / box.in_h
    )
    np.testing.assert_allclose(x, [0, 1767], atol=1e-9)
    np.testing.assert_allclose(y, [0, 993], atol=1e-9)


def test_resize_is_tf_image_resize():
    """The letterbox resize is TensorFlow's half-pixel bilinear, rounded to uint8 (TF blends the
    other axis first, so its floats differ in the last bits: a value at x.5 may round either way)."""
    from movenet_cli.models._tf import tensorflow

    tf = tensorflow()
    frame = next(f.image for f in media.iter_frames(DEMO_CLIP, start=0.66, end=0.7))
    for h, w in [(143, 256), (144, 256), (192, 192), (600, 1000)]:
        ours = resize(frame, h, w).astype(np.float64)
        ref = tf.image.resize(frame[None], (h, w), method="bilinear", antialias=False)[0].numpy()
        assert np.abs(ours - ref).max() <= 0.51, (h, w)

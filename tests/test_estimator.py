"""The estimator against an independent, direct call of the real model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from helpers import diagonal
from movenet_cli.pose.letterbox import Letterbox, letterbox, multipose_input_shape


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


def _direct(store, model, image, in_h, in_w):
    """Call the cached SavedModel on a tf.image.resize_with_pad tensor and map back by hand."""
    from movenet_cli.models._tf import tensorflow

    tf = tensorflow()
    fn = tf.saved_model.load(str(store.path(model))).signatures["serving_default"]
    padded = tf.image.resize_with_pad(tf.constant(image[None]), in_h, in_w)
    out = fn(input=tf.cast(padded, tf.int32))["output_0"].numpy()
    H, W = image.shape[:2]
    scale = min(in_h / H, in_w / W)
    pad_y = (in_h - H * scale) / 2
    pad_x = (in_w - W * scale) / 2
    rows = out.reshape(-1, 56)[:, :51] if model == "multipose" else out.reshape(1, 51)
    scores = out.reshape(-1, 56)[:, 55] if model == "multipose" else np.array([1.0])
    people = []
    for row, score in sorted(zip(rows, scores), key=lambda r: -r[1]):
        kp = row.reshape(17, 3)
        x = (kp[:, 1] * in_w - pad_x) / scale
        y = (kp[:, 0] * in_h - pad_y) / scale
        people.append((score, np.stack([x, y, kp[:, 2]], 1)))
    return people


@pytest.mark.parametrize("model,backend", [("multipose", "tf"), ("multipose", "tflite"), ("lightning", "tflite"), ("thunder", "tf")])
def test_keypoints_match_a_direct_model_call(store, estimators, person_image, model, backend):
    est = estimators(model, backend, min_pose_score=0.2)
    H, W = person_image.shape[:2]
    in_h, in_w = (
        (math.ceil(H * 256 / max(H, W) / 32) * 32, math.ceil(W * 256 / max(H, W) / 32) * 32)
        if model == "multipose"
        else (est.spec.input_size,) * 2
    )
    poses = est(person_image)
    direct = [p for p in _direct(store, model, person_image, in_h, in_w) if p[0] >= 0.2]
    assert poses, "nobody found in the sample image"
    assert len(poses) == len(direct)
    for pose, (score, kp) in zip(poses, direct):
        confident = kp[:, 2] > 0.3
        assert confident.sum() >= 5
        err = np.linalg.norm(pose.keypoints[confident, :2] - kp[confident, :2], axis=1).mean()
        assert err < 0.01 * diagonal(H, W), f"mean error {err:.1f}px"


def test_odd_sized_frame(estimators, person_image):
    """1767x993 works, and the people land where they do in the even-sized frame."""
    from PIL import Image

    est = estimators()
    odd = np.asarray(Image.fromarray(person_image).resize((1767, 993), Image.BILINEAR))
    even = np.asarray(Image.fromarray(person_image).resize((1768, 994), Image.BILINEAR))
    a, b = est(odd), est(even)
    assert a and len(a) == len(b)
    assert est.input_shape(993, 1767) == (160, 256)
    ok = (a[0].keypoints[:, 2] > 0.3) & (b[0].keypoints[:, 2] > 0.3)
    err = np.linalg.norm(a[0].keypoints[ok, :2] - b[0].keypoints[ok, :2], axis=1).mean()
    assert err < 0.01 * diagonal(993, 1767)
    for pose in a:
        x0, y0, x1, y1 = pose.bbox
        assert -5 <= x0 < x1 <= 1772 and -5 <= y0 < y1 <= 998


def test_backends_agree_on_real_frames(estimators):
    """TFLite and TensorFlow give the same people on frames of the sample clip."""
    from helpers import DEMO_CLIP
    from movenet_cli import media

    tf_est, lite_est = estimators("multipose", "tf"), estimators("multipose", "tflite")
    checked = 0
    for frame in media.iter_frames(DEMO_CLIP, every=15):
        a, b = tf_est(frame.image), lite_est(frame.image)
        assert len(a) == len(b)
        diag = diagonal(*frame.image.shape[:2])
        for pa, pb in zip(a, b):
            assert np.abs(pa.keypoints[:, :2] - pb.keypoints[:, :2]).max() < 0.005 * diag
        checked += 1
    assert checked >= 5

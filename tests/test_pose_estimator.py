"""pose/estimator.py against an independent, direct call of the real model."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import DEMO_CLIP, diagonal, direct_model_call, multipose_shape
from movenet_cli import media

# Measured against the direct call on the sample photo: mean 0.0 px (Lightning), 0.4 px
# (MultiPose), 0.8 px (Thunder); largest 1.6 px. The bounds leave a margin for float noise only.
MEAN_PX = 1.2
MAX_PX = 2.5


@pytest.mark.parametrize("model,backend", [("multipose", "tf"), ("multipose", "tflite"), ("lightning", "tflite"), ("thunder", "tf")])
def test_keypoints_match_a_direct_model_call(store, estimators, person_image, model, backend):
    est = estimators(model, backend, min_pose_score=0.2)
    height, width = person_image.shape[:2]
    in_h, in_w = multipose_shape(height, width) if model == "multipose" else (est.spec.input_size,) * 2
    poses = est(person_image)
    direct = [p for p in direct_model_call(store, model, person_image, in_h, in_w) if p[0] >= 0.2]
    assert poses, "nobody found in the sample image"
    assert len(poses) == len(direct)
    for pose, (score, kp, *_) in zip(poses, direct):
        confident = kp[:, 2] > 0.3
        assert confident.sum() >= 5
        err = np.linalg.norm(pose.keypoints[confident, :2] - kp[confident, :2], axis=1)
        assert err.mean() < MEAN_PX and err.max() < MAX_PX, f"mean {err.mean():.2f}px, max {err.max():.2f}px"
        np.testing.assert_allclose(pose.keypoints[:, 2], kp[:, 2], atol=0.1)
        if model == "multipose":
            assert pose.score == pytest.approx(score, abs=0.02)


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

"""pose/crops.py: crops map back exactly, and the crop region follows the torso."""

from __future__ import annotations

import numpy as np

from movenet_cli.pose.crops import Crop, crop_region, crop_resize
from movenet_cli.pose.letterbox import Letterbox, letterbox


def test_crop_resize_maps_back_exactly():
    image = np.zeros((300, 500, 3), np.uint8)
    image[121:124, 371:374] = 255  # a dot centred on (372.5, 122.5)
    crop = Crop.around(350, 140, 120, 192)
    out = crop_resize(image, crop).astype(float)[..., 0]
    v, u = np.indices(out.shape) + 0.5
    x, y = crop.to_source((out * u).sum() / out.sum() / 192, (out * v).sum() / out.sum() / 192)
    assert abs(x - 372.5) < 0.3 and abs(y - 122.5) < 0.3
    # the whole-frame crop is exactly the letterbox a SinglePose model gets
    frame = np.random.default_rng(0).integers(0, 255, (540, 960, 3), dtype=np.uint8)
    whole = crop_resize(frame, Crop.whole_frame(540, 960, 192))
    boxed = letterbox(frame, Letterbox.fit(540, 960, 192, 192))
    assert np.abs(whole.astype(int) - boxed).max() <= 1


def test_crop_region_follows_the_torso(estimators, person_image):
    height, width = person_image.shape[:2]
    pose = estimators("thunder")(person_image)[0]
    crop = crop_region(pose.keypoints, height, width, 256)
    assert crop is not None and crop.size < 0.8 * height
    hips = pose.keypoints[[11, 12], :2].mean(axis=0)
    assert np.allclose([crop.x0 + crop.size / 2, crop.y0 + crop.size / 2], hips)
    sure = pose.keypoints[pose.keypoints[:, 2] >= 0.2, :2]
    assert (sure >= [crop.x0, crop.y0]).all() and (sure <= [crop.x0 + crop.size, crop.y0 + crop.size]).all()
    hidden = pose.keypoints.copy()
    hidden[[11, 12], 2] = 0.0  # no hip: back to the whole frame
    assert crop_region(hidden, height, width, 256) is None

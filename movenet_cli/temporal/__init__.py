"""Across the frames of a video: crop following, tracking, smoothing, and the per-video processor."""

from .processor import FrameProcessor

__all__ = ["FrameProcessor"]

"""Kept for code written against the first release: :class:`VideoQuality` lives in
:mod:`movenet_cli.settings`, the per-video processor in :mod:`movenet_cli.temporal`."""

from .settings import VideoQuality

__all__ = ["VideoQuality"]

"""Reading written results back: ``movenet/1`` documents as typed frames, for tools that work on
finished runs (comparison, analysis, exports, reports) without running a model."""

from .load import ResultDoc, load_result

__all__ = ["ResultDoc", "load_result"]

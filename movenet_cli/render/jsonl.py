"""JSON Lines output: one JSON object per processed frame, written and flushed as frames come.

The stream a script reads (``--jsonl PATH`` or ``--jsonl -`` for stdout)::

    {"schema": "movenet/1", "source": {"path": "in.mp4", "width": 960, ...}, "model": {"name": ...}}
    {"source": "in.mp4", "index": 0, "time": 0.0, "people": [{"id": 1, "score": 0.83, "bbox": [...], "keypoints": [...]}]}
    ...
    {"complete": true, "frame_count": 90}

The first line is the header (it has ``schema``), then one line per frame (it has
``index``; its person objects are those of the ``movenet/1`` document), then an end
line (it has ``complete``): ``false`` when the run failed or the input was read only in
part. A stream without an end line was cut short. The JSON is strict: a value that is
not a finite number is ``null``, as in the ``movenet/1`` document.

Example::

    from movenet_cli import PoseEstimator
    from movenet_cli.media import read_image
    from movenet_cli.render.jsonl import JsonlSink
    from movenet_cli.types import FrameResult

    people = PoseEstimator("multipose")(read_image("sample_media/person.jpg"))
    with JsonlSink("out/person.jsonl", source="person.jpg", model={"name": "multipose"}) as sink:   # "-": stdout
        sink.add(FrameResult(0, 0.0, people))

    # movenet video in.mp4 --no-video --jsonl - | jq -c 'select(.index) | [.index, (.people | length)]'
"""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path
from typing import IO, Any

from ..errors import MovenetError, safe_name
from ..types import FrameResult
from ..util.fs import remove_quietly, temp_path_for
from .sinks import SCHEMA, Sink, frame_to_dict

STDOUT = "-"


class JsonlError(MovenetError):
    """The JSON Lines stream cannot be written (a path that cannot be opened, a closed reader, a non-finite value)."""


class JsonlSink(Sink):
    """Writes the header at once, then a line per :meth:`add`, flushed; :meth:`finish` writes the end line.

    ``target`` is a path, ``"-"`` for stdout, or an open text stream (left open). A regular
    file is written under a temporary name that :meth:`finish` returns, for the caller to
    rename into place with the other outputs (so a failed run leaves nothing at the path);
    a FIFO or a device (``/dev/stdout``) is written directly, so a reader sees every line
    as it comes. ``path`` is the final path of a regular file, ``None`` for a stream.
    ``source`` is the ``movenet/1`` source block (or just the input's path).
    Set ``complete = False`` before finishing when the input was read only in part.
    """

    def __init__(self, target: str | os.PathLike | IO[str], source: dict[str, Any] | str, model: dict[str, Any]):
        self.source = {"path": str(source)} if isinstance(source, (str, os.PathLike)) else dict(source)
        self.model = dict(model)
        self.count = 0
        self.complete = True
        self.closed = False
        self.path: Path | None = None
        self._tmp: Path | None = None
        self._owned = False
        if isinstance(target, str) and target == STDOUT:
            self.name, self._fh = "stdout", sys.stdout
        elif hasattr(target, "write"):
            self.name, self._fh = getattr(target, "name", "<stream>"), target
        else:
            self.name, stream = safe_name(target), is_stream_path(Path(target))
            self.path = None if stream else Path(target)
            self._tmp = None if stream else temp_path_for(self.path)
            self._fh = self._open(self._tmp or Path(target))
            self._owned = True
        self._write({"schema": SCHEMA, "source": self.source, "model": self.model}, "the header")

    @property
    def uses_stdout(self) -> bool:
        """Whether the data goes to stdout (then nothing else may be printed there)."""
        return self._fh is sys.stdout

    def _open(self, path: Path) -> IO[str]:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return open(path, "w", encoding="utf-8", newline="\n")
        except OSError as exc:
            raise JsonlError(f"{self.name}: cannot write JSON Lines ({exc.strerror or exc})") from None

    def _write(self, obj: dict[str, Any], what: str) -> None:
        try:
            line = json.dumps(obj, allow_nan=False, separators=(",", ":"))
        except ValueError:
            raise JsonlError(
                f"{safe_name(self.source.get('path', '?'))}: {what} holds a value that is not a finite number; "
                "JSON Lines output cannot carry it"
            ) from None
        try:
            self._fh.write(line + "\n")
            self._fh.flush()
        except BrokenPipeError:
            self._detach_stdout()
            frames = f"{self.count} frame{'s' * (self.count != 1)}"
            raise JsonlError(f"{self.name}: the reader closed the stream after {frames}") from None
        except OSError as exc:
            raise JsonlError(f"{self.name}: cannot write JSON Lines ({exc.strerror or exc})") from None

    def _detach_stdout(self) -> None:
        """After a closed pipe, point stdout at /dev/null so the interpreter's final flush cannot fail again."""
        self.closed = True
        if self._fh is sys.stdout:
            try:
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
                os.close(devnull)
            except (OSError, ValueError):
                pass

    def add(self, result: FrameResult) -> None:
        """Write one frame's line and flush it."""
        if self.closed:
            raise JsonlError(f"{self.name}: the JSON Lines stream is closed")
        line = {"source": self.source.get("path"), **frame_to_dict(result)}
        self._write(line, f"frame {result.index}")
        self.count += 1

    def finish(self) -> Path | None:
        """Write the end line (``complete`` and ``frame_count``), close a file this sink opened, and
        return the name it was written under (``None`` for a stream)."""
        if not self.closed:
            try:
                self._write({"complete": self.complete, "frame_count": self.count}, "the end line")
            finally:
                self._finish()
        return self._tmp

    def close(self) -> None:
        """Finish, and rename a file written under a temporary name into place."""
        tmp = self.finish()
        if self._tmp is not None and tmp is not None:
            os.replace(tmp, self.path)
            self._tmp = None

    def abort(self) -> None:
        """The run failed: a stream gets ``complete: false`` if it still takes it; a file is removed."""
        if self.closed:
            return
        self.complete = False
        try:
            if self._tmp is None:
                self._write({"complete": False, "frame_count": self.count}, "the end line")
        except JsonlError:
            pass
        finally:
            self._finish()
            remove_quietly(self._tmp)

    def _finish(self) -> None:
        self.closed = True
        if self._owned:
            self._fh.close()



def is_stream_path(path: Path) -> bool:
    """Whether ``path`` is a FIFO or a character device (``/dev/stdout``): written as it comes, never renamed."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode)

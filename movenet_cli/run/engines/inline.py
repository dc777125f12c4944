"""The engine that runs every file in this process, one after the other, with a bar per file.

Example::

    from movenet_cli.run.engines.inline import run_inline
    from movenet_cli.run.plan import plan_folder
    from movenet_cli.settings import RunSettings

    tasks = list(enumerate(plan_folder("sample_media", "out/results", video=False).jobs))
    for index, record in run_inline(tasks, RunSettings(end=0.5)):
        print(record.input, record.status)
"""

from __future__ import annotations

from typing import Iterator

from ...pose import PoseEstimator
from ...settings import RunSettings
from ..job import FileRecord, Task, process_job


def run_inline(
    tasks: list[Task], settings: RunSettings, *, threads: int | None = None, progress: bool = False
) -> Iterator[tuple[int, FileRecord]]:
    """Run ``tasks`` here with one estimator; yield ``(index, record)`` as files finish."""
    estimator = PoseEstimator.from_settings(settings, threads=threads)
    for index, job in tasks:
        yield index, process_job(estimator, job, settings, overwrite=True, progress=progress)

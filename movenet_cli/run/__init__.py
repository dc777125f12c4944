"""The run layer: plan a folder, decide what to resume, run an engine, keep the manifest.

Example::

    from movenet_cli.run import run_folder
    from movenet_cli.settings import RunSettings

    run = run_folder("footage", "out", RunSettings("multipose"), jobs=2, skip_existing=True)
    print(run.counts, run.manifest_path)
"""

from .folder import FolderRun, run_folder
from .job import FileRecord, process_job
from .plan import Job, plan_folder

__all__ = ["FileRecord", "FolderRun", "Job", "plan_folder", "process_job", "run_folder"]

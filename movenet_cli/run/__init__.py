"""The run layer: plan a folder, decide what to resume, run an engine, keep the manifest.

Example::

    from movenet_cli.run import run_folder
    from movenet_cli.settings import RunSettings

    run = run_folder("sample_media", "out/results", RunSettings("multipose", end=0.5))
    print(run.counts, run.manifest_path)    # {'done': 3, ...} out/results/movenet-run.json
"""

from .folder import FolderRun
from .remote import run_folder  # a folder or a bucket URL on either side
from .job import FileRecord, process_job
from .plan import Job, plan_folder

__all__ = ["FileRecord", "FolderRun", "Job", "plan_folder", "process_job", "run_folder"]

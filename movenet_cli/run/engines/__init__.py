"""The engines of a folder run, behind one protocol: ``run_X(tasks, settings, **options)`` yields
``(index, FileRecord)`` as files finish. ``inline`` (this process), ``processes`` (worker
processes on this machine), ``ray`` (one Ray task per file; imported only when used)."""

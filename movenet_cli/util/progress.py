"""Progress bars on stderr: one factory, so every bar behaves the same.

Bars refresh ten times a second on a terminal and every ten seconds in a log file
(CI, ``2> log``), so a long run does not fill the log.

Example::

    from movenet_cli.util.progress import progress_bar

    bar = progress_bar(total=90, unit="frame", desc="clip.mp4")
    bar.update(1)
    bar.close()
"""

from __future__ import annotations

import sys

from ..errors import safe_name


def refresh_interval() -> float:
    """Seconds between refreshes: short on a terminal, long in a log file."""
    return 0.1 if sys.stderr.isatty() else 10.0


def progress_bar(total: int | None, *, unit: str, desc: str, delay: float = 0.0):
    """A tqdm bar on stderr (``delay``: seconds before it first shows)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit=unit,
        desc=desc,
        file=sys.stderr,
        dynamic_ncols=True,
        leave=True,
        mininterval=refresh_interval(),
        delay=delay,
    )


def write_line(text: str) -> None:
    """Print a line on stderr without breaking a bar that is showing; control characters (from
    file names) are escaped, so it stays one line."""
    from tqdm import tqdm

    tqdm.write(safe_name(text), file=sys.stderr)

"""What the commands print on stderr, and how errors become one line and an exit code.

Errors: a :class:`~movenet_cli.errors.MovenetError` (or an ``OSError``) is printed as one line
``movenet: error: ...`` and exits with its code; anything else is a bug, printed as one line
too with the hint to run with ``--debug``, which shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import sys
from pathlib import Path

import click

from ..errors import EXIT_FAILED, EXIT_INTERRUPTED, MovenetError, describe, safe_name
from ..util.system import stdout_reader_gone, silence_stdout

# Context key: (files finished so far, files planned), for commands that report them when interrupted.
FINISHED = "movenet.finished"
EXIT_READER_GONE = 141  # what a command stopped by SIGPIPE exits with in a shell: its reader went away


def debugging() -> bool:
    return bool(click.get_current_context().find_root().params.get("debug", False))


def fail(message: str) -> None:
    """One error line; control characters (from file names) are escaped, so it stays one line."""
    click.echo(f"movenet: error: {safe_name(message)}", err=True)


def warn(message: str) -> None:
    click.echo(f"movenet: warning: {safe_name(message)}", err=True)


def note(message: str) -> None:
    """A line on stderr; control characters (from file names) are escaped, so it stays one line."""
    click.echo(safe_name(message), err=True)


def incomplete(path: Path, problem: str | None) -> str:
    return (
        f"{safe_name(path)}: {problem}; the outputs hold only those frames (JSON \"complete\": false); "
        "re-copy or re-export the file to get the rest"
    )


def _report_interrupted(finished: list[Path], total: int) -> None:
    """What an interrupted `dir` run leaves: the finished files; the one in progress wrote nothing."""
    note(f"movenet: interrupted: {len(finished)} of {total} files finished before it")
    for path in finished:
        note(f"  finished: {safe_name(path)}")
    note("  the file in progress left no output; run again with --skip-existing to resume")


def _interrupted() -> None:
    finished = click.get_current_context().meta.get(FINISHED)
    if finished is not None:
        _report_interrupted(*finished)
    else:
        fail("interrupted")
    sys.exit(EXIT_INTERRUPTED)


def handle_errors(fn):
    """Turn errors into one line and an exit code; keep tracebacks for --debug. A reader of stdout
    that goes away (``movenet compare ... | head -3``) ends the command quietly (exit 141)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            try:
                return fn(*args, **kwargs)
            finally:
                with contextlib.suppress(ValueError, AttributeError):
                    sys.stdout.flush()  # here, not at exit, where a closed pipe could only be reported
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise  # Click prints usage errors and exits 2
        except KeyboardInterrupt:
            if debugging():
                raise
            _interrupted()
        except (MovenetError, OSError) as exc:
            if isinstance(exc, OSError) and exc.errno == errno.EPIPE and stdout_reader_gone():
                silence_stdout()
                sys.exit(EXIT_READER_GONE)
            if debugging():
                raise
            fail(describe(exc))
            sys.exit(exc.exit_code if isinstance(exc, MovenetError) else EXIT_FAILED)
        except Exception as exc:  # a bug: still one line, the traceback is behind --debug
            if debugging():
                raise
            fail(f"unexpected {type(exc).__name__}: {describe(exc)} (run with --debug for the traceback)")
            sys.exit(EXIT_FAILED)

    return wrapper


def reserve_stdout() -> None:
    """Keep stdout for the data stream: Python's ``sys.stdout`` writes to the original stdout,
    and file descriptor 1, which libraries and child processes inherit, goes to stderr, so no
    line of theirs can land in the data."""
    sys.stdout.flush()
    data = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(data, "w", encoding="utf-8", newline="\n")


def expectation_missed(line: str) -> None:
    """The line for an input whose results missed an expectation (the command exits 3)."""
    click.echo(f"movenet: {safe_name(line)}", err=True)

"""The ``movenet`` command line: a thin layer over the package's API, one module per command.

Exit codes: 0 all done, 1 some input failed, 2 usage error, 3 an expectation not met, 130 interrupted.
Errors are one line on stderr; ``--debug`` shows the traceback.
"""

from __future__ import annotations

import click

from .. import __version__
from ..util.system import sigterm_as_interrupt
from .compare import compare
from .angles import angles
from .dir import dir_
from .eval import eval_
from .export import export
from .image import image
from .models import models
from .report import report
from .video import video


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="movenet")
@click.option("--debug", is_flag=True, help="Show full tracebacks on errors.")
def cli(debug: bool) -> None:
    """Run Google's MoveNet pose models over images, videos and folders.

    Writes annotated media plus per-frame keypoint JSON (schema movenet/1) and CSV.
    Models are fetched on first use and cached (see `movenet models`).
    """
    sigterm_as_interrupt()


for command in (image, video, dir_, eval_, models, compare, angles, export, report):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="movenet")

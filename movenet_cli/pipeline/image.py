"""One still image through the stages: read -> estimate -> JSON/CSV + annotated image.

Example::

    from pathlib import Path
    from movenet_cli import PoseEstimator
    from movenet_cli.pipeline import Outputs, process_image

    outputs = Outputs(Path("out/p.jpg"), Path("out/p.json"), Path("out/p.csv"))
    result = process_image(PoseEstimator("multipose"), "sample_media/person.jpg", outputs)
    print(len(result.people))               # 1
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable

from ..media import read_image, write_image
from ..render.draw import DrawStyle, draw_poses
from ..settings import AnalysisSettings
from ..types import FrameResult
from ..util.preflight import check_input
from .analysis import publish_analysis, wanted
from .outputs import Outputs, OutputSet, model_info, open_sinks, source_info


def process_image(estimator, path: str | os.PathLike, outputs: Outputs, analysis: AnalysisSettings | None = None,
                  *, style: DrawStyle | None = None, source_name: str | None = None) -> FrameResult:
    """Estimate poses on one image and write the annotated image (drawn in ``style``), JSON and CSV
    (and the angles and exports ``analysis`` asks for); ``source_name``: what the JSON calls the input."""
    path = Path(path)
    check_input(path)
    image = read_image(path)
    height, width = image.shape[:2]
    poses = estimator(image)
    result = FrameResult(0, 0.0, poses)
    source = source_info(source_name or path, width, height)
    model = model_info(estimator, estimator.input_shape(height, width))
    with OutputSet() as outs:
        if wanted(analysis):
            publish_analysis(outs, outputs, [result], source=source, model=model, analysis=analysis,
                             threshold=estimator.threshold)
        else:
            for sink in open_sinks(outs, outputs, source, model):
                sink.add(result)
        if outputs.media is not None:
            annotated = draw_poses(image, poses, threshold=estimator.threshold, show_ids=estimator.spec.multipose,
                                   style=style)
            outs.add_file(outputs.media, lambda tmp: write_image(tmp, annotated))
    return result


def process_images(
    estimator,
    plans: Iterable[tuple[Path, Outputs]],
    *,
    on_done: Callable[[Path, Outputs, FrameResult], None],
    on_error: Callable[[Path, BaseException], None],
    analysis: AnalysisSettings | None = None,
    style: DrawStyle | None = None,
) -> int:
    """Process each (image, outputs); one image's failure never stops the others.

    ``on_error`` is called with each failure (it may re-raise); returns how many failed.
    """
    failed = 0
    for path, outputs in plans:
        try:
            result = process_image(estimator, path, outputs, analysis, style=style)
        except Exception as exc:  # noqa: BLE001 - reported for this image; the others go on
            on_error(path, exc)
            failed += 1
            continue
        on_done(path, outputs, result)
    return failed

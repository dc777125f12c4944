"""JUnit XML reports, one testcase per input, for CI test viewers (GitLab, Jenkins, GitHub test reports).

The document follows the common ``junit-10.xsd`` shape (the Jenkins xUnit plugin's):
``<testsuites>`` holding ``<testsuite name tests failures errors skipped time timestamp>``
holding ``<testcase name classname time>`` with at most one ``<failure>`` (a result that
is not what was expected: a difference, a violated expectation), ``<error>`` (an input
that could not be processed or compared) or ``<skipped>``, and an optional
``<system-out>``. Characters XML 1.0 cannot hold are written as ``\\xNN`` escapes. The
file is written beside its destination and renamed into place.

Example::

    from movenet_cli.results.junit import JUnitCase, JUnitSuite, write_junit

    suite = JUnitSuite("movenet video", [
        JUnitCase("clip.mp4", time=4.2),
        JUnitCase("other.mp4", outcome="failure", message="expected at least 1 person per frame ..."),
    ])
    write_junit("out/reports/movenet.xml", [suite])
"""

from __future__ import annotations

import os
import re
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

from ..errors import MovenetError, redact, safe_name
from ..util.fs import atomic_write
from .compare import CompareResult, Difference, FileComparison

OUTCOMES = ("passed", "failure", "error", "skipped")
_INVALID_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DETAIL_LINES = 200  # differences listed in one failure's text


class JUnitError(MovenetError):
    """The JUnit report could not be written; the message names the file."""


def xml_text(text: Any) -> str:
    """``text`` with every character XML 1.0 cannot hold written as a ``\\xNN``/``\\uNNNN`` escape,
    and credentials in URLs redacted."""
    return _INVALID_XML.sub(lambda m: repr(m.group())[1:-1], redact(str(text)))


def _seconds(value: float) -> str:
    """A time as the schema's SUREFIRE_TIME wants it: plain decimal, never negative or exponential."""
    return f"{max(0.0, float(value)):.3f}"


@dataclass
class JUnitCase:
    """One input's outcome: ``passed``, ``failure``, ``error`` or ``skipped``, with a one-line ``message``."""

    name: str
    classname: str = "movenet"
    time: float = 0.0
    outcome: str = "passed"
    message: str = ""
    details: str = ""
    kind: str = ""  # the failure's or error's type attribute
    system_out: str = ""

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {OUTCOMES}")

    def element(self) -> ET.Element:
        case = ET.Element("testcase", name=xml_text(self.name), classname=xml_text(self.classname))
        case.set("time", _seconds(self.time))
        if self.outcome != "passed":
            headline = self.message.splitlines()[0] if self.message else ""
            child = ET.SubElement(case, self.outcome, message=xml_text(headline))
            if self.kind and self.outcome != "skipped":
                child.set("type", xml_text(self.kind))
            child.text = xml_text(self.details or self.message)
        if self.system_out:
            ET.SubElement(case, "system-out").text = xml_text(self.system_out)
        return case


@dataclass
class JUnitSuite:
    """A named list of cases; counts and total time are derived from them."""

    name: str
    cases: list[JUnitCase] = field(default_factory=list)
    timestamp: str | None = None  # ISO 8601, local time without zone as Jenkins reads it; None: now
    hostname: str | None = None  # None: this machine's name
    properties: dict[str, str] = field(default_factory=dict)

    def count(self, outcome: str) -> int:
        return sum(case.outcome == outcome for case in self.cases)

    @property
    def time(self) -> float:
        return sum(max(0.0, case.time) for case in self.cases)

    def element(self) -> ET.Element:
        suite = ET.Element("testsuite", name=xml_text(self.name))
        suite.set("tests", str(len(self.cases)))
        suite.set("failures", str(self.count("failure")))
        suite.set("errors", str(self.count("error")))
        suite.set("skipped", str(self.count("skipped")))
        suite.set("time", _seconds(self.time))
        suite.set("timestamp", self.timestamp or datetime.now().isoformat(timespec="seconds"))
        suite.set("hostname", xml_text(self.hostname or socket.gethostname() or "localhost"))
        if self.properties:
            props = ET.SubElement(suite, "properties")
            for key, value in self.properties.items():
                ET.SubElement(props, "property", name=xml_text(key), value=xml_text(value))
        suite.extend(case.element() for case in self.cases)
        return suite


def to_xml(suites: Iterable[JUnitSuite], name: str = "movenet") -> bytes:
    """The whole document, UTF-8 with an XML declaration."""
    suites = list(suites)
    root = ET.Element("testsuites", name=xml_text(name))
    root.set("tests", str(sum(len(s.cases) for s in suites)))
    root.set("failures", str(sum(s.count("failure") for s in suites)))
    root.set("errors", str(sum(s.count("error") for s in suites)))
    root.set("time", _seconds(sum(s.time for s in suites)))
    root.extend(s.element() for s in suites)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def write_junit(path: str | os.PathLike, suites: Iterable[JUnitSuite], name: str = "movenet") -> Path:
    """Write the report atomically (a temporary file beside ``path``, renamed into place)."""
    path = Path(path)
    data = to_xml(suites, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_write(path, "wb") as fh:
            fh.write(data)
    except OSError as exc:
        raise JUnitError(f"{safe_name(path)}: cannot write the JUnit report ({exc.strerror or exc})") from None
    return path


def case_for_input(
    name: str,
    seconds: float = 0.0,
    *,
    error: str | None = None,
    violations: list[str] | None = None,
    classname: str = "movenet",
    system_out: str = "",
) -> JUnitCase:
    """One processed input: an ``error`` when it could not be processed, a ``failure`` per violated
    expectations (all of them in the text), else passed."""
    if error:
        return JUnitCase(name, classname, seconds, "error", error, kind="error", system_out=system_out)
    if violations:
        message = "; ".join(violations)
        return JUnitCase(name, classname, seconds, "failure", message, "\n".join(violations), "expectation", system_out)
    return JUnitCase(name, classname, seconds, system_out=system_out)


def _compare_case(item: FileComparison, fallback: str) -> JUnitCase:
    name = item.name or fallback
    counts = f"{item.frames} frames, {item.people} people, {item.keypoints} keypoints compared"
    if item.error:
        return JUnitCase(name, "movenet.compare", item.seconds, "error", item.error, kind="error", system_out=counts)
    found = sorted(item.differences, key=Difference.sort_key)
    if not found:
        return JUnitCase(name, "movenet.compare", item.seconds, system_out=counts)
    lines = [d.describe() for d in found[:_DETAIL_LINES]]
    if len(found) > _DETAIL_LINES:
        lines.append(f"... and {len(found) - _DETAIL_LINES} more")
    message = f"{len(found)} difference{'s' * (len(found) != 1)}; worst: {lines[0]}"
    return JUnitCase(name, "movenet.compare", item.seconds, "failure", message, "\n".join(lines), "difference", counts)


def suite_from_compare(result: CompareResult, name: str = "movenet compare") -> JUnitSuite:
    """One testcase per compared file (a single-file comparison is named after ACTUAL)."""
    cases = [_compare_case(item, Path(result.actual).name) for item in result.files]
    properties = {f"tolerance.{k}": str(v) for k, v in result.tolerance.to_dict().items() if v is not None}
    return JUnitSuite(name, cases, properties={"expected": result.expected, "actual": result.actual, **properties})


def _manifest_case(entry: dict[str, Any], violations: list[str] | None) -> JUnitCase:
    name, status = str(entry.get("input")), entry.get("status")
    seconds = entry.get("seconds") or 0.0
    out = f"frames: {entry.get('frames')}, people: {entry.get('people')}, fps: {entry.get('fps')}"
    if status == "failed":
        return case_for_input(name, seconds, error=entry.get("reason") or "failed", classname="movenet.dir")
    if status == "pending":
        reason = "not processed: the run stopped before this input"
        return case_for_input(name, seconds, error=reason, classname="movenet.dir")
    if status == "skipped" and not violations:
        message = "outputs already complete; not processed again"
        return JUnitCase(name, "movenet.dir", seconds, "skipped", message, system_out=out)
    return case_for_input(name, seconds, violations=violations, classname="movenet.dir", system_out=out)


def suite_from_manifest(
    manifest: dict[str, Any], violations: dict[str, list[str]] | None = None, name: str = "movenet dir"
) -> JUnitSuite:
    """One testcase per input of a ``movenet-run/1`` manifest: ``failed`` and ``pending`` inputs are errors,
    ``skipped`` ones skipped; ``violations`` maps an input (as the manifest names it) to its violated expectations."""
    violations = violations or {}
    cases = [_manifest_case(entry, violations.get(str(entry.get("input")))) for entry in manifest.get("files", [])]
    properties = {k: str(manifest[k]) for k in ("input_dir", "output_dir", "status") if manifest.get(k) is not None}
    return JUnitSuite(name, cases, properties=properties)

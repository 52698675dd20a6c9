"""Proof of detection: the faulty servers met by our suite and by plain Schemathesis, as one matrix."""

from assistants_conformance.lab.detection.matrix import Cell, Column, suite_run
from assistants_conformance.lab.detection.report import matrix_to_dict, render_html

__all__ = ["Cell", "Column", "matrix_to_dict", "render_html", "suite_run"]

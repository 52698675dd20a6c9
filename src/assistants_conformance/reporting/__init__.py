"""Renderers: pure functions from a saved report (the JSON form of RunResult) to other views."""

from assistants_conformance.reporting.render import load_report, render_html, render_junit, render_markdown, schema

__all__ = ["load_report", "render_html", "render_junit", "render_markdown", "schema"]

"""The HTML report in a real browser (Debian's headless Chromium, installed here when missing):
it renders with no console errors and no requests, and a hostile string from the target stays text."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.test_reporting import HOSTILE, report, written  # noqa: F401 - module fixtures reused

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    found = shutil.which("chromium")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True, timeout=600)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, capture_output=True, timeout=900)
        found = shutil.which("chromium")
    if found is None:
        pytest.skip("Debian's chromium is not installed and cannot be installed here (needs root and apt-get)")
    return found


def _dump_dom(chromium: str, tmp_path: Path, page: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    """The page's DOM after its scripts ran, from a headless Chromium with a profile of its own."""
    argv = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *flags, "--dump-dom", page.as_uri()]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def test_report_renders_inert_and_offline(chromium: str, written: Path, tmp_path: Path) -> None:  # noqa: F811
    """Scripts from the target never run; the page asks for nothing over the network; no console errors."""
    page = written / "conformance.html"
    netlog = tmp_path / "net.json"
    done = _dump_dom(chromium, tmp_path, page, "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}")
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    assert "PWNED" not in re.search(r"<title>([^<]*)", dom).group(1)  # type: ignore[union-attr]
    assert "&lt;script&gt;document.title=" in dom
    assert dom.count("<details") >= 2
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert console == []
    requested = set(re.findall(r'"url":"([^"]+)"', netlog.read_text()))
    from_page = {u for u in requested if u.startswith(("file:", "http://127.0.0.1", "http://x")) and u != page.as_uri()}
    assert from_page == set()


MEASURE = """<script>
(function () {
  var fix = document.querySelector('#to-fix li');
  var rect = function (el) { var r = el.getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; };
  document.body.setAttribute('data-layout', JSON.stringify({
    width: window.innerWidth, height: window.innerHeight,
    scrollWidth: document.documentElement.scrollWidth,
    verdict: rect(document.getElementById('verdict')),
    firstFix: fix ? rect(fix) : null
  }));
})();
</script></body>"""


def test_the_verdict_and_the_first_failure_fit_a_laptop_screen(
    chromium: str,
    written: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """At 1280 x 800 the verdict and the first thing to fix are visible without scrolling, and no
    line (a long URL, a pointer, a body the target sent) makes the page scroll sideways."""
    import json

    from assistants_conformance.reporting import render_html

    # Unbroken tokens as a target may send them (an id, a body): the widths that break layouts.
    saved = json.loads((written / "conformance.json").read_text())
    first = next(c for c in saved["checks"] if c["outcome"] == "failed")["findings"][0]
    first["message"] = "the server answered " + "y" * 600
    first["where"] = "data/" + "z" * 400
    page = tmp_path / "measured.html"
    page.write_text(render_html(saved).replace("</body>", MEASURE, 1))
    done = _dump_dom(chromium, tmp_path, page, "--window-size=1280,800", "--hide-scrollbars")
    assert done.returncode == 0, done.stderr[-2000:]
    found = re.search(r"data-layout=\"([^\"]+)\"", done.stdout)
    assert found, "the measuring script did not run"
    layout = json.loads(found.group(1).replace("&quot;", '"'))
    assert layout["width"] == 1280
    assert layout["scrollWidth"] <= layout["width"], layout
    assert layout["verdict"]["bottom"] <= layout["height"]
    assert layout["firstFix"] is not None
    assert layout["firstFix"]["bottom"] <= layout["height"], layout

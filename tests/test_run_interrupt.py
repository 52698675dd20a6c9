"""Ctrl-C during a run: it stops soon, still deletes what it created, and writes an incomplete report."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from assistants_conformance.reference import running_server

KEY = "sk-canary-interrupt-0123456789"


def test_ctrl_c_cleans_up_and_reports_incomplete(tmp_path: Path) -> None:
    with running_server(api_key=KEY) as server:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistants_conformance",
                "run",
                "--base-url",
                server.root,
                "--api-key",
                KEY,
                "--max-examples",
                "50",
                "--report-dir",
                str(tmp_path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(4)  # well into the run: scenarios done, property phase under way
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        listed = httpx.get(
            f"{server.base_url}/assistants", params={"limit": 100}, headers={"Authorization": f"Bearer {KEY}"}
        ).json()
    assert proc.returncode == 3, out + err
    assert "Traceback" not in err
    report = json.loads((tmp_path / "conformance.json").read_text())
    assert report["verdict"] == "incomplete"
    assert "interrupted" in report["verdict_reason"]
    assert report["resources"]["leaked"] == []
    assert listed["data"] == []  # tagged or generated, everything the run created is gone

"""`make compat`: the public Assistants v2 implementations the package registries reachable here
provide, side by side.

Each implementation is one TOML file in `implementations/` (how to install it, start it, where its
API is, how to get a key, what it claims). Each is installed once into its own venv or npm prefix
under a cache folder, started on a free loopback port with a fresh working folder, checked by
`assistants-conformance run`, and stopped by its process group. The bundled reference server is
the first column. `compare` then writes `reports/compat.html` and `compat.md` (checks x
implementations, each cell linking to that run's evidence) and `compat.json` records each run.

Never in CI: it downloads implementations (myla alone brings PyTorch) and runs for minutes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from tests.compat import audit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
COMMAND = str(Path(sys.executable).with_name("assistants-conformance"))


@dataclass
class Implementation:
    file: Path
    name: str
    version: str
    homepage: str
    install: dict[str, list[str]]
    start: dict[str, Any]
    key: dict[str, Any]
    profile: dict[str, Any]
    requires: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, file: Path) -> Implementation:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
        unknown = set(data) - {"name", "version", "homepage", "install", "start", "key", "profile", "requires"}
        if unknown:
            raise SystemExit(f"{file}: unknown key(s) {sorted(unknown)}")
        return cls(
            file=file,
            name=data["name"],
            version=data["version"],
            homepage=data.get("homepage", ""),
            install=data["install"],
            start=data["start"],
            key=data["key"],
            profile=data.get("profile", {}),
            requires=data.get("requires", []),
        )

    @property
    def slug(self) -> str:
        return self.file.stem


@dataclass
class Outcome:
    name: str
    version: str
    homepage: str
    status: str  # "checked", "skipped", "did not start", "install failed"
    reason: str = ""
    verdict: str | None = None
    exit_code: int | None = None
    seconds: float = 0.0
    failed_must: list[str] = field(default_factory=list)
    report: str | None = None
    slug: str = ""
    # The run against the hand-audited expectations (audit.py): None when it has none.
    disagreements: list[dict[str, str]] | None = None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fill(value: Any, places: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, text in places.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, list):
        return [fill(v, places) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, places) for k, v in value.items()}
    return value


def install(impl: Implementation, cache: Path, log: Path) -> dict[str, str]:
    """Install once per exact requirement list (a stamp records it); returns the placeholders."""
    home = cache / impl.slug
    places = {
        "venv": str(home / "venv"),
        "npm": str(home / "npm"),
        "adapters": str(HERE / "adapters"),
        "conformance": COMMAND,  # this tool, for an implementation that fronts the reference server
    }
    with log.open("a", encoding="utf-8") as out:
        if impl.install.get("pip"):
            wanted = json.dumps(impl.install["pip"])
            stamp = home / "venv" / ".compat-stamp"
            if not stamp.is_file() or stamp.read_text() != wanted:
                shutil.rmtree(home / "venv", ignore_errors=True)
                subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True, stdout=out, stderr=out)
                pip = [str(home / "venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
                subprocess.run([*pip, *impl.install["pip"]], check=True, stdout=out, stderr=out, timeout=3600)
                stamp.write_text(wanted)
        if impl.install.get("npm"):
            if shutil.which("npm") is None:
                raise RuntimeError("npm is not on PATH")
            wanted = json.dumps(impl.install["npm"])
            stamp = home / "npm" / ".compat-stamp"
            if not stamp.is_file() or stamp.read_text() != wanted:
                shutil.rmtree(home / "npm", ignore_errors=True)
                (home / "npm").mkdir(parents=True)
                npm = ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(home / "npm")]
                subprocess.run([*npm, *impl.install["npm"]], check=True, stdout=out, stderr=out, timeout=1800)
                stamp.write_text(wanted)
    return places


@contextlib.contextmanager
def started(impl: Implementation, places: dict[str, str], log: Path) -> Any:
    """The implementation running in its own process group; stopped (TERM, then KILL) on exit."""
    start = fill(impl.start, places)
    env = {**os.environ, **start.get("env", {})}
    for secret in ("ASSISTANTS_API_KEY", "OPENAI_API_KEY"):
        env.pop(secret, None)  # an implementation must not pick up a real key from this shell
    with log.open("a", encoding="utf-8") as out:
        proc = subprocess.Popen(
            start["command"],
            cwd=start.get("cwd", places["workdir"]),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:
        yield proc, start
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def wait_ready(proc: subprocess.Popen[bytes], start: dict[str, Any], base: str) -> str | None:
    """None once the server answers anything at `ready`; else why it is not there."""
    deadline = time.monotonic() + float(start.get("ready_timeout", 120))
    url = base + start.get("ready", "/")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with {proc.returncode} before answering"
        try:
            httpx.get(url, timeout=5)
            return None
        except httpx.TransportError:
            time.sleep(0.5)
    return f"no answer at {url} within {start.get('ready_timeout', 120)} s"


def obtain_key(impl: Implementation, root: str) -> str:
    if "value" in impl.key:
        return str(impl.key["value"])
    request = impl.key["request"]
    answer = httpx.request(request["method"], root + request["path"], json=request.get("json"), timeout=30)
    answer.raise_for_status()
    value: Any = answer.json()
    for part in impl.key["pointer"].strip("/").split("/"):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return str(value)


def check(target: list[str], key: str | None, profile: dict[str, Any], out_dir: Path, args: argparse.Namespace) -> int:
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = [COMMAND, "run", *target, "--report-dir", str(out_dir), "--quiet"]
    argv += ["--max-examples", str(args.max_examples), "--timeout", str(args.timeout)]
    if profile:
        # JSON is YAML: the profile loader reads it as such.
        (out_dir / "profile.yaml").write_text(json.dumps(profile), encoding="utf-8")
        argv += ["--profile", str(out_dir / "profile.yaml")]
    env = {k: v for k, v in os.environ.items() if k not in ("ASSISTANTS_API_KEY", "OPENAI_API_KEY")}
    if key is not None:
        env["ASSISTANTS_API_KEY"] = key
    with (out_dir / "run.log").open("w", encoding="utf-8") as log:
        done = subprocess.run(
            argv, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=args.run_timeout, check=False
        )
    return done.returncode


def summarise(outcome: Outcome, report_file: Path) -> None:
    if not report_file.is_file():
        return
    report = json.loads(report_file.read_text(encoding="utf-8"))
    outcome.verdict = report["verdict"]
    outcome.failed_must = [c["id"] for c in report["checks"] if c["outcome"] == "failed" and c["level"] == "MUST"]
    outcome.report = str(report_file)
    expected = audit.load(outcome.slug)
    if expected is not None:
        outcome.disagreements = audit.as_json(audit.disagreements(report, expected))


def run_one(impl: Implementation, args: argparse.Namespace, places: dict[str, str]) -> Outcome:
    outcome = Outcome(impl.name, impl.version, impl.homepage, "checked", slug=impl.slug)
    began = time.monotonic()
    out_dir = args.reports / "compat" / impl.slug
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    log = out_dir / "server.log"
    missing = [need for need in impl.requires if need == "vendor_spec" and not args.vendor_spec.is_file()]
    if missing:
        outcome.status, outcome.reason = "skipped", f"needs the vendor's document at {args.vendor_spec}"
        return outcome
    try:
        print(f"  installing (cached after the first time) … log: {log}", flush=True)
        places = {**places, **install(impl, args.cache, log)}
    except (subprocess.SubprocessError, RuntimeError, OSError) as exc:
        outcome.status, outcome.reason = "install failed", f"{exc.__class__.__name__}: {exc}"[:300]
        return outcome
    with tempfile.TemporaryDirectory(prefix=f"compat-{impl.slug}-") as workdir:
        port = free_port()
        places = {**places, "workdir": workdir, "port": str(port), "vendor_spec": str(args.vendor_spec.resolve())}
        with started(impl, places, log) as (proc, start):
            base = fill(start["base_url"], places)
            root = f"http://127.0.0.1:{port}"
            why = wait_ready(proc, start, root)
            if why is not None:
                outcome.status, outcome.reason = "did not start", why
                return outcome
            try:
                key = obtain_key(impl, root)
            except (httpx.HTTPError, KeyError, IndexError, ValueError) as exc:
                outcome.status, outcome.reason = "did not start", f"no key: {exc.__class__.__name__}: {exc}"[:300]
                return outcome
            print(f"  started on {base}; checking …", flush=True)
            try:
                outcome.exit_code = check(["--base-url", base], key, impl.profile, out_dir, args)
            except subprocess.TimeoutExpired:
                outcome.status, outcome.reason = "checked", f"the run took over {args.run_timeout} s and was stopped"
    summarise(outcome, out_dir / "conformance.json")
    outcome.seconds = round(time.monotonic() - began, 1)
    return outcome


def _gist(message: str) -> str:
    """A finding's rule without the operations it was seen in, short enough for a table cell."""
    seen = message.rfind("(HTTP ")  # "createThread (HTTP 200), … and 3 more: <the rule>"
    colon = message.find(": ", seen) if seen >= 0 else -1
    text = (message[colon + 2 :] if colon >= 0 else message).replace("|", "/")
    return text if len(text) <= 80 else text[:79].rsplit(" ", 1)[0] + " …"


def snapshot(outcomes: list[Outcome]) -> str:
    """The README's table: each implementation's verdict and its most frequent MUST failures."""
    lines = [
        "| implementation | verdict | MUST checks failed | audit disagreements | most frequent failures (count) |",
        "|---|---|---:|---:|---|",
    ]
    for o in outcomes:
        top = ""
        if o.report:
            report = json.loads(Path(o.report).read_text(encoding="utf-8"))
            failed = [c for c in report["checks"] if c["outcome"] == "failed" and c["level"] == "MUST"]
            failed = sorted(failed, key=lambda c: -sum(f.get("count", 1) for f in c["findings"]))[:3]
            counts = [sum(f.get("count", 1) for f in c["findings"]) for c in failed]
            top = "; ".join(
                f"`{c['id']}` {_gist(c['findings'][0]['message'])} ({n} times)"
                for c, n in zip(failed, counts, strict=True)
            )
        name = f"[{o.name} {o.version}]({o.homepage})" if o.homepage else f"{o.name} {o.version}".strip()
        verdict = o.verdict or f"{o.status}: {o.reason}"
        audited = "not audited" if o.disagreements is None else str(len(o.disagreements))
        lines.append(f"| {name} | {verdict} | {len(o.failed_must)} | {audited} | {top} |")
    return "\n".join(lines) + "\n"


def audit_report(outcomes: list[Outcome]) -> str:
    """Every disagreement between a run and its hand-audited expectations, per implementation."""
    lines = ["# make compat: runs against their audited expectations", ""]
    for o in outcomes:
        if o.disagreements is None:
            lines += [f"## {o.name} {o.version}".rstrip(), "", "not audited (no expectations file)", ""]
            continue
        lines += [f"## {o.name} {o.version}".rstrip(), "", f"{len(o.disagreements)} disagreement(s)", ""]
        lines += [
            f"- **{d['kind']}** `{d['check']}`: {d['actual']}, audited {d['expected']} ({d['why']})"
            for d in o.disagreements
        ]
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make compat", description=__doc__.split("\n\n")[0])
    cache_home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    parser.add_argument("--only", default="", help="comma-separated file names in implementations/ (default: all)")
    parser.add_argument("--cache", type=Path, default=cache_home / "assistants-conformance" / "compat")
    parser.add_argument("--reports", type=Path, default=ROOT / "reports")
    parser.add_argument(
        "--vendor-spec", type=Path, default=ROOT.parent / "shared" / "reference" / "openai-openapi.yaml"
    )
    parser.add_argument("--max-examples", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=15.0, help="per request (default: 15)")
    parser.add_argument("--run-timeout", type=float, default=1800.0, help="per implementation (default: 1800)")
    args = parser.parse_args(argv)
    files = sorted((HERE / "implementations").glob("*.toml"))
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    implementations = [Implementation.load(f) for f in files if not only or f.stem in only]
    began = datetime.now(UTC)
    print(f"compat: {len(implementations)} implementation(s), cache {args.cache}", flush=True)

    outcomes: list[Outcome] = []
    reference = Outcome("reference server (bundled)", "", "", "checked", slug="reference")
    print("reference server (bundled)", flush=True)
    tick = time.monotonic()
    ref_dir = args.reports / "compat" / "reference"
    reference.exit_code = check(["--reference"], None, {}, ref_dir, args)
    reference.seconds = round(time.monotonic() - tick, 1)
    summarise(reference, ref_dir / "conformance.json")
    outcomes.append(reference)
    for impl in implementations:
        print(f"{impl.name} {impl.version}", flush=True)
        outcome = run_one(impl, args, {})
        print(f"  {outcome.status}: {outcome.verdict or outcome.reason} ({outcome.seconds} s)", flush=True)
        outcomes.append(outcome)

    checked = [o for o in outcomes if o.report]
    compat_json = args.reports / "compat.json"
    compat_json.write_text(
        json.dumps(
            {"started_at": began.isoformat(timespec="seconds"), "implementations": [o.__dict__ for o in outcomes]},
            indent=2,
        ),
        encoding="utf-8",
    )
    if len(checked) >= 2:
        labels = [arg for o in checked for arg in ("--label", f"{o.name} {o.version}".strip())]
        subprocess.run(
            [
                COMMAND,
                "compare",
                *[o.report for o in checked if o.report],
                *labels,
                "--html",
                str(args.reports / "compat.html"),
                "--markdown",
                str(args.reports / "compat.md"),
            ],
            check=False,
            stdout=subprocess.DEVNULL,
        )
    (args.reports / "compat-snapshot.md").write_text(snapshot(outcomes), encoding="utf-8")
    (args.reports / "compat-audit.md").write_text(audit_report(outcomes), encoding="utf-8")
    print(f"\n{'implementation':<34} {'verdict':<16} {'MUST failed':>11} {'time':>8}")
    for o in outcomes:
        shown = o.verdict or o.status
        print(f"{o.name + ' ' + o.version:<34} {shown:<16} {len(o.failed_must):>11} {o.seconds:>7.0f}s")
        if o.reason:
            print(f"    {o.reason}")
        for found in o.disagreements or []:
            print(f"    audit: {found['kind']}: {found['check']} {found['actual']}, expected {found['expected']}")
    print(f"\nwrote {args.reports / 'compat.html'}, compat.md, compat-snapshot.md and {compat_json.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

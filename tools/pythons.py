#!/usr/bin/env python3
"""`make test-pythons`: the grader on every Python the students have, checked here.

Students run the engine (through the bundle's `make check`) on CPython 3.12, 3.13 and
3.14, and bytecode, `sys.settrace` and multiprocessing's defaults change between them.
For each version this script runs, from a copy of this checkout:

- the engine tests (tests/concurrency), the process_timeout start-method tests and the
  hostile submissions (tests/hostile);
- `python -m grader grade solutions`: every reference must score full marks;
- `python -m grader grade exercises`: every untouched stub must score less.

3.11 is the host's Python (the project's .venv). 3.13 and 3.14 are Debian's own
python3.13 (trixie) and python3.14 (sid), each in a chroot built once with debootstrap
from the mirror apt uses here, and kept in a cache outside the repository
($GRADER_CHROOTS, /var/cache/concurrency-grader/chroots by default) with a venv holding
the project's dependencies. Each run copies the checkout in afresh.

A chroot runs inside its own mount and PID namespaces (unshare): /proc, /dev, /dev/shm
and /sys are mounted there only, so the kernel removes them, and ends every process left
inside, when the run ends, whatever way it ends. Nothing is ever mounted on the host's
view of the chroot, so deleting the cache cannot reach the host's /dev.

A version that cannot be built here (not root, no debootstrap, no mirror, no namespaces)
is reported as SKIPPED with the reason, never as passed. Any other failure makes the
exit status non-zero. The closing line counts versions: `pythons: N passed, N failed,
N skipped`.

Environment: GRADER_CHROOTS (the cache), GRADER_PYTHONS (versions to run, e.g.
"3.11 3.14"; all by default), GRADER_CHROOTS_REBUILD=1 (build the chroots anew),
GRADER_PYTHONS_HOST=0 (the host's Python reported as skipped: CI, right after `make test`).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CACHE = "/var/cache/concurrency-grader/chroots"
LOGS = ROOT / "build" / "pythons"  # each version's log and outputs (build/ is not tracked)
# Tests run on every version: the engine's; the start methods of process_timeout (3.14
# changed the default on Linux to forkserver); the hostile submissions, whose verdicts
# name the line of a loop or a recursion, which each version compiles its own way.
TESTS = ["tests/concurrency", "tests/test_process_timeout_start_methods.py", "tests/hostile"]
# Inside a chroot: where the checkout is copied and where the venv lives.
SRC = "/work/src"
VENV = "/opt/grader-venv"
# Debian's packages in each chroot: the Python itself, venv support, make for the
# bundle's Makefile, bubblewrap for the grader's isolation, and CA certificates.
PACKAGES = ("ca-certificates", "make", "bubblewrap")
# Bumped when the recipe of a chroot changes: a cached chroot of an older recipe is rebuilt.
RECIPE = 1
# Where pip and TLS look for certificates on the host: copied into each chroot.
CA_VARIABLES = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PASSED_VARIABLES = ("http_proxy", "https_proxy", "no_proxy", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY")


@dataclass(frozen=True)
class Target:
    version: str  # "3.13"
    suite: str = ""  # Debian suite of its chroot; "" for the host's own Python

    @property
    def where(self) -> str:
        return f"Debian {self.suite} chroot" if self.suite else "host"


TARGETS = (Target("3.11"), Target("3.13", "trixie"), Target("3.14", "sid"))


class Skip(Exception):
    """This version cannot be built or run here: the reason, never a pass."""


class Failed(Exception):
    """A real failure of this version."""


@dataclass
class Outcome:
    target: Target
    status: str = "passed"  # passed | failed | skipped
    reason: str = ""
    python: str = ""
    figures: dict = field(default_factory=dict)
    failures: list = field(default_factory=list)
    build_seconds: float | None = None
    seconds: float = 0.0


# ---------------------------------------------------------------- running commands

def say(text: str) -> None:
    print(text, flush=True)


def run(command: list[str], *, log: Path, env: dict | None = None, timeout: float = 3600,
        cwd: Path | None = None) -> int:
    """Run a command with its output appended to `log`; its exit code."""
    with open(log, "a", encoding="utf-8") as out:
        out.write(f"\n$ {' '.join(command)}\n")
        out.flush()
        try:
            return subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                  cwd=cwd, stdin=subprocess.DEVNULL, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            out.write(f"\n(stopped after {timeout:g} s)\n")
            return 124
        except OSError as exc:
            out.write(f"\n(could not start: {exc})\n")
            return 127


def tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    return "\n".join("    " + line for line in text[-lines:])


# ---------------------------------------------------------------- the host's apt setup

def debian_mirror(apt: Path = Path("/etc/apt")) -> str:
    """The Debian archive apt uses here (sources.list or deb822 .sources), not a guess."""
    files = [apt / "sources.list"]
    folder = apt / "sources.list.d"
    if folder.is_dir():
        files += sorted(folder.iterdir())
    for source in files:
        if not source.is_file() or source.suffix not in (".list", ".sources"):
            continue
        text = source.read_text(encoding="utf-8", errors="replace")
        uris = re.findall(r"^\s*URIs:\s*(.+)$", text, re.M)
        uris += re.findall(r"^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)", text, re.M)
        for line in uris:
            for uri in line.split():
                # The main archive, not debian-security nor a third party's repository.
                if re.match(r"^(https?|file)://", uri) and uri.rstrip("/").endswith("/debian"):
                    return uri.rstrip("/")
    raise Skip("no Debian archive in /etc/apt/sources.list*: no mirror to build a chroot from")


def apt_proxy() -> dict[str, str]:
    """The proxy apt is configured with, for debootstrap's downloads (none here by default)."""
    found = {}
    for scheme in ("http", "https"):
        try:
            value = subprocess.run(["apt-config", "shell", "P", f"Acquire::{scheme}::Proxy"],
                                   capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.TimeoutExpired):
            continue
        match = re.search(r"P='([^']+)'", value)
        if match and match.group(1) not in ("DIRECT", "false"):
            found[f"{scheme}_proxy"] = match.group(1)
    return found


def ensure_debootstrap(log: Path) -> None:
    if shutil.which("debootstrap"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Skip("debootstrap is not installed, and installing it needs root and apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    if run(["apt-get", "update", "-qq"], log=log, env=env) != 0 or \
            run(["apt-get", "install", "-y", "-qq", "debootstrap"], log=log, env=env) != 0 \
            or not shutil.which("debootstrap"):
        raise Skip(f"debootstrap could not be installed with apt-get (see {log})")


# ---------------------------------------------------------------- a chroot

def host_files() -> dict[str, Path]:
    """Host files a chroot needs to reach PyPI as the host does: CA bundles, pip's settings."""
    wanted = {"/etc/ssl/certs/ca-certificates.crt", "/etc/pip.conf"}
    wanted |= {os.environ[v] for v in CA_VARIABLES if os.environ.get(v)}
    pip_conf = Path("/etc/pip.conf")
    if pip_conf.is_file():
        for match in re.finditer(r"^\s*cert\s*=\s*(\S+)", pip_conf.read_text(errors="replace"), re.M):
            wanted.add(match.group(1))
    return {path: Path(path) for path in sorted(wanted)
            if Path(path).is_absolute() and Path(path).is_file()}


def copy_host_files(root: Path) -> None:
    """The host's CA bundles and pip settings, at the same paths in the chroot (each run:
    a cached chroot follows the host's settings as they are now)."""
    for path, source in host_files().items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)


def chroot_env() -> dict[str, str]:
    """The environment inside a chroot: a clean one, plus pip's and the proxies' settings."""
    env = {"PATH": f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin",
           "HOME": "/root", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "dumb"}
    for key, value in os.environ.items():
        if key.startswith("PIP_") or key in CA_VARIABLES or key in PASSED_VARIABLES:
            env[key] = value
    return env


def in_chroot(root: Path, script: str, *, log: Path, timeout: float = 3600) -> int:
    """Run a shell script inside the chroot, in fresh mount and PID namespaces.

    The checkout's copy and the outputs stay in the chroot's own folders. The mounts exist
    only in that mount namespace, and every process in the PID namespace
    is killed when its first process ends: nothing outlives the call, nothing is left
    mounted, with no unmounting to forget.
    """
    env_args = [f"{k}={v}" for k, v in chroot_env().items()]
    setup = (
        "set -e\n"
        f"R='{root}'\n"
        # The root a mount point of its own: bubblewrap makes / a slave mount, which
        # fails on a plain directory (EINVAL), and the grader would fall back to plain mode.
        'mount --bind "$R" "$R"\n'
        'mount -t proc proc "$R/proc"\n'
        'mount --rbind /dev "$R/dev"\n'
        'mkdir -p "$R/dev/shm" && mount -t tmpfs -o mode=1777,nosuid,nodev shm "$R/dev/shm"\n'
        'mount --rbind /sys "$R/sys"\n'
        'mount -t tmpfs -o mode=1777 tmp "$R/tmp"\n'
        # pivot_root, not chroot: the kernel refuses a user namespace (which bubblewrap
        # needs) to a chrooted process, but not to one whose root is its namespace's root.
        'mkdir -p "$R/.oldroot"\n'
        'cd "$R"\n'
        'pivot_root . .oldroot\n'
        'cd /\n'
        'umount -l /.oldroot\n'
        'exec /usr/bin/env -i "$@"\n')
    command = ["unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--",
               "/bin/sh", "-c", setup, "setup", *env_args, "/bin/sh", "-c", script]
    return run(command, log=log, timeout=timeout)


def recipe(target: Target, mirror: str) -> dict:
    return {"recipe": RECIPE, "suite": target.suite, "python": target.version, "mirror": mirror,
            "packages": sorted(PACKAGES)}


def build_chroot(target: Target, cache: Path, log: Path) -> tuple[Path, float | None]:
    """The chroot of this target, built now if the cache has none: (its root, build seconds)."""
    if os.geteuid() != 0:
        raise Skip("building and entering a chroot needs root")
    if not shutil.which("unshare"):
        raise Skip("unshare (util-linux) is missing: a chroot cannot be entered safely")
    try:
        probe = subprocess.run(["unshare", "--mount", "--propagation", "private", "--pid", "--fork",
                                "--", "true"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Skip(f"unshare could not run: {exc}") from None
    if probe.returncode != 0:
        raise Skip(f"no mount and PID namespaces here (a container without CAP_SYS_ADMIN?): "
                   f"{probe.stderr.strip()[:200]}")
    mirror = debian_mirror()
    root = cache / target.suite
    stamp = root / ".grader-chroot.json"
    wanted = recipe(target, mirror)
    rebuild = os.environ.get("GRADER_CHROOTS_REBUILD", "") not in ("", "0")
    if stamp.is_file() and not rebuild:
        try:
            made = json.loads(stamp.read_text())
        except ValueError:
            made = {}
        if {k: made.get(k) for k in wanted} == wanted:
            return root, None
    ensure_debootstrap(log)
    start = time.monotonic()
    partial = cache / f"{target.suite}.partial"
    for old in (partial, root):
        if old.exists():
            remove_tree(old)
    python = f"python{target.version}"
    packages = ",".join((python, f"{python}-venv", *PACKAGES))
    say(f"  building the {target.suite} chroot ({python}) from {mirror}: once, then cached in {cache}")
    env = {**os.environ, **apt_proxy()}
    code = run(["debootstrap", "--variant=minbase", f"--include={packages}", target.suite,
                str(partial), mirror], log=log, env=env, timeout=1800)
    if code != 0:
        reason = _debootstrap_reason(log)
        raise Skip(f"debootstrap {target.suite} failed (exit {code}): {reason} (see {log})")
    copy_host_files(partial)
    # The venv, with the project's dependencies and setuptools (to install the project
    # later without fetching the build backend again).
    deps = " ".join(f"'{d}'" for d in project_dependencies())
    code = in_chroot(partial, f"set -e\n{python} -m venv {VENV}\n"
                              f"{VENV}/bin/pip install --quiet --upgrade pip setuptools wheel {deps}\n",
                     log=log, timeout=1800)
    if code != 0:
        raise Failed(f"the venv of the {target.suite} chroot could not be set up with pip "
                     f"(exit {code}):\n{tail(log)}")
    (partial / stamp.relative_to(root)).write_text(json.dumps(
        {**wanted, "built": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
         "seconds": round(time.monotonic() - start, 1)}, indent=1))
    partial.rename(root)
    return root, time.monotonic() - start


def _debootstrap_reason(log: Path) -> str:
    text = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    errors = [line.strip() for line in text.splitlines() if line.startswith(("E:", "W: Failure"))]
    return errors[-1][:200] if errors else "no error line in its output"


def remove_tree(path: Path) -> None:
    """Delete a chroot, refusing if anything is mounted inside it (host /dev through a bind)."""
    inside = str(path.resolve()) + "/"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        busy = [line.split()[1] for line in mounts if line.split()[1].startswith(inside)]
    if busy:
        raise Failed(f"will not delete {path}: still mounted inside it: {', '.join(busy[:3])}")
    shutil.rmtree(path)


def project_dependencies() -> list[str]:
    import tomllib
    with open(ROOT / "pyproject.toml", "rb") as f:
        data = tomllib.load(f)
    return list(data["project"].get("dependencies", []))


# ---------------------------------------------------------------- the checkout

def checkout_files() -> list[str]:
    """The checkout's files as git sees them (tracked or new, not ignored), else all."""
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True, timeout=60).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.SubprocessError):
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*")
                 if p.is_file() and not {".git", ".venv", "__pycache__"} & set(p.parts)]
    return [n for n in names if (ROOT / n).is_file()]


def copy_checkout(dest: Path) -> None:
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in checkout_files():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


# ---------------------------------------------------------------- the checks

def test_counts(junit: Path) -> dict[str, int]:
    if not junit.is_file():
        return {}
    try:
        tree = ET.parse(junit).getroot()
    except ET.ParseError:
        return {}
    suites = [tree] if tree.tag == "testsuite" else tree.findall("testsuite")
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    counts["passed"] = counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"]
    return counts


def grades(class_json: Path) -> list[dict]:
    """[{exercise, points, max_points, status, sandbox}] of the one submission graded."""
    if not class_json.is_file():
        return []
    data = json.loads(class_json.read_text(encoding="utf-8"))
    rows = []
    for submission in data.get("submissions", []):
        for ex in submission.get("exercises", []):
            rows.append({k: ex.get(k) for k in ("exercise", "points", "max_points", "status", "sandbox")})
    return rows


def exercise_count() -> int:
    return sum(1 for p in (ROOT / "exercises").iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def judge(outcome: Outcome, work: Path) -> None:
    """Fill the figures of a run from its outputs in `work`, and its failures."""
    counts = test_counts(work / "engine.xml")
    outcome.figures["tests"] = counts
    if not counts:
        outcome.failures.append("the engine tests left no results (see the log)")
    elif counts["failures"] or counts["errors"] or counts["passed"] == 0:
        outcome.failures.append(f"engine tests: {counts['failures']} failed, {counts['errors']} errors "
                                f"of {counts['tests']}")
    expected = exercise_count()
    refs, stubs = grades(work / "solutions" / "class.json"), grades(work / "stubs" / "class.json")
    full = [r for r in refs if r["status"] == "graded" and r["points"] == r["max_points"]]
    short = [r for r in stubs if r["status"] == "graded" and r["points"] < r["max_points"]]
    outcome.figures.update(
        references=f"{len(full)}/{expected} full",
        reference_points=f"{sum(r['points'] for r in refs):g}/{sum(r['max_points'] for r in refs):g}",
        stubs=f"{len(short)}/{expected} short",
        stub_points=f"{sum(r['points'] for r in stubs):g}/{sum(r['max_points'] for r in stubs):g}",
        sandbox=",".join(sorted({str(r["sandbox"]) for r in refs + stubs})) or "?")
    if len(refs) != expected or len(full) != expected:
        wrong = [f"{r['exercise']} {r['points']:g}/{r['max_points']:g} ({r['status']})"
                 for r in refs if r not in full]
        outcome.failures.append(f"references: {len(full)} of {expected} exercises at full marks"
                                + (f"; not: {', '.join(wrong)}" if wrong else ""))
    if len(stubs) != expected or len(short) != expected:
        wrong = [f"{r['exercise']} {r['points']:g}/{r['max_points']:g} ({r['status']})"
                 for r in stubs if r not in short]
        outcome.failures.append(f"stubs: {len(short)} of {expected} exercises short of full marks"
                                + (f"; not: {', '.join(wrong)}" if wrong else ""))


def steps(python: str, out: str) -> str:
    """The shell script of one version's run, from the checkout's copy (the current folder)."""
    return (f"cd {{src}}\n"
            f"{python} -c 'import sys; print(\"python\", sys.version.split()[0])' > {out}/python.txt\n"
            f"{python} -m pytest -q -p no:cacheprovider -o addopts= --junitxml={out}/engine.xml "
            f"{' '.join(t for t in TESTS if (ROOT / t).exists())} || true\n"
            f"{python} -m grader grade solutions --out {out}/solutions || true\n"
            f"{python} -m grader grade exercises --out {out}/stubs || true\n")


def run_host(target: Target, work: Path, log: Path) -> Outcome:
    if os.environ.get("GRADER_PYTHONS_HOST", "") == "0":
        # CI: `make test` has just run these tests, and graded every reference and stub
        # (tests/test_mutants.py), on this very Python.
        raise Skip("GRADER_PYTHONS_HOST=0: `make test` ran the same checks on this Python")
    outcome = Outcome(target)
    python = ROOT / ".venv" / "bin" / "python"
    if not python.is_file():
        raise Failed("no .venv: run `make venv` first (make test-pythons does)")
    version = subprocess.run([str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True).stdout.strip()
    if version != target.version:
        raise Skip(f"the host's Python is {version}, not {target.version}")
    work.mkdir(parents=True, exist_ok=True)
    script = steps(str(python), str(work)).replace("{src}", str(ROOT))
    run(["/bin/sh", "-c", script], log=log, timeout=3600)
    return outcome


def run_chroot(target: Target, cache: Path, work: Path, log: Path) -> Outcome:
    outcome = Outcome(target)
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / f"{target.suite}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build or run of a chroot at a time
        root, outcome.build_seconds = build_chroot(target, cache, log)
        copy_host_files(root)
        copy_checkout(root / SRC.lstrip("/"))
        out = root / "work" / "out"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        script = (f"set -e\ncd {SRC}\n"
                  f"{VENV}/bin/pip install --quiet --no-build-isolation -e . \n"
                  "set +e\n" + steps(f"{VENV}/bin/python", "/work/out").replace("{src}", SRC))
        code = in_chroot(root, script, log=log)
        if code != 0:
            raise Failed(f"the run in the {target.suite} chroot failed (exit {code}):\n{tail(log)}")
        if work.exists():
            shutil.rmtree(work)
        shutil.copytree(out, work)
    return outcome


def main() -> int:
    cache = Path(os.environ.get("GRADER_CHROOTS") or DEFAULT_CACHE)
    wanted = os.environ.get("GRADER_PYTHONS", "").split()
    targets = [t for t in TARGETS if not wanted or t.version in wanted]
    logs = LOGS
    if logs.exists():
        shutil.rmtree(logs)
    logs.mkdir(parents=True)
    outcomes = []
    for target in targets:
        say(f"== Python {target.version} ({target.where})")
        log = logs / f"{target.version}.log"
        work = logs / target.version
        start = time.monotonic()
        try:
            if target.suite:
                outcome = run_chroot(target, cache, work, log)
            else:
                outcome = run_host(target, work, log)
            python = (work / "python.txt").read_text().split()[-1] if (work / "python.txt").is_file() else "?"
            outcome.python = python
            judge(outcome, work)
            if outcome.failures:
                outcome.status = "failed"
        except Skip as why:
            outcome = Outcome(target, "skipped", str(why))
        except Failed as why:
            outcome = Outcome(target, "failed", str(why))
        outcome.seconds = time.monotonic() - start
        outcomes.append(outcome)
        report(outcome, log)
    say("")
    say(f"{'python':<8} {'where':<22} {'engine tests':<22} {'references':<22} {'stubs':<20} "
        f"{'sandbox':<8} {'build':>6} {'run':>6}  status")
    for o in outcomes:
        t = o.figures.get("tests") or {}
        tests = f"{t.get('passed', 0)} passed, {t.get('failures', 0) + t.get('errors', 0)} failed" if t else "-"
        refs = f"{o.figures['references']} ({o.figures['reference_points']})" if "references" in o.figures else "-"
        stubs = f"{o.figures['stubs']} ({o.figures['stub_points']})" if "stubs" in o.figures else "-"
        build = f"{o.build_seconds:.0f}s" if o.build_seconds is not None else "cached" if o.target.suite else "-"
        status = o.status.upper() + (f": {o.reason.splitlines()[0]}" if o.status == "skipped" else "")
        say(f"{o.python or o.target.version:<8} {o.target.where:<22} {tests:<22} {refs:<22} {stubs:<20} "
            f"{o.figures.get('sandbox', '-'):<8} {build:>6} {o.seconds - (o.build_seconds or 0):>5.0f}s  {status}")
    counts = {s: sum(o.status == s for o in outcomes) for s in ("passed", "failed", "skipped")}
    say(f"logs: {logs}")
    say(f"pythons: {counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


def report(outcome: Outcome, log: Path) -> None:
    if outcome.status == "skipped":
        say(f"  SKIPPED: {outcome.reason}")
    elif outcome.status == "failed":
        for failure in outcome.failures or [outcome.reason]:
            say(f"  FAILED: {failure}")
        say(f"  log: {log}")
    else:
        say(f"  passed: {outcome.figures.get('references')}, {outcome.figures.get('stubs')}, "
            f"engine tests {outcome.figures['tests'].get('passed')} passed")


if __name__ == "__main__":
    sys.exit(main())

"""How many cores a parallel run can really count on, and whether they are free now.

`os.cpu_count()` is the machine's count, not ours: a container limited to 2 CPUs by a
cgroup quota on a 64-core host still reports 64, and `taskset -c 0,1` still reports all.
The usable cores are the CPUs this process may run on (`os.sched_getaffinity`, which
also reflects cpusets), capped by the cgroup CPU bandwidth quota (v2 `cpu.max`, v1
`cpu.cfs_quota_us / cpu.cfs_period_us`) of our cgroup and every ancestor, and by the
GRADER_CORES setting an instructor may use to run several graders side by side.

Policy (applied by grader/timing/): a parallelism test asks for workers, gets
`min(wish, usable)`, and on a machine with a single usable core it cannot tell a parallel
solution from a serial one: those tests pass with the note "not judged", never fail a
student for the machine.
"""
from __future__ import annotations

import math
import os
import select
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

CORES_ENV = "GRADER_CORES"  # an upper bound on usable cores; it can never raise them

# A fractional quota that leaves each worker at least this share of a core still counts
# as a core: 1.95 CPUs of quota give two workers 97% of a core each.
QUOTA_SLACK = 0.1


@dataclass(frozen=True)
class Cores:
    """The cores available to a parallel run, and where each limit came from."""

    usable: int  # whole cores a run may count on at the same time
    affinity: int  # CPUs this process may run on
    quota: float | None = None  # CPU bandwidth limit in cores; None: no limit
    quota_source: str = ""  # the cgroup file that set it
    cap: int | None = None  # GRADER_CORES, when set

    @property
    def can_judge_parallelism(self) -> bool:
        return self.usable >= 2

    def workers_for(self, wish: int) -> int:
        """Workers a test asks the student's code for: its wish, within the usable cores."""
        return max(1, min(wish, self.usable))

    def describe(self) -> str:
        parts = [f"{self.usable} usable core{'s' if self.usable != 1 else ''}",
                 f"affinity {self.affinity} CPU{'s' if self.affinity != 1 else ''}"]
        if self.quota is not None:
            parts.append(f"cgroup quota {self.quota:g} CPUs ({self.quota_source})")
        if self.cap is not None:
            parts.append(f"{CORES_ENV}={self.cap}")
        return ", ".join(parts)

    def to_dict(self) -> dict[str, object]:
        return {"usable": self.usable, "affinity": self.affinity, "quota": self.quota,
                "quota_source": self.quota_source, "cap": self.cap}


def usable_cores(*, affinity: set[int] | None = None, proc: str | os.PathLike[str] = "/proc",
                 environ: Mapping[str, str] | None = None) -> Cores:
    """The usable cores of this process. Every input can be faked for tests."""
    cpus = len(affinity if affinity is not None else os.sched_getaffinity(0))
    quota, source = cgroup_quota(Path(proc))
    env = os.environ if environ is None else environ
    cap = _cap(env.get(CORES_ENV))
    usable = cpus
    if quota is not None:
        usable = min(usable, max(1, math.floor(quota + QUOTA_SLACK)))
    if cap is not None:
        usable = min(usable, cap)
    return Cores(max(1, usable), cpus, quota, source, cap)


def _cap(value: str | None) -> int | None:
    if not value:
        return None
    try:
        cap = int(value)
    except ValueError:
        return None  # a typo must not make the grader fail students; it is reported
    return cap if cap >= 1 else None


# ------------------------------------------------------------------------- cgroups

def cgroup_quota(proc: Path = Path("/proc")) -> tuple[float | None, str]:
    """The tightest CPU quota (in cores) over our cgroup and its ancestors, v1 or v2."""
    try:
        membership = (proc / "self" / "cgroup").read_text()
        mounts = (proc / "self" / "mountinfo").read_text()
    except OSError:
        return None, ""
    best: tuple[float | None, str] = (None, "")
    for directory in _cpu_cgroup_dirs(membership, mounts):
        for limit, source in _quotas_up_from(directory):
            if best[0] is None or limit < best[0]:
                best = (limit, source)
    return best


def _cpu_cgroup_dirs(membership: str, mounts: str) -> list[tuple[Path, Path]]:
    """(mount point, our cgroup's directory under it) for each cgroup holding cpu limits."""
    ours_v1: dict[str, str] = {}
    ours_v2 = None
    for line in membership.splitlines():
        hid, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hid == "0" and controllers == "":
            ours_v2 = path
        for controller in controllers.split(","):
            ours_v1[controller] = path
    found = []
    for line in mounts.splitlines():
        # id parent major:minor root mount-point options [optional...] - fstype source super
        head, _, tail = line.partition(" - ")
        fields, tail_fields = head.split(), tail.split()
        if len(fields) < 5 or len(tail_fields) < 3:
            continue
        root, point, fstype = fields[3], Path(fields[4]), tail_fields[0]
        if fstype == "cgroup2" and ours_v2 is not None:
            found.append((point, _below(point, root, ours_v2)))
        elif fstype == "cgroup" and "cpu" in tail_fields[2].split(",") and "cpu" in ours_v1:
            found.append((point, _below(point, root, ours_v1["cpu"])))
    return found


def _below(point: Path, root: str, path: str) -> Path:
    # Inside a container the mount's root is often our own cgroup: the path we read in
    # /proc/self/cgroup is then relative to it (or not visible at all: use the mount).
    rel = path
    if root != "/" and (path == root or path.startswith(root.rstrip("/") + "/")):
        rel = path[len(root):]
    candidate = point / rel.lstrip("/")
    return candidate if candidate.is_dir() else point


def _quotas_up_from(mount_and_dir: tuple[Path, Path]) -> list[tuple[float, str]]:
    point, directory = mount_and_dir
    limits = []
    current = directory
    while True:
        limit = _quota_in(current)
        if limit is not None:
            limits.append(limit)
        if current == point or point not in current.parents:
            break
        current = current.parent
    return limits


def _quota_in(directory: Path) -> tuple[float, str] | None:
    v2 = directory / "cpu.max"
    if v2.is_file():
        parts = _read(v2).split()
        if len(parts) >= 1 and parts[0] != "max":
            period = float(parts[1]) if len(parts) > 1 else 100_000.0
            if period > 0 and float(parts[0]) > 0:
                return float(parts[0]) / period, str(v2)
        return None
    quota_file, period_file = directory / "cpu.cfs_quota_us", directory / "cpu.cfs_period_us"
    if quota_file.is_file() and period_file.is_file():
        try:
            quota, period = float(_read(quota_file)), float(_read(period_file))
        except ValueError:
            return None
        if quota > 0 and period > 0:
            return quota / period, str(quota_file)
    return None


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""


# --------------------------------------------------------------------- free cores

def probe_free(workers: int, seconds: float = 0.05,
               spin: Callable[[float], float] | None = None) -> list[float]:
    """The share of a core each of `workers` processes spinning at once actually got.

    Close to 1.0 each: the cores were free. A neighbour's busy process on a 2-core
    machine gives two spinners about 0.67 each. Forks plain processes (no
    multiprocessing machinery): cheap, and independent of the student's code.
    """
    spin = spin or _spin
    children = []
    for _ in range(max(1, workers)):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            try:
                os.close(read_end)
                share = spin(seconds)
                os.write(write_end, f"{share:.4f}".encode())
            finally:
                os._exit(0)
        os.close(write_end)
        children.append((pid, read_end))
    shares = []
    for pid, read_end in children:
        chunks = []
        while True:
            ready, _, _ = select.select([read_end], [], [], 10.0)
            chunk = os.read(read_end, 64) if ready else b""
            if not chunk:
                break
            chunks.append(chunk)
        os.close(read_end)
        os.waitpid(pid, 0)
        try:
            shares.append(float(b"".join(chunks)))
        except ValueError:
            shares.append(0.0)
    return shares


def _spin(seconds: float) -> float:
    wall0, cpu0 = time.perf_counter(), time.process_time()
    deadline = wall0 + seconds
    x = 0
    while time.perf_counter() < deadline:
        x += 1
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    return min(1.0, cpu / wall) if wall > 0 else 0.0

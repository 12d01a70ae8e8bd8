"""Usable cores from affinity and cgroup quotas (faked), and the free-cores probe."""
from __future__ import annotations

from pathlib import Path

import pytest

from grader.cores import CORES_ENV, Cores, cgroup_quota, probe_free, usable_cores


def fake_proc(tmp: Path, membership: str, mounts: list[tuple[str, Path, str, str]],
              files: dict[str, str]) -> Path:
    """A /proc/self with `cgroup` and `mountinfo`, and cgroup files under tmp."""
    proc = tmp / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "self" / "cgroup").write_text(membership)
    lines = [f"{30 + i} 23 0:{40 + i} {root} {point} rw,relatime - {fstype} cgroup {opts}"
             for i, (root, point, fstype, opts) in enumerate(mounts)]
    (proc / "self" / "mountinfo").write_text("\n".join(lines) + "\n")
    for relative, text in files.items():
        path = tmp / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return proc


def v2_machine(tmp: Path, job_max: str, parent_max: str = "max 100000") -> Path:
    root = tmp / "cg2"
    return fake_proc(tmp, "0::/grading.slice/job\n",
                     [("/", root, "cgroup2", "rw,nsdelegate")],
                     {"cg2/cpu.max": "max 100000\n",
                      "cg2/grading.slice/cpu.max": parent_max + "\n",
                      "cg2/grading.slice/job/cpu.max": job_max + "\n"})


def no_cgroup(tmp: Path) -> Path:
    return fake_proc(tmp, "0::/\n", [], {})


@pytest.mark.parametrize("cpus", [1, 2, 16])
def test_affinity_alone_sets_the_usable_cores(tmp_path, cpus):
    cores = usable_cores(affinity=set(range(cpus)), proc=no_cgroup(tmp_path), environ={})
    assert cores.usable == cpus and cores.affinity == cpus and cores.quota is None
    assert cores.can_judge_parallelism == (cpus >= 2)


def test_cgroup_v2_quota_caps_a_16_cpu_affinity(tmp_path):
    cores = usable_cores(affinity=set(range(16)), proc=v2_machine(tmp_path, "200000 100000"),
                         environ={})
    assert (cores.usable, cores.affinity, cores.quota) == (2, 16, 2.0)
    assert cores.quota_source.endswith("grading.slice/job/cpu.max")


def test_cgroup_v2_the_tightest_ancestor_wins(tmp_path):
    proc = v2_machine(tmp_path, "max 100000", parent_max="100000 100000")
    assert cgroup_quota(proc)[0] == 1.0
    assert usable_cores(affinity=set(range(16)), proc=proc, environ={}).usable == 1


def test_a_quota_just_under_a_whole_core_still_counts(tmp_path):
    proc = v2_machine(tmp_path, "195000 100000")
    assert usable_cores(affinity=set(range(8)), proc=proc, environ={}).usable == 2


def test_one_and_a_half_cores_cannot_run_two_workers_at_full_speed(tmp_path):
    proc = v2_machine(tmp_path, "150000 100000")
    cores = usable_cores(affinity=set(range(8)), proc=proc, environ={})
    assert cores.usable == 1 and not cores.can_judge_parallelism


def test_cgroup_v1_cfs_quota(tmp_path):
    root = tmp_path / "cpu,cpuacct"
    proc = fake_proc(tmp_path, "5:memory:/docker/abc\n4:cpu,cpuacct:/docker/abc\n",
                     [("/", root, "cgroup", "rw,cpu,cpuacct")],
                     {"cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "400000\n",
                      "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
                      "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                      "cpu,cpuacct/cpu.cfs_period_us": "100000\n"})
    cores = usable_cores(affinity=set(range(16)), proc=proc, environ={})
    assert (cores.usable, cores.quota) == (4, 4.0)


def test_cgroup_v1_inside_a_container_the_mount_is_our_own_group(tmp_path):
    # /proc/self/cgroup names /docker/abc, but the mount's root already is that group.
    root = tmp_path / "cpu"
    proc = fake_proc(tmp_path, "4:cpu:/docker/abc\n",
                     [("/docker/abc", root, "cgroup", "rw,cpu")],
                     {"cpu/cpu.cfs_quota_us": "200000\n", "cpu/cpu.cfs_period_us": "100000\n"})
    assert cgroup_quota(proc)[0] == 2.0


def test_no_quota_unlimited_and_unreadable(tmp_path):
    assert cgroup_quota(v2_machine(tmp_path, "max 100000")) == (None, "")
    assert cgroup_quota(tmp_path / "nowhere") == (None, "")


def test_the_instructor_cap_only_lowers(tmp_path):
    proc = no_cgroup(tmp_path)
    assert usable_cores(affinity=set(range(16)), proc=proc, environ={CORES_ENV: "4"}).usable == 4
    assert usable_cores(affinity={0, 1}, proc=proc, environ={CORES_ENV: "8"}).usable == 2
    assert usable_cores(affinity={0, 1}, proc=proc, environ={CORES_ENV: "two"}).usable == 2


@pytest.mark.parametrize("usable, wish, workers", [(1, 4, 1), (2, 4, 2), (16, 4, 4), (16, 1, 1)])
def test_workers_are_the_wish_within_the_usable_cores(usable, wish, workers):
    assert Cores(usable, usable).workers_for(wish) == workers


def test_describe_names_every_limit():
    text = Cores(2, 16, 2.0, "/sys/fs/cgroup/cpu.max", 3).describe()
    assert "2 usable cores" in text and "16 CPUs" in text and "cpu.max" in text
    assert CORES_ENV in text


def test_this_machine_has_at_least_one_usable_core():
    cores = usable_cores()
    assert 1 <= cores.usable <= cores.affinity


def test_probe_reports_each_process_share():
    # The spinning itself is faked: this checks the forking and the reporting only.
    assert probe_free(3, spin=lambda seconds: 0.75) == [0.75, 0.75, 0.75]

"""The parent-child contract (grader/channel.py): both ends, and the names they share."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from grader import channel
from grader.catalog import Catalog, exercise_from_json, exercise_to_json


def test_a_written_line_is_read_once_and_a_copied_or_forged_one_is_rejected(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    results = tmp_path / "results.jsonl"
    key, results_fd, key_fd = channel.hand_down(results)
    monkeypatch.setenv(channel.CHANNEL, channel.spec(results_fd, key_fd))
    writer = channel.open_writer()
    assert writer is not None and channel.CHANNEL not in os.environ  # no trace left for student code
    reader = channel.Reader(results, key, os.getpid())
    writer.send("start", nodeid="n", timeout=1.5)
    genuine = results.read_bytes()
    with open(results, "ab") as f:
        f.write(genuine)  # the same genuine line again: its sequence number is spent
        f.write(b"00 " + b'{"event": "done", "pid": 1, "seq": 2}\n')  # no valid MAC
    records = reader.read()
    assert [(r["event"], r["seq"], r["timeout"]) for r in records] == [("start", 1, 1.5)]
    assert reader.rejected == 2 and not reader.done
    writer.send("done", exitstatus=0)
    assert [r["event"] for r in reader.read()] == ["done"] and reader.done
    os.close(results_fd)


def test_without_a_channel_the_plugin_reports_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(channel.CHANNEL, raising=False)
    assert channel.open_writer() is None


def test_the_replay_variable_is_the_one_the_engine_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.concurrency import Engine
    monkeypatch.setenv(channel.REPLAY_SEED, "7")
    assert Engine("test_x").seeds(200) == [7]


def test_the_exercise_survives_its_json_codec(fixture_catalog: Catalog) -> None:
    for exercise in fixture_catalog.exercises:
        assert exercise_from_json(exercise_to_json(exercise)) == exercise

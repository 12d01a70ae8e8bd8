"""Similar submissions, per exercise: pairs of students whose files share much code.

The comparison is copydetect's (winnowed fingerprints of the token stream, so renamed
variables and moved blank lines do not hide a copy), installed with the `similarity`
extra. The exercise's stub is given to copydetect as boilerplate: the lines every student
starts from are discounted, so two students who changed little are not a pair. A pair is
reported when either file has at least THRESHOLD of its (non-stub) code in common with
the other, with the shared fragments, for a person to judge: a similarity is a reason to
look, never a verdict.

The report is kept as `similarity.json` in the reports folder, per exercise, and shown on
the class page; a run on some exercises replaces theirs and keeps the others.

copydetect hashes its k-grams with Python's `hash()`, which is salted per process: the
same two files got other fingerprints, other fragments and other scores from one run to
the next. Its k-grams are hashed here with a keyless BLAKE2b instead (`stable_kgram_hashes`,
put in copydetect's place while comparing): the same files, the same report, always.
"""
from __future__ import annotations

import io
import json
import logging
from dataclasses import asdict, dataclass
from itertools import combinations
from pathlib import Path
from typing import Any, Sequence

from grader.catalog import Exercise

log = logging.getLogger(__name__)

FILENAME = "similarity.json"
THRESHOLD = 0.8  # of a file's fingerprinted code shared with the other file; two correct
# solutions of a small exercise share ~60-70% (the same few lines fix the same bug)
NOISE_TOKENS = 20  # k: a match shorter than this many tokens is ignored
GUARANTEE_TOKENS = 24  # a match this long is always found (winnowing window = 5)
MAX_FRAGMENTS = 4  # shown per pair
MAX_FRAGMENT_LINES = 15
MAX_BYTES = 200_000  # a file bigger than this is not compared (not how students write)
METHOD = "copydetect winnowing, k-grams hashed with blake2b-64"  # a report made otherwise is made again


@dataclass(frozen=True)
class Fragment:
    a_lines: tuple[int, int]  # first and last line in A's file
    b_lines: tuple[int, int]
    text: str  # A's lines (B's are the same code, maybe renamed)


@dataclass(frozen=True)
class Pair:
    exercise: str
    file: str
    a: str
    b: str
    a_shared: float  # fraction of A's code found in B
    b_shared: float
    fragments: tuple[Fragment, ...]

    @property
    def score(self) -> float:
        return max(self.a_shared, self.b_shared)


def available() -> bool:
    # Looked up, not imported: copydetect pulls in numpy and matplotlib (half a second),
    # paid only when there is something to compare.
    from importlib.util import find_spec
    return find_spec("copydetect") is not None


def stable_kgram_hashes(string: str, k: int) -> Any:
    """What copydetect.utils.hashed_kgrams computes (a hash of every K-gram of STRING, as a
    numpy array), with a hash that is the same in every process."""
    import numpy as np
    from hashlib import blake2b
    data = [string[i:i + k].encode("utf-8", "surrogatepass") for i in range(len(string) - k + 1)]
    return np.array([int.from_bytes(blake2b(d, digest_size=8).digest(), "little", signed=True) for d in data],
                    dtype=np.int64)


def compare(submissions: Sequence[Any], exercise: Exercise,
            threshold: float = THRESHOLD) -> list[Pair]:
    """The pairs of SUBMISSIONS above THRESHOLD on EXERCISE's files, most similar first."""
    import copydetect.utils
    import numpy as np
    from copydetect import CodeFingerprint
    # Its fingerprints are made by this function, looked up in its module at each call.
    copydetect.utils.hashed_kgrams = stable_kgram_hashes
    win = GUARANTEE_TOKENS - NOISE_TOKENS + 1
    pairs = []
    for name in exercise.files:
        stub = exercise.path / name
        # copydetect wants the stub's fingerprints as an array (it searches it sorted).
        boilerplate = (np.array(sorted(CodeFingerprint(str(stub), NOISE_TOKENS, win).hashes))
                       if stub.is_file() else np.array([]))
        prints = {}
        for submission in submissions:
            path = submission.files.get(name)
            if path is None or not Path(path).is_file() or Path(path).stat().st_size > MAX_BYTES:
                continue
            text = Path(path).read_text(encoding="utf-8", errors="replace")
            try:
                prints[submission.student] = CodeFingerprint(
                    name, NOISE_TOKENS, win, boilerplate=boilerplate, fp=io.StringIO(text))
            except Exception as exc:  # a file the tokenizer chokes on is left out, said once
                log.warning("similarity: %s's %s left out: %s", submission.student, name, exc)
        for a, b in combinations(sorted(prints), 2):
            pair = _pair(exercise.id, name, a, b, prints[a], prints[b])
            if pair is not None and pair.score >= threshold:
                pairs.append(pair)
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))


def _pair(exercise: str, name: str, a: str, b: str, fa: Any, fb: Any) -> Pair | None:
    from copydetect import compare_files
    if not fa.hashes or not fb.hashes:
        return None  # nothing but the stub: nothing of their own to share
    overlap, (sa, sb), (slices_a, slices_b) = compare_files(fa, fb)
    if overlap == 0:
        return None
    fragments = []
    for n in range(min(MAX_FRAGMENTS, slices_a.shape[1], slices_b.shape[1])):
        a_start, a_end = int(slices_a[0, n]), int(slices_a[1, n])
        b_start, b_end = int(slices_b[0, n]), int(slices_b[1, n])
        first, last = _lines(fa.raw_code, a_start, a_end)
        lines = fa.raw_code.splitlines()[first - 1:last]
        if len(lines) > MAX_FRAGMENT_LINES:
            lines = lines[:MAX_FRAGMENT_LINES] + ["..."]
        fragments.append(Fragment((first, last), _lines(fb.raw_code, b_start, b_end),
                                  "\n".join(lines)))
    return Pair(exercise, name, a, b, round(float(sa), 3), round(float(sb), 3), tuple(fragments))


def _lines(text: str, start: int, end: int) -> tuple[int, int]:
    return text.count("\n", 0, start) + 1, text.count("\n", 0, max(start, end - 1)) + 1


# ---------------------------------------------------------------- the stored report

def write(out: Path, exercises: Sequence[Exercise], pairs: Sequence[Pair],
          threshold: float = THRESHOLD) -> Path:
    """Store the pairs of EXERCISES, keeping other exercises' from an earlier run."""
    path = out / FILENAME
    kept = read(out)
    done = {e.id for e in exercises}
    document = {
        "threshold": threshold, "tool": "copydetect", "noise_tokens": NOISE_TOKENS,
        "guarantee_tokens": GUARANTEE_TOKENS,
        "compared": sorted(done | set(kept.get("compared", []))),
        "pairs": [p for p in kept.get("pairs", []) if p["exercise"] not in done]
                 + [asdict(p) for p in pairs],
    }
    path.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    return path


def read(out: Path) -> dict[str, Any]:
    try:
        data = json.loads((out / FILENAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def pairs_of(data: dict[str, Any]) -> list[Pair]:
    pairs = []
    for p in data.get("pairs", []):
        fragments = tuple(Fragment(tuple(f["a_lines"]), tuple(f["b_lines"]), f["text"])
                          for f in p.get("fragments", []))
        pairs.append(Pair(p["exercise"], p["file"], p["a"], p["b"], p["a_shared"],
                          p["b_shared"], fragments))
    return pairs

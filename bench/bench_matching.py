"""Knowledge-base load time and per-question latency, on the real base and on 10x and 100x ones.

Side by side in one run with the plainest alternative: rapidfuzz `process.extractOne` of the
question over every entry's text. Run: `.venv/bin/python bench/bench_matching.py`.
The synthetic bases clone every concept and entry with fresh random words as terms, so the
vocabulary, the entries and the fuzzy search space all grow by the factor.
"""

from __future__ import annotations

import argparse
import random
import statistics
import string
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process

from bot.evaluation import load_questions
from bot.knowledge.loader import load_knowledge
from bot.matching import Engine

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
QUESTION_SETS = [ROOT / "tests" / "fixtures" / "shared" / "eval" / "questions-dev.yaml",
                 KNOWLEDGE / "eval" / "questions.yaml"]
ENTRY_SECTIONS = ("courses", "roles", "guidance", "cadence_groups")


def synthetic_knowledge(factor: int, target: Path, seed: int = 7) -> Path:
    """Write a knowledge base `factor` times the real one into `target`."""
    rng = random.Random(seed)
    files = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in
             KNOWLEDGE.glob("*.yaml") if p.name != "questions.yaml"}
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        data = data or {}
        concepts = list(data.get("concepts", []))
        entries = {s: list(data[s]) for s in ENTRY_SECTIONS if s in data}
        for copy in range(1, factor):
            data["concepts"] = data.get("concepts", []) + [
                {**c, "id": f"{c['id']}-x{copy}", "terms": [_word(rng) for _ in c["terms"]]}
                for c in concepts
            ]
            for section, originals in entries.items():
                data[section] += [_clone(e, copy, rng) for e in originals]
        (target / name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _clone(entry: dict[str, Any], copy: int, rng: random.Random) -> dict[str, Any]:
    clone = {**entry, "id": f"{entry['id']}-x{copy}"}
    clone["match"] = [[f"{c}-x{copy}" for c in key] for key in entry.get("match", [])]
    clone["answers"] = [f"{c}-x{copy}" for c in entry.get("answers", [])]
    clone["related"] = []
    if "aliases" in entry:
        clone["aliases"] = [f"{_word(rng)} {_word(rng)}" for _ in entry["aliases"]]
    return clone


def _word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 11)))


def timed(call: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return times


def latencies(answer: Callable[[str], object], questions: Sequence[str], passes: int) -> list[float]:
    result = []
    for _ in range(passes):
        for question in questions:
            start = time.perf_counter()
            answer(question)
            result.append(time.perf_counter() - start)
    return result


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--factors", type=int, nargs="*", default=[1, 10, 100])
    args = parser.parse_args()
    questions = [q.q for path in QUESTION_SETS if path.exists() for q in load_questions(path)]
    print(f"{len(questions)} questions x {args.passes} passes per base\n")
    print("| base | entries | concepts | load (median) | engine median | engine p99 "
          "| extractOne median | extractOne p99 |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for factor in args.factors:
            directory = KNOWLEDGE if factor == 1 else synthetic_knowledge(
                factor, Path(scratch) / f"x{factor}")
            load = statistics.median(timed(lambda d=directory: load_knowledge(d), 3))
            knowledge = load_knowledge(directory)
            engine = Engine(knowledge)

            def cold_answer(question: str, engine: Engine = engine) -> object:
                return engine.answer(question)

            texts = [f"{e.text.sv} {e.text.en}" for e in knowledge.entries.values()]

            def baseline(question: str, texts: list[str] = texts) -> object:
                return process.extractOne(question, texts, scorer=fuzz.WRatio)

            engine.answer("värm upp")
            ours = latencies(cold_answer, questions, args.passes)
            plain = latencies(baseline, questions, args.passes)
            print(f"| {factor}x | {len(knowledge.entries)} | {len(knowledge.concepts)} "
                  f"| {load * 1000:.0f} ms | {statistics.median(ours) * 1000:.2f} ms "
                  f"| {p99(ours) * 1000:.2f} ms | {statistics.median(plain) * 1000:.2f} ms "
                  f"| {p99(plain) * 1000:.2f} ms |")


if __name__ == "__main__":
    main()

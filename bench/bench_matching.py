"""Knowledge-base load time and per-question latency, on the real base and on larger ones.

Side by side in one run with two plain alternatives: BM25 alone (bm25s, top entry over every
entry's words, the retrieval the engine uses as one signal) and rapidfuzz `process.extractOne`
of the question over every entry's text. Run: `.venv/bin/python bench/bench_matching.py`.

Bases:
- `Nx` (synthetic): every concept and entry cloned with fresh random words as terms, so the
  vocabulary, the entries and the fuzzy search space grow by N but no question matches a clone.
- `national` (realistic): every region of Sweden (the 21 of knowledge/regions.yaml) has its own
  version of every regional entry, written with the same real words (its region's name in the
  text), its own source and scope, so each question finds 21 times the candidates;
  `national×K` adds K variants of each (more courses and guidance per region).
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

from bot.answering.engine import Engine
from bot.answering.retrieval import Retriever
from bot.evaluation import load_questions
from bot.knowledge.loader import load_knowledge
from bot.language import FUNCTION_WORDS
from bot.text import normalize

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
QUESTION_SETS = [ROOT / "tests" / "fixtures" / "shared" / "eval" / "questions-dev.yaml",
                 ROOT / "tests" / "fixtures" / "shared" / "eval" / "questions-dev2.yaml",
                 KNOWLEDGE / "eval" / "questions.yaml",
                 KNOWLEDGE / "eval" / "questions-blind1.yaml"]
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


def national_knowledge(variants: int, target: Path) -> Path:
    """Write a national-scale base into `target`: 21 regions x `variants` copies of every
    regional entry, with the real vocabulary."""
    files = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in
             KNOWLEDGE.glob("*.yaml")}
    regions = [c for c in files["regions.yaml"]["concepts"]]
    target.mkdir(parents=True, exist_ok=True)
    sources = files["sources.yaml"]
    for region in regions:
        rid = region["id"].removeprefix("region_")
        if region.get("region") in ("stockholm", "orebro", "skane"):
            continue
        name = region.get("name") or {"sv": rid, "en": rid}
        region["region"] = rid
        sources["scopes"].append({"id": rid, "name": name, "lead": name})
        for original in list(sources["sources"]):
            if original["scope"] in ("stockholm", "orebro", "skane"):
                sources["sources"].append({**original, "id": f"{original['id']}-{rid}",
                                           "scope": rid})
    for file_name, data in files.items():
        data = data or {}
        for section in ENTRY_SECTIONS:
            originals = [e for e in data.get(section, []) if e["scope"] != "national"]
            if not originals:
                continue
            for region in regions:
                rid = region["id"].removeprefix("region_")
                if region["region"] in ("stockholm", "orebro", "skane"):
                    continue
                for variant in range(variants):
                    data[section] += [
                        _regional(e, rid, region["name"], variant) for e in originals
                    ]
        (target / file_name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _regional(entry: dict[str, Any], rid: str, name: dict[str, str], variant: int) -> dict[str, Any]:
    clone = {**entry, "id": f"{entry['id']}-{rid}-{variant}", "scope": rid,
             "source": f"{entry['source']}-{rid}", "related": []}
    clone.pop("aliases", None)
    clone.pop("supervision", None)
    for field in ("text", "title", "name"):
        if field in entry:
            clone[field] = {lang: f"{name[lang]}: {text}" for lang, text in entry[field].items()}
    return clone


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
    parser.add_argument("--bases", nargs="*", default=["1x", "10x", "national", "nationalx5"],
                        help="1x, Nx (synthetic), national, nationalxK")
    args = parser.parse_args()
    questions = [q.q for path in QUESTION_SETS if path.exists() for q in load_questions(path)]
    print(f"{len(questions)} questions x {args.passes} passes per base\n")
    print("| base | entries | concepts | load + engine build | engine median | engine p99 "
          "| BM25 median | BM25 p99 | extractOne median | extractOne p99 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for label in args.bases:
            if label == "1x":
                directory = KNOWLEDGE
            elif label.startswith("national"):
                variants = int(label.partition("x")[2] or 1)
                directory = national_knowledge(variants, Path(scratch) / label)
            else:
                factor = int(label.rstrip("x"))
                directory = synthetic_knowledge(factor, Path(scratch) / label)
            load = statistics.median(timed(lambda d=directory: load_knowledge(d), 3))
            knowledge = load_knowledge(directory)
            build = statistics.median(timed(lambda k=knowledge: Engine(k), 1))
            engine = Engine(knowledge)

            def cold_answer(question: str, engine: Engine = engine) -> object:
                return engine.answer(question)

            texts = [f"{e.text.sv} {e.text.en}" for e in knowledge.entries.values()]

            def baseline(question: str, texts: list[str] = texts) -> object:
                return process.extractOne(question, texts, scorer=fuzz.WRatio)

            retriever = Retriever(knowledge.answerables(), ignore=FUNCTION_WORDS)

            def bm25(question: str, retriever: Retriever = retriever) -> object:
                return retriever.search(normalize(question), top=1)

            engine.answer("värm upp")
            ours = latencies(cold_answer, questions, args.passes)
            plain_bm25 = latencies(bm25, questions, args.passes)
            plain = latencies(baseline, questions, max(1, args.passes // 5))
            print(f"| {label} | {len(knowledge.entries)} | {len(knowledge.concepts)} "
                  f"| {load * 1000:.0f} ms + {build * 1000:.0f} ms "
                  f"| {statistics.median(ours) * 1000:.2f} ms | {p99(ours) * 1000:.2f} ms "
                  f"| {statistics.median(plain_bm25) * 1000:.2f} ms "
                  f"| {p99(plain_bm25) * 1000:.2f} ms "
                  f"| {statistics.median(plain) * 1000:.2f} ms "
                  f"| {p99(plain) * 1000:.2f} ms |", flush=True)


if __name__ == "__main__":
    main()

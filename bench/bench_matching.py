"""Per-question latency as the knowledge base grows to national scale, beside two plain baselines.

Bases: the generated national base (`bench/national.py`) at 1×, 10× and 100× the real one's
entries: each of Sweden's 21 regions with its own versions of today's entries and added courses
and guidance, in real Swedish words, so questions find more candidates as it grows.

Questions: every question of the shared sets (`tests/fixtures/shared/eval/`) and the project's
(`knowledge/eval/questions*.yaml`), each asked `--regions` times with a region's name added
("... i Region Dalarna?", "... in Region Dalarna?"), the regions taken in turn: about 4,800.

Per base, in one run: loading the YAML and building the engine; the engine's median and p99 per
question; BM25 alone (bm25s through the engine's `Retriever`, the top entry) and rapidfuzz
`process.extractOne` (WRatio over every entry's text, on every `--fuzzy-every`th question: it
is slow, one pass); and how many candidates the engine weighs per question (entries whose match key the
question completes, and the candidates it builds of them after pruning other regions' entries:
median, p99, max). A question's time is the CPU time of the answering
thread, the fastest of `--passes` passes: the machine's cores are shared, and wall-clock
percentiles would mostly measure the neighbours. Run: `.venv/bin/python bench/bench_matching.py`.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.national import national_knowledge  # noqa: E402
from bot.answering.engine import Candidate, Engine  # noqa: E402
from bot.answering.reading import Reading  # noqa: E402
from bot.answering.retrieval import Retriever  # noqa: E402
from bot.evaluation import load_questions  # noqa: E402
from bot.knowledge.loader import load_knowledge  # noqa: E402
from bot.language import FUNCTION_WORDS  # noqa: E402
from bot.text import normalize  # noqa: E402

KNOWLEDGE = ROOT / "knowledge"
QUESTION_SETS = [
    ROOT / "tests" / "fixtures" / "shared" / "eval" / "questions-dev.yaml",
    ROOT / "tests" / "fixtures" / "shared" / "eval" / "questions-dev2.yaml",
    *sorted((KNOWLEDGE / "eval").glob("questions*.yaml")),
]


def questions_with_regions(per_question: int) -> list[str]:
    """Every question of the sets, asked `per_question` times, each time naming the next of the
    21 regions (Swedish "i <region>", English "in <region>")."""
    regions = _region_names()
    asked = []
    turn = 0
    for path in QUESTION_SETS:
        for question in load_questions(path):
            text = question.q.strip().rstrip("?").rstrip()
            word = "in" if question.lang == "en" else "i"
            for _ in range(per_question):
                asked.append(f"{text} {word} {regions[turn % len(regions)]}?")
                turn += 1
    return asked


def _region_names() -> list[str]:
    knowledge = load_knowledge(KNOWLEDGE)
    names = []
    for concept in knowledge.concepts.values():
        if concept.id.startswith("region_"):
            scope = knowledge.scopes.get(str(concept.region))
            name = concept.name or (scope.name if scope else None)
            names.append(name.sv if name else concept.id.removeprefix("region_").title())
    return names


def latencies(
    answer: Callable[[str], object], questions: Sequence[str], passes: int
) -> list[float]:
    """Each question's time: the CPU time of this thread (`time.thread_time`, so that other
    processes on the shared cores are not counted), the fastest of `passes` passes."""
    best = [float("inf")] * len(questions)
    for _ in range(passes):
        for i, question in enumerate(questions):
            start = time.thread_time()
            answer(question)
            best[i] = min(best[i], time.thread_time() - start)
    return best


def p99(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=100)[98]


def ms(values: Sequence[float]) -> str:
    return f"{statistics.median(values) * 1000:.2f} / {p99(values) * 1000:.2f}"


def candidates_per_question(
    engine: Engine, questions: Sequence[str]
) -> tuple[list[int], list[int]]:
    """For each question: the entries whose match key it completes (every region's), and the
    candidates the engine builds of them (another region's entries pruned to one per group of
    equal keys when the asked region has its own), by wrapping the engine's candidate step."""
    matching: list[int] = []
    built: list[int] = []
    step = engine._candidates

    def counting(reading: Reading, regions: set[str], *, prune: bool = False) -> list[Candidate]:
        found = step(reading, regions, prune=prune)
        if prune:  # the step of the rules; unpruned calls are its rare second looks
            built.append(len(found))
            matching.append(len(step(reading, regions)))
        return found

    engine._candidates = counting  # type: ignore[method-assign]
    totals: tuple[list[int], list[int]] = ([], [])
    for question in questions:
        matching.clear()
        built.clear()
        engine.answer(question)
        totals[0].append(sum(matching))
        totals[1].append(sum(built))
    engine._candidates = step  # type: ignore[method-assign]
    return totals


def counts(values: list[int]) -> str:
    return f"{statistics.median(values):g} / {p99(values):g} / {max(values)}"


def bench_base(
    label: str, directory: Path, questions: Sequence[str], fuzzy_every: int, passes: int
) -> str:
    start = time.perf_counter()
    knowledge = load_knowledge(directory)
    loaded = time.perf_counter()
    engine = Engine(knowledge)
    built = time.perf_counter()
    retriever = Retriever(knowledge.answerables(), ignore=FUNCTION_WORDS)
    texts = [f"{e.text.sv} {e.text.en}" for e in knowledge.entries.values()]
    gc.collect()
    engine.answer("värm upp")
    ours = latencies(engine.answer, questions, passes)
    bm25 = latencies(lambda q: retriever.search(normalize(q), top=1), questions, passes)
    plain = latencies(lambda q: process.extractOne(q, texts, scorer=fuzz.WRatio),
                      questions[::fuzzy_every], 1)
    matching, weighed = (sorted(c) for c in candidates_per_question(engine, questions))
    return (
        f"| {label} | {len(knowledge.entries):,} | {len(knowledge.concepts)} "
        f"| {(loaded - start) * 1000:,.0f} + {(built - loaded) * 1000:,.0f} ms "
        f"| {ms(ours)} | {ms(bm25)} | {ms(plain)} "
        f"| {counts(matching)} | {counts(weighed)} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1, 10, 100],
                        help="multiples of the real base (default 1 10 100)")
    parser.add_argument("--regions", type=int, default=3,
                        help="times each question is asked, each naming another region")
    parser.add_argument("--passes", type=int, default=3,
                        help="passes over the questions; each question's fastest counts")
    parser.add_argument("--fuzzy-every", type=int, default=10,
                        help="extractOne on every Nth question only")
    args = parser.parse_args()
    questions = questions_with_regions(args.regions)
    print(f"{len(questions):,} questions (extractOne: {len(questions[::args.fuzzy_every]):,})\n")
    print("| base | entries | concepts | load + engine build | engine median / p99 ms "
          "| BM25 median / p99 ms | extractOne median / p99 ms "
          "| matching entries per question median / p99 / max "
          "| candidates built median / p99 / max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as scratch:
        for size in args.sizes:
            directory = national_knowledge(size, Path(scratch) / f"x{size}")
            row = bench_base(f"{size}×", directory, questions, args.fuzzy_every, args.passes)
            print(row, flush=True)


if __name__ == "__main__":
    main()

"""Checks that span files: duplicate ids and aliases, and references to ids that do not exist."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.schema import KnowledgeFile, Provenance
from bot.text import normalize

ENTRY_SECTIONS = ("courses", "roles", "guidance", "cadence_groups", "clarifications")


@dataclass(frozen=True, slots=True)
class Ref:
    file_index: int
    loc: tuple[str | int, ...]
    message: str


def check_references(kb: KnowledgeBase, files: Sequence[KnowledgeFile]) -> Iterator[Ref]:
    yield from _duplicates(files)
    for index, file in enumerate(files):
        yield from _file_references(kb, index, file)


def _duplicates(files: Sequence[KnowledgeFile]) -> Iterator[Ref]:
    namespaces = {
        "entry": ENTRY_SECTIONS,
        "concept": ("concepts",),
        "source": ("sources",),
        "scope": ("scopes",),
        "topic": ("topics",),
    }
    for kind, sections in namespaces.items():
        seen: set[str] = set()
        for index, file in enumerate(files):
            for section in sections:
                for position, item in enumerate(getattr(file, section)):
                    if item.id in seen:
                        yield Ref(
                            index,
                            (section, position, "id"),
                            f"duplicate {kind} id '{item.id}': ids must be unique; rename one",
                        )
                    seen.add(item.id)
    owners: dict[str, str] = {}
    for index, file in enumerate(files):
        for section in ("roles", "courses"):
            for position, item in enumerate(getattr(file, section)):
                for alias_index, alias in enumerate(item.aliases):
                    key = " ".join(normalize(alias))
                    owner = owners.setdefault(key, item.id)
                    if owner != item.id:
                        yield Ref(
                            index,
                            (section, position, "aliases", alias_index),
                            f"alias '{alias}' of '{item.id}' is already an alias of "
                            f"'{owner}': an alias may name only one entry",
                        )


def _file_references(kb: KnowledgeBase, index: int, file: KnowledgeFile) -> Iterator[Ref]:
    def missing(loc: tuple[str | int, ...], kind: str, value: str, table: object) -> Iterator[Ref]:
        if value not in table:  # type: ignore[operator]
            yield Ref(index, loc, f"{kind} '{value}' does not exist: define it or fix the id")

    for position, source in enumerate(file.sources):
        if kb.scopes:
            yield from missing(("sources", position, "scope"), "scope", source.scope, kb.scopes)
    for section in (*ENTRY_SECTIONS[:-1], "topics", "contacts"):
        for position, item in enumerate(getattr(file, section)):
            if isinstance(item, Provenance):
                yield from missing((section, position, "source"), "source", item.source, kb.sources)
                if kb.scopes:
                    yield from missing((section, position, "scope"), "scope", item.scope, kb.scopes)
    for position, concept in enumerate(file.concepts):
        if concept.region not in (None, "uncovered") and kb.scopes:
            yield from missing(
                ("concepts", position, "region"), "scope", str(concept.region), kb.scopes
            )
        if concept.region == "uncovered" and concept.name is None:
            yield Ref(
                index,
                ("concepts", position, "name"),
                "an uncovered region needs `name:` (sv and en), the name replies use",
            )
        facet = kb.concepts.get(concept.post) if concept.post is not None else None
        if concept.post is not None and (facet is None or facet.detail is None):
            yield Ref(
                index,
                ("concepts", position, "post"),
                f"`post: {concept.post}` must name a facet (a concept with `detail:`)",
            )
        if concept.stated_by is not None:
            try:
                re.compile(concept.stated_by)
            except re.error as error:
                yield Ref(
                    index,
                    ("concepts", position, "stated_by"),
                    f"`stated_by` is not a valid regular expression ({error}): fix it",
                )
    for section in ENTRY_SECTIONS:
        for position, item in enumerate(getattr(file, section)):
            for key_index, key in enumerate(item.match):
                for concept in key:
                    yield from missing(
                        (section, position, "match", key_index), "concept", concept, kb.concepts
                    )
            for field in ("answers", "unless"):
                for concept in getattr(item, field, ()):
                    yield from missing((section, position, field), "concept", concept, kb.concepts)
            for related in getattr(item, "related", ()):
                yield from missing((section, position, "related"), "entry", related, kb.entries)
    for position, role in enumerate(file.roles):
        for course in role.courses:
            yield from missing(("roles", position, "courses"), "course", course, kb.courses)
    for position, entry in enumerate(file.courses):
        for other in entry.prerequisites:
            yield from missing(("courses", position, "prerequisites"), "course", other, kb.courses)
    for position, clarification in enumerate(file.clarifications):
        for option in clarification.options:
            yield from missing(("clarifications", position, "options"), "entry", option, kb.entries)

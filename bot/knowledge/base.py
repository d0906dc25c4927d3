"""The loaded knowledge base: every file's sections merged, indexed by id."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any, TypeVar

from bot.knowledge.schema import (
    CadenceGroup,
    Clarification,
    Concept,
    Contact,
    Course,
    Guidance,
    KnowledgeFile,
    Role,
    ScopeDef,
    Source,
    Topic,
)

T = TypeVar("T", ScopeDef, Source, Concept, Course, Role, Guidance, CadenceGroup, Clarification)

Entry = Course | Role | Guidance | CadenceGroup


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    version: str
    scopes: Mapping[str, ScopeDef]
    sources: Mapping[str, Source]
    concepts: Mapping[str, Concept]
    courses: Mapping[str, Course]
    roles: Mapping[str, Role]
    guidance: Mapping[str, Guidance]
    cadence_groups: Mapping[str, CadenceGroup]
    clarifications: Mapping[str, Clarification]
    topics: tuple[Topic, ...]
    contacts: tuple[Contact, ...]
    filler: tuple[str, ...]
    greetings: tuple[str, ...]
    thanks: tuple[str, ...]
    help: tuple[str, ...]
    # Everything that can be the answer to a question, by id.
    entries: Mapping[str, Entry]

    @classmethod
    def build(cls, files: Sequence[KnowledgeFile], *, version: str) -> KnowledgeBase:
        def merged(section: str) -> tuple[str, ...]:
            return tuple(item for f in files for item in getattr(f, section))

        courses: Mapping[str, Course] = _index(c for f in files for c in f.courses)
        roles: Mapping[str, Role] = _index(r for f in files for r in f.roles)
        guidance: Mapping[str, Guidance] = _index(g for f in files for g in f.guidance)
        groups: Mapping[str, CadenceGroup] = _index(g for f in files for g in f.cadence_groups)
        entries: dict[str, Entry] = {}
        for table in (groups, guidance, courses, roles):
            entries.update(table)
        return cls(
            version=version,
            entries=MappingProxyType(entries),
            scopes=_index(s for f in files for s in f.scopes),
            sources=_index(s for f in files for s in f.sources),
            concepts=_index(c for f in files for c in f.concepts),
            courses=courses,
            roles=roles,
            guidance=guidance,
            cadence_groups=groups,
            clarifications=_index(c for f in files for c in f.clarifications),
            topics=tuple(t for f in files for t in f.topics),
            contacts=tuple(c for f in files for c in f.contacts),
            filler=merged("filler"),
            greetings=merged("greetings"),
            thanks=merged("thanks"),
            help=merged("help"),
        )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickles (the engine cache, a build in another process): read-only views go as dicts."""
        values = (getattr(self, f.name) for f in fields(self))
        return _restore, tuple(dict(v) if isinstance(v, MappingProxyType) else v for v in values)

    def contacts_for(self, scope: str | None, topics: set[str]) -> list[Contact]:
        """The contacts that fit a question best, in knowledge-base order; never empty if any exist.

        `scope` is the region the question is about (a scope id, or None if it names none);
        `topics` are the concept ids found in it. In order of preference: the contacts whose
        `topics` share the most concepts with the question, among those of that scope (or of any
        scope when none is given); else the region's general contact (no `topics`), or any of the
        region's contacts; else the general contacts. Data: `knowledge/contacts.yaml`.
        """

        def fits(contact: Contact) -> bool:
            return scope is None or not contact.scopes or scope in contact.scopes

        shared = {c.id: len(topics & set(c.topics)) for c in self.contacts}
        topical = [c for c in self.contacts if shared[c.id] and fits(c)]
        if topical:
            best = max(shared[c.id] for c in topical)
            return [c for c in topical if shared[c.id] == best]
        general = [c for c in self.contacts if not c.topics]
        if scope is not None:
            regional = [c for c in self.contacts if scope in c.scopes]
            if regional:
                return [c for c in regional if not c.topics] or regional
        return general or list(self.contacts)

    def courses_of(self, entry: Entry) -> list[Course]:
        """The courses an entry is about: a course itself, a role's recommended courses."""
        if isinstance(entry, Course):
            return [entry]
        if isinstance(entry, Role):
            return [self.courses[c] for c in entry.courses if c in self.courses]
        return []

    def answerables(self) -> Sequence[Entry]:
        return [
            *self.courses.values(),
            *self.roles.values(),
            *self.guidance.values(),
            *self.cadence_groups.values(),
        ]


def _restore(*values: Any) -> KnowledgeBase:
    restored: list[Any] = [MappingProxyType(v) if isinstance(v, dict) else v for v in values]
    return KnowledgeBase(*restored)


def _index(items: object) -> Mapping[str, T]:
    table: dict[str, T] = {}
    for item in items:  # type: ignore[attr-defined]
        table.setdefault(item.id, item)
    return MappingProxyType(table)

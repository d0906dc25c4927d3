"""Loads `knowledge/*.yaml` into a `KnowledgeBase`, or explains, with file and line, why not.

Every problem is collected (not just the first), so a coordinator fixes a broken edit in one go.
Only `yaml.SafeLoader` is used: a knowledge file can never construct Python objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml
from pydantic import ValidationError

from bot.knowledge.base import KnowledgeBase
from bot.knowledge.schema import KnowledgeFile
from bot.knowledge.validation import check_references

# libyaml's loader is ten times faster; both are the safe loaders, never constructing objects.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _SafeLoader(_Base):  # type: ignore[valid-type,misc]
    """Leaves dates as text, so that the schema checks them and an impossible date such as
    2026-13-45 is reported with its line like any other wrong value."""

    yaml_implicit_resolvers: ClassVar[dict[Any, list[tuple[str, Any]]]] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in _Base.yaml_implicit_resolvers.items()
    }


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base cannot be loaded; `problems` says where and what to fix."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems

    def __reduce__(self) -> tuple[type[KnowledgeError], tuple[list[Problem]]]:
        """Crosses from a build's child process with its problems, not only their text."""
        return KnowledgeError, (self.problems,)


@dataclass(frozen=True, slots=True)
class LoadedFile:
    path: Path
    node: yaml.Node
    model: KnowledgeFile

    def line_of(self, loc: Iterable[str | int]) -> int | None:
        return _line_of(self.node, loc)


def load_knowledge(directory: Path) -> KnowledgeBase:
    """Load and check every `*.yaml` in `directory`; raise `KnowledgeError` listing all problems."""
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise KnowledgeError([Problem(str(directory), None, "no *.yaml files here")])
    problems: list[Problem] = []
    loaded = [f for f in (_load_file(p, problems) for p in paths) if f is not None]
    if problems:
        raise KnowledgeError(problems)
    knowledge = KnowledgeBase.build([f.model for f in loaded], version=_version(paths))
    for ref in check_references(knowledge, [f.model for f in loaded]):
        file = loaded[ref.file_index]
        problems.append(Problem(str(file.path), file.line_of(ref.loc), ref.message))
    if problems:
        raise KnowledgeError(problems)
    return knowledge


def _load_file(path: Path, problems: list[Problem]) -> LoadedFile | None:
    try:
        node, data = _parse(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as error:
        problems.append(Problem(str(path), None, f"not UTF-8 text ({error.reason}); save as UTF-8"))
        return None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        what = getattr(error, "problem", None) or str(error)
        problems.append(Problem(str(path), line, f"YAML syntax error: {what}"))
        return None
    if node is None:
        node = yaml.MappingNode("tag:yaml.org,2002:map", [])
        data = {}
    problems.extend(Problem(str(path), line, msg) for line, msg in _duplicate_keys(node))
    if not isinstance(data, dict):
        problems.append(
            Problem(str(path), 1, "the file must be a mapping of sections (roles:, courses: ...)")
        )
        return None
    try:
        model = KnowledgeFile.model_validate(data)
    except ValidationError as error:
        for item in error.errors():
            line = _line_of(node, item["loc"])
            problems.append(Problem(str(path), line, _explain(item)))
        return None
    return LoadedFile(path, node, model)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the plain data, parsed once, by libyaml if present."""
    loader = _SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


def _explain(item: Any) -> str:
    loc = ".".join(str(part) for part in item["loc"])
    kind = item["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{item['loc'][-1]}' at {loc}: remove it or check its spelling"
    if kind == "missing":
        return f"missing field '{item['loc'][-1]}' at {loc}: add it"
    value = item.get("input")
    shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
    return f"wrong value at {loc}: {item['msg']} (got {shown})"


def _line_of(node: yaml.Node, loc: Iterable[str | int]) -> int | None:
    """The 1-based line of the deepest node that `loc` reaches."""
    line = node.start_mark.line + 1
    for part in loc:
        child = _child(node, part)
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _child(node: yaml.Node, part: str | int) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if key.value == part:
                found: yaml.Node = (
                    value if not isinstance(value, yaml.ScalarNode) or value.value else key
                )
                return found
        return None
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


def _duplicate_keys(node: yaml.Node) -> Iterator[tuple[int, str]]:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if key.value in seen:
                yield key.start_mark.line + 1, f"duplicate key '{key.value}': keep only one"
            seen.add(key.value)
            yield from _duplicate_keys(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _duplicate_keys(item)


def _version(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]

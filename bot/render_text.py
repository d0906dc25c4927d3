"""A `Reply` as plain text: what the console prints and what `ask --json` calls "text"."""

from __future__ import annotations

from bot.messages import CourseFact, Reply
from bot.wording import WORDING, course_facts


def render_text(reply: Reply) -> str:
    words = WORDING[reply.lang]
    parts = list(reply.paragraphs)
    parts += [_course(course, reply) for course in reply.courses]
    if reply.question:
        parts.append(reply.question)
    if reply.options:
        numbered = "\n".join(f"  {n}. {o.label}" for n, o in enumerate(reply.options, start=1))
        parts.append(f"{numbered}\n{words.choose_number}")
    parts += [_source(reply, index) for index in range(len(reply.sources))]
    return "\n\n".join(part for part in parts if part)


def _course(course: CourseFact, reply: Reply) -> str:
    words = WORDING[reply.lang]
    rows = course_facts(course, words)
    if course.links:
        rows.append((words.link, " ".join(course.links)))
    lines = [f"▸ {course.name}"] + [f"  {label}: {value}" for label, value in rows]
    return "\n".join(lines)


def _source(reply: Reply, index: int) -> str:
    words = WORDING[reply.lang]
    source = reply.sources[index]
    dated = f", {words.source_date}: {source.source_date}" if source.source_date else ""
    line = (
        f"{words.source}: {source.title} ({source.publisher}){dated}. "
        f"{words.scope}: {source.scope}; {words.reviewed} {source.reviewed.isoformat()}"
    )
    return f"{line}. {source.url}" if source.url else f"{line}."

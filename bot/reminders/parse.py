"""Understands a reminder request in Swedish or English, or says exactly what is missing.

Recurrence ("varannan tisdag", "every other week on Monday", "första måndagen varje månad") and
the time of day ("kl 14", "at 8:30", "2pm") are read with patterns; calendar dates ("ST-start
1 september 2025", "from 14 October", "in two weeks") with dateparser. Anything left over that
looks like a schedule but matched nothing ("nästa blå måndag") is quoted back, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import dateparser  # type: ignore[import-untyped]

from bot.reminders.model import Recurrence, Schedule

ProblemCode = Literal["no_recurrence", "no_weekday", "no_time", "bad_time", "bad_date"]

_DAYS = {
    "måndag": 0,
    "tisdag": 1,
    "onsdag": 2,
    "torsdag": 3,
    "fredag": 4,
    "lördag": 5,
    "söndag": 6,
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_NUMBERS = {
    "annan": 2,
    "andra": 2,
    "tredje": 3,
    "fjärde": 4,
    "femte": 5,
    "sjätte": 6,
    "other": 2,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "två": 2,
    "tre": 3,
    "fyra": 4,
    "two": 2,
    "three": 3,
    "four": 4,
}
_NTH = {
    "första": 1,
    "andra": 2,
    "tredje": 3,
    "fjärde": 4,
    "sista": -1,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "last": -1,
}
_WD = r"(?P<wd>" + "|".join(_DAYS) + r")(?:en|ar|arna|s)?"
_N = r"(?P<n>" + "|".join(_NUMBERS) + r"|\d{1,2})(?::?[ae]|st|nd|rd|th)?"
_MONTHLY = re.compile(
    r"\b(?P<nth>"
    + "|".join(_NTH)
    + r")\s+"
    + _WD
    + r"\s+(?:(?:i|av|of|in)\s+)?(?:(?:varje|var|every|each|the)\s+)?(?:månad|month)(?:en)?\b"
)
_WEEKS_ON_DAY = re.compile(
    r"\b(?:var|every)\s+"
    + _N
    + r"\s+(?:vecka|veckor|week|weeks)\b\s*,?\s*(?:(?:på|on)\s+)?"
    + _WD
    + r"\b"
)
_NTH_DAY = re.compile(r"\b(?:var|every)\s+" + _N + r"\s+" + _WD + r"\b")
_FORTNIGHT = re.compile(r"\b(?:fortnightly|bi-?weekly)\s+(?:on\s+)?" + _WD + r"\b")
_WEEKLY = re.compile(
    r"\b(?:(?:varje|alla|every|each)\s+(?:(?:vecka|week)\s+(?:på|on)\s+)?|weekly\s+on\s+)"
    + _WD
    + r"\b|\b(?:på|on)\s+(?P<pl>(?:"
    + "|".join(_DAYS)
    + r")(?:ar|arna|s))\b"
)
_WEEKS_NO_DAY = re.compile(
    r"\b(?:(?:var|varje|every)\s+(?:" + _N + r"\s+)?(?:vecka|veckor|week|weeks)|varannan\s+vecka"
    r"|fortnightly|bi-?weekly|weekly|varje\s+vecka)\b"
)
_TIME = re.compile(
    r"\b(?:kl\.?|klockan|at|@)\s*(?P<h>\d{1,3})(?:[:.](?P<m>\d{1,2}))?\s*(?P<ap>am|pm|a\.m\.|p\.m\.)?"
    r"|\b(?P<h2>\d{1,2})[:.](?P<m2>\d{2})\b|\b(?P<h3>\d{1,2})\s*(?P<ap3>am|pm)\b"
)
_ST = re.compile(
    r"\b(?:st[- ]?start(?:ade|ed)?|började\s+st|started\s+st|st\s+started|st\s+began)"
    r"\s*(?:den\s+|on\s+|:\s*|i\s+)?(?P<date>[^,;()]+?)(?=\s*(?:[,;()]|\bkl\b|\bat\b|\bom\b|\babout\b|$))"
)
_START = re.compile(
    r"\b(?:från och med|fr\.?\s?o\.?\s?m\.?|med start|starta[rd]?|från|starting|beginning|from)"
    r"\s+(?P<date>[^,;()]+?)(?=\s*(?:[,;()]|\bkl\b|\bat\b|\bom\b|\babout\b|\bmed\b|\bwith\b|$))"
)
_LABEL = re.compile(r"\b(?:med|with)\s+(?P<label>[A-ZÅÄÖ][\w-]*(?:\s+[A-ZÅÄÖ][\w-]*)?)")
_TRIGGER = re.compile(
    r"^\s*(?:/handledning\s+)?(?:påminn|remind)\w*|\bpåminn\w*\s+(?:mig|oss)\b|\bremind\s+(?:me|us)\b"
)
_FILLER = frozenset(
    [
        "mig",
        "oss",
        "me",
        "us",
        "om",
        "about",
        "handledning",
        "handledningen",
        "supervision",
        "supervising",
        "session",
        "meeting",
        "meetings",
        "möte",
        "mötet",
        "möten",
        "mötena",
        "the",
        "a",
        "an",
        "och",
        "and",
        "den",
        "det",
        "på",
        "on",
        "at",
        "kl",
        "kl.",
        "klockan",
        "med",
        "with",
        "till",
        "to",
        "for",
        "för",
        "please",
        "tack",
        "gärna",
        "vår",
        "våra",
        "our",
        "my",
        "min",
        "mina",
        "ett",
        "en",
        "of",
        "in",
        "i",
        "som",
        "when",
        "när",
        "har",
        "vi",
        "we",
        "have",
        "ha",
        "st-läkaren",
        "st-läkare",
        "trainee",
    ]
)


@dataclass(frozen=True, slots=True)
class Problem:
    code: ProblemCode
    fragment: str = ""


@dataclass(frozen=True, slots=True)
class Request:
    recurrence: Recurrence | None
    hour: int | None
    minute: int | None
    label: str
    st_start: date | None
    start: date | None
    problems: tuple[Problem, ...]


def is_reminder_request(text: str) -> bool:
    return _TRIGGER.search(text.lower()) is not None


def looks_like_schedule(text: str) -> bool:
    """Does a follow-up message carry schedule words (a time, a weekday, a recurrence)?"""
    low = text.lower()
    return bool(_TIME.search(low) or re.search(_WD, low) or _WEEKS_NO_DAY.search(low))


def parse_request(text: str, *, now: datetime, timezone: str) -> Request:
    low = text.lower().replace("varannan", "var annan")
    spans: list[tuple[int, int]] = []
    problems: list[Problem] = []
    recurrence = _recurrence(low, spans)
    hour, minute = _time(low, spans, problems)
    st_start = _date(_ST, low, spans, problems, now, timezone, future=False)
    start = _date(_START, low, spans, problems, now, timezone, future=True)
    label = _label(text, spans, low)
    if recurrence is None:
        recurrence = _weeks_without_day(low, spans, start, problems)
    if recurrence is None and not any(p.code == "no_weekday" for p in problems):
        problems.insert(0, Problem("no_recurrence", _leftover(low, spans)))
    if hour is None and not any(p.code == "bad_time" for p in problems):
        problems.append(Problem("no_time"))
    return Request(recurrence, hour, minute, label, st_start, start, tuple(problems))


def parse_time(text: str) -> tuple[int, int] | Problem | None:
    """Just the time of day in `text` (for "change the time to 15")."""
    problems: list[Problem] = []
    hour, minute = _time(text.lower(), [], problems)
    if problems:
        return problems[0]
    return (hour, minute) if hour is not None and minute is not None else None


def build_schedule(request: Request, *, now: datetime, timezone: str) -> Schedule:
    """The series starting at the first matching day on/after the start date (default: today)."""
    assert request.recurrence is not None and request.hour is not None
    zone = ZoneInfo(timezone)
    local_now = now.astimezone(zone).replace(tzinfo=None)
    first_day = request.start or local_now.date()
    start = datetime.combine(first_day, datetime.min.time()).replace(
        hour=request.hour, minute=request.minute or 0
    )
    if start < local_now:
        start = datetime.combine(local_now.date(), start.time())
        if start < local_now:
            start += timedelta(days=1)
    rec = request.recurrence
    if rec.freq == "weekly":
        start += timedelta(days=(rec.weekday - start.weekday()) % 7)
    return Schedule(recurrence=rec, start=start, timezone=timezone)


def merge(first: Request, second: Request) -> Request:
    """A follow-up answer fills in what the first request lacked."""
    merged = replace(
        first,
        recurrence=second.recurrence or first.recurrence,
        hour=second.hour if second.hour is not None else first.hour,
        minute=second.minute if second.hour is not None else first.minute,
        label=second.label or first.label,
        st_start=second.st_start or first.st_start,
        start=second.start or first.start,
    )
    problems = [p for p in second.problems if not _solved(p, merged)]
    return replace(merged, problems=tuple(problems))


def _solved(problem: Problem, request: Request) -> bool:
    if problem.code in ("no_recurrence", "no_weekday"):
        return request.recurrence is not None
    if problem.code == "no_time":
        return request.hour is not None
    return False


def _recurrence(low: str, spans: list[tuple[int, int]]) -> Recurrence | None:
    found = _MONTHLY.search(low)
    if found:
        spans.append(found.span())
        return Recurrence("monthly", _DAYS[found["wd"]], nth=_NTH[found["nth"]])
    for pattern in (_WEEKS_ON_DAY, _NTH_DAY, _FORTNIGHT, _WEEKLY):
        found = pattern.search(low)
        if found:
            spans.append(found.span())
            groups = found.groupdict()
            day = groups.get("wd") or re.sub(r"(ar|arna|s)$", "", groups.get("pl") or "")
            return Recurrence("weekly", _DAYS[day], interval=_interval(pattern, groups))
    return None


def _interval(pattern: re.Pattern[str], groups: dict[str, str | None]) -> int:
    if pattern is _FORTNIGHT:
        return 2
    n = groups.get("n")
    if n is None:
        return 1
    return _NUMBERS.get(n) or max(1, min(int(n), 52))


def _weeks_without_day(
    low: str, spans: list[tuple[int, int]], start: date | None, problems: list[Problem]
) -> Recurrence | None:
    found = _WEEKS_NO_DAY.search(low)
    if found is None:
        return None
    spans.append(found.span())
    n = found.groupdict().get("n")
    text = found.group(0)
    interval = (
        (_NUMBERS.get(n) or int(n)) if n else (2 if re.search(r"annan|fortnight|bi", text) else 1)
    )
    if start is None:
        problems.insert(0, Problem("no_weekday"))
        return None
    return Recurrence("weekly", start.weekday(), interval=interval)


def _time(
    low: str, spans: list[tuple[int, int]], problems: list[Problem]
) -> tuple[int | None, int | None]:
    found = _TIME.search(low)
    if found is None:
        return None, None
    spans.append(found.span())
    hour = int(found["h"] or found["h2"] or found["h3"])
    minute = int(found["m"] or found["m2"] or 0)
    ampm = (found["ap"] or found["ap3"] or "").replace(".", "")
    if ampm and not 1 <= hour <= 12:
        problems.append(Problem("bad_time", found.group(0).strip()))
        return None, None
    if ampm:
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        problems.append(Problem("bad_time", found.group(0).strip()))
        return None, None
    return hour, minute


def _date(
    pattern: re.Pattern[str],
    low: str,
    spans: list[tuple[int, int]],
    problems: list[Problem],
    now: datetime,
    timezone: str,
    *,
    future: bool,
) -> date | None:
    found = pattern.search(low)
    if found is None:
        return None
    spans.append(found.span())
    fragment = found["date"].strip()
    settings: dict[str, object] = {
        "TIMEZONE": timezone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None),
    }
    if future:
        settings["PREFER_DATES_FROM"] = "future"
    parsed: datetime | None = dateparser.parse(fragment, languages=["sv", "en"], settings=settings)
    if parsed is None:
        problems.append(Problem("bad_date", fragment))
        return None
    return parsed.date()


def _label(text: str, spans: list[tuple[int, int]], low: str) -> str:
    for found in _LABEL.finditer(text):
        if not any(a <= found.start() < b for a, b in spans):
            spans.append(found.span())
            return found["label"]
    return ""


def _leftover(low: str, spans: list[tuple[int, int]]) -> str:
    trigger = _TRIGGER.search(low)
    covered = [*spans, trigger.span()] if trigger else spans
    kept = "".join(
        ch if not any(a <= i < b for a, b in covered) else " " for i, ch in enumerate(low)
    )
    kept = re.split(r"\b(?:om|about)\s+(?:handledning|supervision)\w*", kept)[0]
    words = [w for w in re.findall(r"[\wåäö:.-]+", kept) if w.strip(".") not in _FILLER]
    return " ".join(words)

"""Understands a reminder request in Swedish or English, or says exactly what is missing.

Recurrence ("varannan tisdag", "every other week on Monday", "första måndagen varje månad") and
the time of day ("kl 14", "at 8:30", "2pm") are read with patterns; calendar dates ("ST-start
1 september 2025", "from 14 October", "in two weeks") with dateparser. Anything left over that
looks like a schedule but matched nothing ("nästa blå måndag") is quoted back, never guessed.

dateparser is imported when a date is first read, not with this module: it is a tenth of a
second of the server's start-up, and most processes never read a date.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import MONTHLY, rrule, weekday
from rapidfuzz import fuzz

from bot.reminders.model import Recurrence, Schedule
from bot.text import fold

ProblemCode = Literal[
    "no_recurrence", "no_weekday", "no_monthday", "no_time", "bad_time", "bad_date"
]

# Every pattern below reads folded text (bot.text.fold: lower case, å/ä/ö → a/a/o), so
# "mandag" and "måndag" are one word.
_DAYS = {
    "mandag": 0,
    "tisdag": 1,
    "onsdag": 2,
    "torsdag": 3,
    "fredag": 4,
    "lordag": 5,
    "sondag": 6,
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
    "fjarde": 4,
    "femte": 5,
    "sjatte": 6,
    "other": 2,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "en": 1,
    "ett": 1,
    "one": 1,
    "tva": 2,
    "tre": 3,
    "fyra": 4,
    "fem": 5,
    "sex": 6,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
}
_NTH = {
    "forsta": 1,
    "andra": 2,
    "tredje": 3,
    "fjarde": 4,
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
    + r"\s+(?:(?:i|av|of|in)\s+)?(?:(?:varje|var|every|each|the)\s*)?"
    r"(?:(?P<mi>annan|andra|tredje|fjarde|sjatte|other|second|third|fourth|sixth|\d{1,2})"
    r"(?::?[ae]|st|nd|rd|th)?\s+)?(?:manad|month)(?:en|er|s)?\b"
)
# "första tisdagen" on its own: that weekday of every month.
_NTH_WEEKDAY = re.compile(r"\b(?P<nth>" + "|".join(_NTH) + r")\s+" + _WD + r"\b")
# "den 15:e", "the 15th", "on day 15": a day of the month.
_MONTHDAY = re.compile(
    r"\bden\s+(?P<md>\d{1,2}):?[ae]\b|\bthe\s+(?P<md2>\d{1,2})(?:st|nd|rd|th)\b"
    r"(?!\s+of\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec))"
    r"|\bon\s+day\s+(?P<md3>\d{1,2})\b"
)
_WEEKS_ON_DAY = re.compile(
    r"\b(?:var\s*|every\s+)"
    + _N
    + r"\s+(?:vecka|veckor|week|weeks)\b\s*,?\s*(?:(?:pa|on)\s+)?"
    + _WD
    + r"\b"
)
_NTH_DAY = re.compile(r"\b(?:var\s*|every\s+)" + _N + r"\s+" + _WD + r"\b")
_FORTNIGHT = re.compile(r"\b(?:fortnightly|bi-?weekly)\s+(?:on\s+)?" + _WD + r"\b")
_WEEKLY = re.compile(
    r"\b(?:(?:varje|alla|every|each)\s+(?:(?:vecka|week)\s+(?:pa|on)\s+)?|weekly\s+on\s+)"
    + _WD
    + r"\b|\b(?:pa|on|om)\s+(?P<pl>(?:"
    + "|".join(_DAYS)
    + r")(?:ar|arna|s))\b"
)
_WEEKS_NO_DAY = re.compile(
    r"\b(?:(?:var\s*|varje\s+|every\s+)(?:" + _N + r"\s+)?(?:vecka|veckor|week|weeks)"
    r"|fortnightly|bi-?weekly|weekly|varje\s+vecka)\b"
)
# "var tredje månad", "every 3 months", "varje månad", "kvartalsvis": same day of the month.
_MONTHS_NO_DAY = re.compile(
    r"\b(?:(?:var\s*|varje\s+|every\s+)(?:" + _N + r"\s+)?(?:manad|manader|month|months)"
    r"|monthly|manadsvis|(?P<q>kvartalsvis|varje\s+kvartal|quarterly|every\s+quarter))\b"
)
_AMPM = r"[ap]\.?m\.?"
_TIME = re.compile(
    r"\b(?:kl\.?|klockan|at|@)\s*(?P<h>\d{1,3})(?:[:.](?P<m>\d{1,2}))?\s*(?P<ap>"
    + _AMPM
    + r")?(?!\w)"
    r"|\b(?P<h2>\d{1,2})[:.](?P<m2>\d{2})\s*(?P<ap2>" + _AMPM + r")?(?![\w.:])"
    r"|\b(?P<h3>\d{1,2})\s*(?P<ap3>" + _AMPM + r")(?!\w)"
)
_ST = re.compile(
    r"\b(?:st[- ]?start(?:ade|ed)?|borjade\s+st|started\s+st|st\s+started|st\s+began)"
    r"\s*(?:den\s+|on\s+|:\s*|i\s+)?(?P<date>[^,;()]+?)(?=\s*(?:[,;()]|\bkl\b|\bat\b|\bom\b|\babout\b|$))"
)
_START = re.compile(
    r"\b(?:fran och med|fr\.?\s?o\.?\s?m\.?|med start|starta[rd]?|fran|starting|beginning|from)"
    r"\s+(?P<date>[^,;()]+?)(?=\s*(?:[,;()]|\bkl\b|\bat\b|\bom\b|\babout\b|\bmed\b|\bwith\b|$))"
)
_MONTH_NAMES = (
    r"jan(?:uari|uary)?|feb(?:ruari|ruary)?|mars?|march|apr(?:il)?|maj|may|jun[ie]?|jul[iy]?"
    r"|aug(?:usti|ust)?|sep(?:t|tember)?|okt(?:ober)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
)
# One-off dates: "den 15 januari", "on 15 January 2027", "2027-01-15", "imorgon",
# "om två veckor", "in 3 days", "nästa fredag", "next Friday".
_ONE_DATE = re.compile(
    r"\b(?:den\s+|on\s+(?:the\s+)?)?(?P<day>\d{1,2})(?:e|:e|st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>"
    + _MONTH_NAMES
    + r")\.?(?:\s+(?P<year>\d{4}))?\b"
    r"|\b(?:on\s+)?(?P<mon2>"
    + _MONTH_NAMES
    + r")\s+(?P<day2>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<year2>\d{4}))?"
    r"|\b(?:den\s+|on\s+)?(?P<iso>\d{4}-\d{2}-\d{2})\b"
    r"|\b(?P<tomorrow>i\s*morgon|imorn|tomorrow|overmorgon|day after tomorrow)\b"
    r"|\b(?:om|in)\s+(?P<count>\d{1,2}|"
    + "|".join(_NUMBERS)
    + r")\s+(?P<unit>dag|dagar|days?|veckor|vecka|weeks?|manader|manad|months?)\b"
    r"|\b(?:nasta|next|pa|on|this|den har)\s+(?P<nextwd>" + "|".join(_DAYS) + r")(?:en)?\b"
)
_LABEL = re.compile(
    r"\b(?:med|with)\s+(?:(?:min|mitt|my|st-lakaren|st-lakare|trainee|at-lakaren|kollegan)\s+)?"
    r"(?P<label>[^\W\d_][\w-]*(?:\s+[A-ZÅÄÖ][\w-]*)?)",
)
_LABEL_FOR = re.compile(r"\b(?:för|for|about|om)\s+(?P<label>[A-ZÅÄÖ][\w-]*(?:\s+[A-ZÅÄÖ][\w-]*)?)")
_NOT_A_NAME = frozenset(
    [
        "handledning",
        "handledningen",
        "supervision",
        "start",
        "st",
        "st-start",
        "mig",
        "oss",
        "me",
        "us",
        "att",
        "to",
        "the",
        "a",
        "an",
        "en",
        "ett",
        *_DAYS,
    ]
)
_TRIGGER_WORDS = ("paminn", "paminna", "remind")
_NOUN_WORDS = ("paminnelse", "reminder")
_CREATE_NOUN = re.compile(
    r"\b(?:vill\s+ha|skapa|lagg\s+till|lagg\s+in|gor|ny|set\s+up|create|add|make|new|want|schedule|"
    r"satt\s+upp|boka)\b"
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
    """Does `text` ask to create a reminder? "påminn mig …" (also "paminn", "påmin", "paminm",
    "remmind"), "kan du påminna mig …", "jag vill ha en påminnelse …", "set up a reminder …"."""
    low = fold(text)
    tokens = _tokens(low)[:8]
    if any(_near(token, _TRIGGER_WORDS) for token in tokens):
        return True
    nouns = [t for t in tokens if _near(t, _NOUN_WORDS, stem=True)]
    return bool(nouns) and bool(_CREATE_NOUN.search(low) or looks_like_schedule(low))


def looks_like_schedule(text: str) -> bool:
    """Does a follow-up message carry schedule words (a time, a weekday, a recurrence, a date)?"""
    low = fold(text)
    return bool(
        _TIME.search(low)
        or re.search(r"\b" + _WD, low)
        or _WEEKS_NO_DAY.search(low)
        or _MONTHS_NO_DAY.search(low)
        or _ONE_DATE.search(low)
        or _MONTHDAY.search(low)
    )


def weekday_in(text: str) -> int | None:
    """The weekday named in `text` (0 = Monday), e.g. "till onsdagar", "to Fridays"."""
    found = re.search(r"\b" + _WD + r"\b", fold(text))
    return _DAYS[found["wd"]] if found else None


def parse_request(text: str, *, now: datetime, timezone: str) -> Request:
    text = unicodedata.normalize("NFKC", text)
    low = fold(text)
    if len(low) != len(text):  # a character folded to several: positions must stay aligned
        text = low
    spans: list[tuple[int, int]] = []
    problems: list[Problem] = []
    recurrence = _recurrence(low, spans)
    hour, minute = _time(low, spans, problems)
    st_start = _date(_ST, text, low, spans, problems, now, timezone, future=False)
    start = _date(_START, text, low, spans, problems, now, timezone, future=True)
    if recurrence is None:
        recurrence, start = _months_without_day(low, spans, problems, start, now, timezone)
    if recurrence is None and start is None:
        start = _one_date(low, spans, now, timezone)
        if start is not None:
            recurrence = Recurrence("once", start.weekday())
    label = _label(text, spans)
    if recurrence is None:
        recurrence = _weeks_without_day(low, spans, start, problems)
    if recurrence is None and not any(p.code in ("no_weekday", "no_monthday") for p in problems):
        problems.insert(0, Problem("no_recurrence", _leftover(text, low, spans)))
    if hour is None and not any(p.code == "bad_time" for p in problems):
        problems.append(Problem("no_time"))
    return Request(recurrence, hour, minute, label, st_start, start, tuple(problems))


def parse_time(text: str) -> tuple[int, int] | Problem | None:
    """Just the time of day in `text` (for "change the time to 15")."""
    problems: list[Problem] = []
    hour, minute = _time(fold(text), [], problems)
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
    rec = request.recurrence
    if start < local_now and rec.freq != "once":
        start = datetime.combine(local_now.date(), start.time())
        if start < local_now:
            start += timedelta(days=1)
    if rec.freq == "weekly":
        start += timedelta(days=(rec.weekday - start.weekday()) % 7)
    if rec.freq == "monthly" and rec.nth is not None:  # start on the first such day
        start = rrule(MONTHLY, byweekday=weekday(rec.weekday, rec.nth), dtstart=start, count=1)[0]
    if rec.freq == "monthly" and rec.nth is None and request.start is None:
        start = datetime.combine(local_now.date(), start.time())  # same day of the month
        if start < local_now:
            start += relativedelta(months=1)
    return Schedule(recurrence=rec, start=start, timezone=timezone)


def merge(first: Request, second: Request) -> Request:
    """A follow-up answer fills in what the first request lacked."""
    recurrence = second.recurrence or first.recurrence
    months = next((p for p in first.problems if p.code == "no_monthday"), None)
    if months and second.recurrence and second.recurrence.freq == "monthly":
        recurrence = replace(second.recurrence, interval=int(months.fragment or 1))
    merged = replace(
        first,
        recurrence=recurrence,
        hour=second.hour if second.hour is not None else first.hour,
        minute=second.minute if second.hour is not None else first.minute,
        label=second.label or first.label,
        st_start=second.st_start or first.st_start,
        start=second.start or first.start,
    )
    problems = [p for p in (*first.problems, *second.problems) if not _solved(p, merged)]
    unique = list(dict.fromkeys(problems))
    return replace(merged, problems=tuple(unique))


def request_to_json(request: Request) -> dict[str, Any]:
    """A JSON-serialisable form of `request` (kept in the conversation's AWAITING slot)."""
    rec = request.recurrence
    return {
        "recurrence": None
        if rec is None
        else {"freq": rec.freq, "weekday": rec.weekday, "interval": rec.interval, "nth": rec.nth},
        "hour": request.hour,
        "minute": request.minute,
        "label": request.label,
        "st_start": request.st_start.isoformat() if request.st_start else None,
        "start": request.start.isoformat() if request.start else None,
        "problems": [[p.code, p.fragment] for p in request.problems],
    }


def request_from_json(data: dict[str, Any]) -> Request:
    """The inverse of `request_to_json`; raises KeyError/ValueError on a malformed value."""
    rec = data["recurrence"]
    return Request(
        Recurrence(rec["freq"], int(rec["weekday"]), int(rec["interval"]), rec["nth"])
        if rec
        else None,
        data["hour"],
        data["minute"],
        str(data["label"]),
        date.fromisoformat(data["st_start"]) if data["st_start"] else None,
        date.fromisoformat(data["start"]) if data["start"] else None,
        tuple(Problem(code, fragment) for code, fragment in data["problems"]),
    )


def _tokens(low: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", low) if t]


def _near(token: str, words: tuple[str, ...], *, stem: bool = False) -> bool:
    """Is `token` one of `words` give or take one typo ("paminm", "påmin", "remmind")?"""
    for word in words:
        head = token[: len(word) + 1] if stem else token
        if len(head) >= 4 and head[0] == word[0] and fuzz.ratio(head, word) >= 83:
            return True
        if stem and token.startswith(word):
            return True
    return False


def _solved(problem: Problem, request: Request) -> bool:
    if problem.code in ("no_recurrence", "no_weekday", "no_monthday"):
        return request.recurrence is not None
    if problem.code == "no_time":
        return request.hour is not None
    return False


def _recurrence(low: str, spans: list[tuple[int, int]]) -> Recurrence | None:
    found = _MONTHLY.search(low)
    if found:
        spans.append(found.span())
        mi = found["mi"]
        interval = (_NUMBERS.get(mi) or int(mi)) if mi else 1
        return Recurrence("monthly", _DAYS[found["wd"]], interval, _NTH[found["nth"]])
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


def _months_without_day(
    low: str,
    spans: list[tuple[int, int]],
    problems: list[Problem],
    start: date | None,
    now: datetime,
    timezone: str,
) -> tuple[Recurrence | None, date | None]:
    """Every N months: on "första tisdagen", on "den 15:e", or on the start date's day; else the
    problem `no_monthday` (its fragment carries N, for the follow-up answer)."""
    found = _MONTHS_NO_DAY.search(low)
    nth_day = _NTH_WEEKDAY.search(low)
    day = _MONTHDAY.search(low)
    interval = 1
    if found is not None:
        spans.append(found.span())
        n = found["n"]
        interval = 3 if found["q"] else (_NUMBERS.get(n) or int(n)) if n else 1
        interval = max(1, min(interval, 24))
    elif nth_day is None and day is None:
        return None, start
    if nth_day is not None:
        spans.append(nth_day.span())
        return Recurrence("monthly", _DAYS[nth_day["wd"]], interval, _NTH[nth_day["nth"]]), start
    if day is not None:
        spans.append(day.span())
        wanted = int(day["md"] or day["md2"] or day["md3"])
        if 1 <= wanted <= 28:
            first = start or now.astimezone(ZoneInfo(timezone)).date()
            if first.day > wanted:
                first += relativedelta(months=1)
            return Recurrence("monthly", 0, interval), first.replace(day=wanted)
    if start is not None:
        return Recurrence("monthly", 0, interval), start
    problems.insert(0, Problem("no_monthday", str(interval)))
    return None, start


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
    ampm = (found["ap"] or found["ap2"] or found["ap3"] or "").replace(".", "")
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
    text: str,
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
    parsed = _dateparser(fragment, now, timezone, future=future)
    if parsed is None:
        problems.append(Problem("bad_date", text[found.start("date") : found.end("date")].strip()))
    return parsed


def _dateparser(fragment: str, now: datetime, timezone: str, *, future: bool) -> date | None:
    settings: dict[str, object] = {
        "TIMEZONE": timezone,
        "RETURN_AS_TIMEZONE_AWARE": True,
        "DATE_ORDER": "DMY",
        "RELATIVE_BASE": now.astimezone(ZoneInfo(timezone)).replace(tzinfo=None),
    }
    if future:
        settings["PREFER_DATES_FROM"] = "future"
    import dateparser  # type: ignore[import-untyped]  # on first use: see the module's docstring

    parsed: datetime | None = dateparser.parse(fragment, languages=["sv", "en"], settings=settings)
    return parsed.date() if parsed is not None else None


def _one_date(low: str, spans: list[tuple[int, int]], now: datetime, timezone: str) -> date | None:
    """The date of a one-off meeting, or None."""
    found = _ONE_DATE.search(low)
    if found is None:
        return None
    today = now.astimezone(ZoneInfo(timezone)).date()
    day: date | None
    if found["tomorrow"]:
        day = today + timedelta(days=2 if found["tomorrow"].startswith(("over", "day")) else 1)
    elif found["count"]:
        n = _NUMBERS.get(found["count"]) or int(found["count"])
        unit = found["unit"]
        if unit.startswith(("dag", "day")):
            day = today + timedelta(days=n)
        elif unit.startswith(("vec", "week")):
            day = today + timedelta(weeks=n)
        else:
            day = today + relativedelta(months=n)
    elif found["nextwd"]:
        wd = _DAYS[found["nextwd"]]
        day = today + timedelta(days=(wd - today.weekday() - 1) % 7 + 1)
    else:
        day = _dateparser(found.group(0), now, timezone, future=True)
    if day is not None:
        spans.append(found.span())
    return day


def _label(text: str, spans: list[tuple[int, int]]) -> str:
    """The trainee's name as written: "med Anna", "med johan", "with Tom", "för Omar"."""
    for pattern in (_LABEL, _LABEL_FOR):
        for found in pattern.finditer(text):
            if any(a <= found.start("label") < b for a, b in spans):
                continue
            words = found["label"].split()
            if fold(words[0]) in _NOT_A_NAME or re.fullmatch(_WD, fold(words[0])):
                continue
            kept = [words[0], *(w for w in words[1:2] if fold(w) not in _NOT_A_NAME)]
            spans.append(found.span())
            return " ".join(kept)
    return ""


def _leftover(text: str, low: str, spans: list[tuple[int, int]]) -> str:
    """What is left of the request once the understood parts are taken out, as written."""
    trigger = re.search(r"^\s*(?:/handledning\s+)?\S+\s+(?:mig|oss|me|us)\b", low)
    covered = [*spans, trigger.span()] if trigger else spans
    kept = "".join(
        ch if not any(a <= i < b for a, b in covered) else " " for i, ch in enumerate(text.lower())
    )
    kept = re.split(r"\b(?:om|about)\s+(?:handledning|supervision)\w*", kept)[0]
    filler = {fold(w) for w in _FILLER}
    words = [w for w in re.findall(r"[\w:.-]+", kept) if fold(w.strip(".")) not in filler]
    return " ".join(words)

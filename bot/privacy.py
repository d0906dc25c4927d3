"""Personal data in what users type: spot a personal identity number, mask what gets stored.

- `has_personal_number`: a Swedish personnummer or samordningsnummer (YYMMDD-XXXX, YYMMDD+XXXX,
  YYMMDDXXXX, YYYYMMDD-XXXX, YYYYMMDDXXXX, also with a space) whose date part is a possible date.
  The check digit is not required: a mistyped number is still patient data.
- `mask`: replaces e-mail addresses, anything shaped like a personal identity number (valid date
  or not) and phone numbers (Swedish 0…/+46… and international +… forms, 8–15 digits) with
  `[e-post]`, `[personnummer]` and `[telefon]`. Years ("2024"), durations ("1,5 tim") and dates
  ("2024-04-22") are left alone.
"""

from __future__ import annotations

import re

EMAIL_MASK = "[e-post]"
PNR_MASK = "[personnummer]"
PHONE_MASK = "[telefon]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# Century digits optional; the separator between date and the last four digits optional.
_PNR = re.compile(r"(?<![\d+])((?:19|20)?)(\d{2})(\d{2})(\d{2})\s?[-+ ]?\s?(\d{4})(?!\d)")
# A phone number starts with + or 0 and has 8–15 digits, grouped by spaces, dashes or brackets.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00|0)[\d()][\d\s()\-]{5,20}\d(?!\d)")


def has_personal_number(text: str) -> bool:
    """True when `text` holds something that is very likely a personal identity number."""
    return any(_is_pnr(m) and _is_date(m.group(3), m.group(4)) for m in _PNR.finditer(text))


def _is_pnr(match: re.Match[str]) -> bool:
    """A bare ten-digit 07… run is a mobile number (0701234567), not a personal number."""
    bare = match.group(0).isdigit() and len(match.group(0)) == 10
    return not (bare and match.group(0).startswith("07"))


def _is_date(month: str, day: str) -> bool:
    m, d = int(month), int(day)
    if d > 60:  # samordningsnummer: day + 60
        d -= 60
    return 1 <= m <= 12 and 1 <= d <= 31


def mask(text: str) -> str:
    """`text` with e-mail addresses, personal identity numbers and phone numbers replaced."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _PNR.sub(lambda m: PNR_MASK if _is_pnr(m) else m.group(0), text)
    return _PHONE.sub(_phone, text)


def _phone(match: re.Match[str]) -> str:
    digits = sum(ch.isdigit() for ch in match.group(0))
    return PHONE_MASK if 8 <= digits <= 15 else match.group(0)

"""Tells Swedish from English, the two languages the bot answers in.

Short chat questions defeat statistical detectors, so this counts common function words of each
language (and, a little, words with å/ä/ö); Swedish wins ties, as most users write Swedish.
Words that are the same in both ("i", "a", "man", "program") are in neither list.
"""

from __future__ import annotations

from bot.messages import Lang
from bot.text import normalize

_SWEDISH = """
och att det som en ett är på för med jag du vi ni de den dem har hade hur vad vilken vilka vilket
ska skall kan måste får bör om till av från när var varför inte också eller men så sig sin sitt
mig min mitt mina dig din oss vår våra er era behöver behövs gå går gör göra görs blir bli finns
tar ta lång långa länge ofta kurs kursen kurser handledare handledaren handledning
handledningen utbildning utbildningen hej tack hjälp undrar någon något några mycket många alla
varje år året månad månader vecka veckor dagar timmar enligt ingår inom under efter innan eller
mellan hos vid nästa sista första även redan bara också just nu här där vem vems ju väl
emot mot ut upp fram över ner hit dit sådan sådant sådana
""".split()
_ENGLISH = """
the an and or is are was were be been to of in on for with what which who whom how when where why
do does did can could should would will must my you we they it its this that these those
need needs long often many much course courses training supervisor supervisors supervision
take takes hi hello thanks thank please help from about as there any every year month week
days hours doctor doctors students student recommended required have has get much next
also only your our their than then but if not yes because still into first some apply applies
find tell know want give gives
a like say says said anyone someone anything something way new same another different before
after during between each while isn don doesn allowed should whose
mandatory compulsory recommendation optional voluntary supposed
now everyone everybody right down today tomorrow yesterday
""".split()

_FOLDED_SV = frozenset(t for word in _SWEDISH for t in normalize(word))
_FOLDED_EN = frozenset(_ENGLISH) - _FOLDED_SV


def detect_language(text: str) -> Lang:
    tokens = normalize(text)
    # Swedish names (Örebro, vårdcentral) appear in English questions: å/ä/ö count only a little.
    accented = sum(1 for word in text.lower().split() if "å" in word or "ä" in word or "ö" in word)
    swedish = sum(map(_FOLDED_SV.__contains__, tokens)) + 0.5 * accented
    english = sum(map(_FOLDED_EN.__contains__, tokens))
    return "en" if english > swedish else "sv"


# Words that say nothing about what a question is about, in either language.
FUNCTION_WORDS = _FOLDED_SV | _FOLDED_EN

# The field's own words among them: too common to tell what a question asks, but they rank one
# region's entries (its ST supervisors' training before its orthopaedics course).
FIELD_WORDS = FUNCTION_WORDS & frozenset(normalize("""
kurs kursen kurser handledare handledaren handledning handledningen utbildning utbildningen
course courses training supervisor supervisors supervision
"""))

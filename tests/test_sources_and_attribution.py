"""Who said it, how old it is, and what the English makes of it: a question in, the wording out.

Each test pins a rule of issue 12 against the shipped knowledge base (seeds in ../shared/seeds/).
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from bot.answering.engine import Engine
from bot.knowledge.base import KnowledgeBase
from bot.knowledge.loader import load_knowledge
from bot.messages import Status
from bot.reminders.model import Owner, Recurrence, Reminder, Schedule
from bot.reminders.render import Knowledge, topic_lines
from bot.render_text import render_text
from bot.testing import Chat
from tests.conftest import KNOWLEDGE


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


def said(engine: Engine, question: str) -> str:
    reply = engine.answer(question)
    assert reply.status is Status.ANSWER, render_text(reply)
    return render_text(reply)


# ---- attribution --------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "whose"), [
    ("Does Socialstyrelsen recommend 2-3 days of supervisor training?",
     "is Region Stockholm's own figure"),
    ("Rekommenderar Socialstyrelsen 2-3 dagars handledarutbildning?",
     "är Region Stockholms egen uppgift"),
    ("Vilken handledarutbildning behöver jag som ST-handledare?",
     "är Region Stockholms egen\nuppgift".replace("\n", " ")),
])
def test_the_two_to_three_days_are_region_stockholms_not_socialstyrelsens(
    engine: Engine, question: str, whose: str
) -> None:
    text = said(engine, question)
    assert whose in text
    assert "Socialstyrelsen" in text


async def test_the_vo_college_prerequisite_is_orebros_should_before_step_1(chat: Chat) -> None:
    reply = await chat.say("Hur lång är Vård- och omsorgscollege handledarutbildning?")
    assert reply.status is Status.ANSWER
    stockholm_card = next(c for c in reply.courses if "Vård- och omsorgscollege" in c.name)
    assert stockholm_card.prerequisites == ()  # Region Stockholm's table names none
    assert "Förkunskaper" not in chat.text
    orebro = next(p for p in reply.paragraphs if "Skolverkets webbaserade" in p)
    assert orebro.startswith("Enligt Region Örebro läns utbildningsstrategi")
    assert "bör ha genomgåtts innan påbörjande av steg 1" in orebro  # the seed's words


def test_rows_the_toolbox_gives_no_cadence_are_not_stated_as_one(engine: Engine) -> None:
    text = said(engine, "How often should we review completed assessments?")
    assert "the table gives no frequency for it" in text
    text = said(engine, "Hur ofta ska man göra CBD enligt Skånes verktygslåda?")
    assert "ingen fast frekvens" in text and "efter behov" in text
    assert "står dessa ämnen under var 6:e månad" not in text


def _reminder() -> Reminder:
    schedule = Schedule(Recurrence("monthly", 1, nth=1), datetime(2025, 1, 7, 9, 0), "Europe/Stockholm")
    return Reminder(1, Owner("console", "u"), "", "Anna", "sv", schedule, date(2024, 3, 1), "active",
                    frozenset())


def test_reminders_never_schedule_a_topic_without_a_cadence(kb: KnowledgeBase) -> None:
    knowledge = Knowledge(kb.topics, kb.sources)
    r = _reminder()
    lines = [
        line
        for month in range(1, 13)
        for line in topic_lines(knowledge, r, r.schedule.after(datetime(2025, month, 1, tzinfo=r.schedule.zone), inclusive=True), "sv")  # type: ignore[arg-type]
    ]
    text = "\n".join(lines)
    assert "Case Based Discussion" not in text
    assert "Genomgång av genomförda bedömningar" not in text
    assert "etiska spörsmål" not in text
    assert "utvalt medicinskt delmål" in text  # the every-3-months row still comes
    # The yearly placement of specialistkollegium is the knowledge base's note, not Python's.
    assert "Specialistkollegium: 3 gånger under ST-tiden (tabellen placerar raden under Årligen)" in text
    assert "årsmöte" not in text


# ---- dates --------------------------------------------------------------------------------------


async def test_a_reply_shows_the_sources_own_date_apart_from_our_check(chat: Chat) -> None:
    reply = await chat.say("Vilken handledarutbildning behöver jag som ST-handledare?")
    dates = {s.title: s.source_date for s in reply.sources}
    assert dates["För ST-handledare"] == "sidan senast uppdaterad 22 augusti 2023"
    assert "källans datum: sidan senast granskad 18 december 2023" in chat.text
    assert "svaret kontrollerat mot källan 2026-11-23" in chat.text
    assert "granskad 2026-11-23" not in chat.text  # our check is never worded as the page's date


def test_english_replies_give_the_source_date_in_english(engine: Engine) -> None:
    text = said(engine, "Which topics should we cover every 3 months?")
    assert "source's date: undated – the document gives no date" in text
    assert "answer checked against the source 2026-11-23" in text
    text = said(engine, "What are the five competence areas in Socialstyrelsen's support?")
    assert "source's date: published November 2021" in text


def test_a_2021_statement_of_the_present_is_given_as_of_2021(engine: Engine) -> None:
    text = said(engine, "Hur finansieras klinisk utbildning i Region Örebro län?")
    assert "När strategin fastställdes (2021-12-10) hade läkarprogrammet" in text
    assert "finansierade då endast hälften" in text
    assert "Hur det ser ut efter 2021 anger" in text


# ---- English that keeps the meaning --------------------------------------------------------------


@pytest.mark.parametrize(("question", "kept", "lost"), [
    # "Som handledare ska du ha genomgått ..." is a duty, not advice.
    ("Which training is given with Örebro University for ST supervisors?",
     "as an ST supervisor you must have",
     "you should have completed"),
    ("What does an AKA need for supervisor training?", "adjunct clinical lecturer", "clinical adjunct)"),
    ("Where is continuing education for ST supervisors in Örebro given?",
     "återträffar (follow-up meetings)", "reunion"),
    ("What does VO-college step 2 give?", "gives them the opportunity to work as validation",
     "qualifies"),
    ("Why is supervisor training needed in Region Stockholm?", "all care services (vårdverksamheter)",
     "care providers"),
    ("How many times should specialistkollegium be held during ST?", "Specialistkollegium",
     "specialist colleague panel"),
])
def test_the_english_keeps_the_swedish_meaning(
    engine: Engine, question: str, kept: str, lost: str
) -> None:
    text = said(engine, question)
    assert kept in " ".join(text.split())
    assert lost not in text


# ---- facts the base lacked ------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "fact"), [
    ("Vem ledde arbetet med Socialstyrelsens stöd till handledarutbildning?",
     "Det är också viktigt att man följer våra allmänna råd"),
    ("When did the new ST regulations with BT come?", "July 2021"),
    ("Finns det kollegialt stöd eller mentorsgrupper för handledare enligt strategin?", "mentorsgrupper"),
    ("Do nurses get time allocated for pedagogical work in their introduction year?", "(PTP)"),
    ("Vilka krav ställer det nya läkarprogrammet på bedömning?", "bedömningskriterier"),
    ("Vilka indikatorer gäller för utbildningstjänster i Örebros strategi?", "kände till lärandemålen"),
    ("Which indicators does the goal of development potential have?", "education councils"),
    ("Who is responsible for recruiting to pedagogical assignments in Region Örebro län?", "area level"),
    ("How many university hospitals are there in Örebro's health-care region?", "Örebro and Uppsala"),
    ("Finns det ett pilotprojekt för sjuksköterskor i hemsjukvården i Region Skåne?", "kommunal hemsjukvård"),
    ("Who chairs the committee that adopted Örebro's education strategy?", "Margareta Ehnfors"),
    ("Hur kontaktar jag Region Örebro län?", "019-602 70 00"),
    ("Where is the link to the 2015 målbeskrivningar for the a and b goals?", "malbeskrivningar-2015.pdf"),
    ("Who offers the SPUR inspection, and what is LIPUS?", "a subsidiary of the Swedish Medical Association"),
    ("Vad gör studierektorsgruppen i Örebro?", "stärks samarbetet över specialitetsgränserna"),
])
def test_facts_the_sources_give_are_answered(engine: Engine, question: str, fact: str) -> None:
    assert fact in " ".join(said(engine, question).split())


# ---- contacts -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "topics", "expected"), [
    ("stockholm", {"course", "duration"}, ["contact-stockholm-courses"]),
    ("stockholm", set(), ["contact-stockholm-courses"]),
    ("orebro", {"st", "supervise"}, ["contact-orebro-st"]),
    (None, {"st"}, ["contact-orebro-st"]),
    (None, {"toolbox", "cbd"}, ["contact-skane-st"]),
    ("skane", {"st"}, ["contact-skane-st"]),
    ("orebro", {"strategy"}, ["contact-orebro-general"]),
    (None, {"salary"}, ["contact-orebro-general"]),
])
def test_contacts_for_picks_the_contact_that_fits_region_and_topic(
    kb: KnowledgeBase, scope: str | None, topics: set[str], expected: list[str]
) -> None:
    assert [c.id for c in kb.contacts_for(scope, topics)] == expected

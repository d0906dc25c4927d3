"""The engine's decision rules, one by one, on a tiny knowledge base (tests/fixtures/tiny_kb).

Each test names the rule of `bot.answering.engine` it pins (`Trace.rule`) and checks what a user
would see: the status, and the words of the reply that make it right or honest.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.answering.engine import Engine
from bot.knowledge.loader import load_knowledge
from bot.messages import Option, Reply, Status
from bot.render_text import render_text

TINY = Path(__file__).parent / "fixtures" / "tiny_kb"


@pytest.fixture(scope="module")
def tiny() -> Engine:
    return Engine(load_knowledge(TINY))


def ask(engine: Engine, text: str) -> tuple[Reply, str, str]:
    reply, trace = engine.explain(text)
    return reply, trace.rule, render_text(reply)


def test_facet_an_entry_does_not_state_is_an_honest_no_match(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "vad kostar alfakursen?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "pris" in text and "Alfakursen" in text
    # ... and says briefly what the sources do say about it.
    assert "3 dagar" in text


def test_facet_stated_by_a_course_field_is_answered(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "hur lång är alfakursen?")
    assert (reply.status, rule) == (Status.ANSWER, "answer")
    assert "3 dagar" in text


def test_facet_not_stated_by_the_asked_entry_is_not_answered_by_another(tiny: Engine) -> None:
    # The beta course states no length; the alpha course does, but it is not what was asked.
    reply, rule, _ = ask(tiny, "hur lång är betakursen?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert reply.entry_id is None


def test_english_detail_question_gets_an_english_no_match(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "Is the alpha course taught in English?")
    assert (reply.status, reply.lang, rule) == (Status.NO_MATCH, "en", "facet")
    assert "language" in text


def test_uncovered_region_is_never_answered_with_a_covered_one(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "vilken kurs ska handledare för universitetsstudenter på Gotland gå?")
    assert (reply.status, rule) == (Status.NO_MATCH, "region")
    assert "Region Gotland" in text and "Region Stockholm" in text


def test_uncovered_region_named_beside_a_covered_one_still_refuses(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "har Visby en alfakurs som Stockholm?")
    assert (reply.status, rule) == (Status.NO_MATCH, "region")
    assert "Region Gotland" in text
    assert "Alfakursen" in text  # what the covered region's source does say, labelled


def test_number_the_entry_never_mentions_is_not_answered(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "hur lång är steg 5 av alfakursen?")
    assert (reply.status, rule) == (Status.NO_MATCH, "number")
    assert "5" in text and "Alfakursen" in text
    assert ask(tiny, "hur lång är steg 2 av alfakursen?")[0].status is Status.ANSWER


def test_several_subjects_are_answered_together(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "vad gäller för handledare av universitetsstudenter och YH?")
    assert (reply.status, rule) == (Status.ANSWER, "several")
    assert "Alfakursen" in text and "Betakursen" in text


def test_broad_question_asks_back_and_specific_one_does_not(tiny: Engine) -> None:
    reply, rule, _ = ask(tiny, "jag handleder studenter")
    assert (reply.status, rule) == (Status.CLARIFY, "clarify")
    assert [o.value for o in reply.options] == ["role-university", "role-yh"]
    # A more specific concept than the clarification's keys: no question back (a rule, not a
    # hand-kept list of concepts).
    reply, rule, _ = ask(tiny, "jag handleder studenter på universitetet")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-university")


def test_question_of_general_words_only_asks_back_not_i_dont_know(tiny: Engine) -> None:
    # "Får jag handleda?" names no one: the clarification with that broad key asks whom.
    reply, rule, _ = ask(tiny, "får jag handleda?")
    assert (reply.status, rule) == (Status.CLARIFY, "clarify")
    assert [o.value for o in reply.options] == ["role-university", "role-yh"]
    # A word we do not know, or a region, means it is about something else: no question back.
    reply, _, _ = ask(tiny, "får jag handleda på parkeringen?")
    assert reply.status is Status.NO_MATCH


def test_who_is_a_post_asks_for_a_name_only_an_entry_naming_people_states(tiny: Engine) -> None:
    reply, _, text = ask(tiny, "vem är studierektor?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "national-directors")
    assert "Anna Ek" in text
    # The alpha course is what is asked about too, and it names no one: no name is made up
    # from the directors' entry.
    reply, rule, text = ask(tiny, "vem är studierektor för alfakursen?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "Anna Ek" not in text and "Alfakursen" in text


def test_a_key_of_general_words_is_no_answer_to_a_question_about_something_else(
    tiny: Engine,
) -> None:
    reply, _, _ = ask(tiny, "vilken kurs krävs för att handleda?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "national-requirement")
    # "Psykologer" is what this one is about, and the requirement entry never speaks of them.
    reply, rule, _ = ask(tiny, "vilken kurs krävs för att handleda psykologer?")
    assert (reply.status, rule) == (Status.NO_MATCH, "weak")


def test_a_question_about_the_sources_lists_them_with_their_dates(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "när granskades sidan om alfakursen i stockholm?")
    assert (reply.status, rule) == (Status.ANSWER, "sources")
    assert [s.title for s in reply.sources] == ["Tabell"]  # the region named: its source only
    assert "granskad 1 januari 2024" in text
    reply, _, _ = ask(tiny, "vilka källor har du?")
    assert {s.title for s in reply.sources} == {"Tabell", "Stöd", "För ST-handledare"}


def test_a_facet_in_what_the_user_tells_is_not_what_they_ask(tiny: Engine) -> None:
    # "Söka" is the trainee's plan, told in a statement; the question asks which course.
    reply, _, _ = ask(tiny, "Min student ska söka till YH. Vilken kurs behöver jag?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-yh")
    reply, rule, _ = ask(tiny, "Var ska jag söka till betakursen?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_negated_subject_is_excluded(tiny: Engine) -> None:
    reply, _, _ = ask(tiny, "inte YH utan universitetet, vilken kurs?")
    assert reply.entry_id == "role-university"
    reply, _, _ = ask(tiny, "inte universitetet utan YH – vilken kurs?")
    assert reply.entry_id == "role-yh"


def test_word_only_in_an_entry_text_finds_it(tiny: Engine) -> None:
    reply, rule, _ = ask(tiny, "återträffar medsittning")
    assert (reply.status, reply.entry_id, rule) == (Status.ANSWER, "national-strategy", "retrieval")


def test_lone_heavy_concept_among_foreign_words_is_a_guess(tiny: Engine) -> None:
    reply, rule, _ = ask(tiny, "hur skriver man en remiss om betakursen")
    assert (reply.status, rule) == (Status.NO_MATCH, "weak")


def test_who_may_supervise_whom(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "kan en ST-läkare handleda AT-läkare?")
    assert (reply.status, rule) == (Status.ANSWER, "supervision")
    assert text.startswith("Ja.")
    reply, rule, text = ask(tiny, "är det bara specialistläkare som får handleda AT-läkare?")
    assert rule == "supervision" and not text.startswith("Ja")
    assert "ST-läkare och specialistläkare" in text


def test_follow_up_keeps_the_subject(tiny: Engine) -> None:
    first = tiny.answer("vilken kurs ska handledare för universitetsstudenter gå?")
    assert first.entry_id == "role-university" and first.context
    follow, trace = tiny.explain("hur lång är den?", context=first.context)
    assert follow.status is Status.ANSWER and "3 dagar" in render_text(follow)
    assert trace.context_used
    # Without the context the same words are a broad question, not an answer.
    assert tiny.answer("hur lång är den?").status is not Status.ANSWER


def test_follow_up_keeps_the_facet_for_a_new_subject(tiny: Engine) -> None:
    first = tiny.answer("hur lång är alfakursen?")
    follow = tiny.answer("och betakursen?", context=first.context)
    # The length facet carries over, and the beta course states none: honest no-match.
    assert follow.status is Status.NO_MATCH
    assert "Betakursen" in render_text(follow)


def test_message_with_its_own_subject_stands_alone(tiny: Engine) -> None:
    first = tiny.answer("hur lång är alfakursen?")
    follow = tiny.answer("vad säger strategin?", context=first.context)
    assert follow.entry_id == "national-strategy"


OPTIONS = (
    Option("Handledare för universitetsstudenter", "role-university"),
    Option("Handledare för YH-studerande", "role-yh"),
)


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("2", "role-yh"),
        ("den andra", "role-yh"),
        ("the first one", "role-university"),
        ("den på universitetet", "role-university"),
        ("YH", "role-yh"),
        ("och för", None),  # function words never choose
        ("vad kostar det?", None),  # a new question leaves the clarification
    ],
)
def test_option_is_picked_by_number_ordinal_or_distinctive_words(
    tiny: Engine, typed: str, value: str | None
) -> None:
    picked = tiny.pick_option(OPTIONS, typed)
    assert (picked.value if picked else None) == value


def test_explain_names_the_words_candidates_and_rule(tiny: Engine) -> None:
    text = tiny.explain_text("vad kostar alfakursen?")
    assert "'kostar' -> price (facet" in text
    assert "course-alpha" in text
    assert "rule: facet" in text
    assert "reply: no_match" in text


def test_out_of_domain_gets_one_line_not_the_contact_list(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "vad blir det för väder i morgon?")
    assert (reply.status, rule, reply.kind) == (Status.NO_MATCH, "out_of_domain", "out_of_domain")
    assert "handledning" in text and "Fråga gärna" not in text


def test_the_user_says_where_they_work_and_answers_lead_with_it(engine: Engine) -> None:
    told = engine.answer("jag jobbar i Region Skåne")
    assert told.profile == {"region": "skane"} and "Region Skåne" in render_text(told)
    # Later, with that profile: the only answer is Örebro's, said to be so, not Skåne's.
    reply = engine.answer("hur ofta ska ST-handledning ske?", profile=told.profile)
    text = render_text(reply)
    assert reply.status is Status.ANSWER
    assert "inga uppgifter om detta för Region Skåne" in text and "Region Örebro län" in text
    # A region of its own in the question wins over the profile.
    named = engine.answer("hur ofta ska ST-handledning ske i Örebro?", profile=told.profile)
    assert "Region Skåne" not in render_text(named)


def test_deployment_region_is_the_default_profile() -> None:
    stockholm = Engine(load_knowledge(Path(__file__).parent.parent / "knowledge"),
                       default_region="stockholm")
    text = render_text(stockholm.answer("hur ofta ska ST-handledning ske?"))
    assert "inga uppgifter om detta för Region Stockholm" in text


def test_a_tie_is_broken_by_a_word_only_one_tied_entry_speaks_of(tiny: Engine) -> None:
    # Both entries rest on "nyanställda"; "steg" is a known word, but neither matched on it, so
    # it tells them apart by their own text (rule tie→retrieval) instead of asking back.
    reply, rule, text = ask(tiny, "vilket steg behövs för att handleda nyanställda?")
    assert (reply.status, rule, reply.entry_id) == (Status.ANSWER, "tie→retrieval", "newcomers-steps")
    assert "Steg 1" in text
    # Without such a word the two stay a tie, and the user is asked which is meant.
    reply, rule, _ = ask(tiny, "nyanställda?")
    assert (reply.status, rule) == (Status.CLARIFY, "clarify")


def test_two_regions_compared_are_answered_region_by_region(tiny: Engine) -> None:
    reply, rule, text = ask(tiny, "skillnad mellan Stockholm och Örebro för ST-handledare?")
    assert (reply.status, rule) == (Status.ANSWER, "regions")
    assert "2 dagar" in text and "Örebro universitet" in text
    # Each region's paragraph is its own, and each names its source.
    assert "Tabell" in text and "För ST-handledare" in text


def test_a_named_region_own_rule_comes_before_the_national_one(tiny: Engine) -> None:
    # National guidance fits the words, but Örebro's own page speaks of ST supervisors.
    reply, rule, text = ask(tiny, "krav på kurs för ST-handledare i Örebro?")
    assert (reply.status, rule, reply.entry_id) == (Status.ANSWER, "retrieval→region", "orebro-st-course")
    assert "Örebro universitet" in text
    # Not when the national entry alone speaks of what is asked (nothing of Örebro's on it).
    reply, _, _ = ask(tiny, "krav på kurs för handledare i Örebro?")
    assert reply.entry_id == "national-requirement"


def test_a_swedish_name_in_an_english_question_keeps_it_english(engine: Engine) -> None:
    # The name's small Swedish words ("för", "och", "i") say nothing of the asker's language.
    reply, _, text = ask(
        engine,
        "how do I apply for Högskolepedagogik för lärare och handledare i verksamhetsförlagd utbildning?",
    )
    assert (reply.status, reply.lang) == (Status.ANSWER, "en")
    assert "antagning.se" in text


def test_who_may_supervise_is_no_yes_for_someone_without_training(tiny: Engine) -> None:
    # The table says who supervises; it does not say training may be skipped.
    _, rule, text = ask(tiny, "får en specialistläkare utan kurs handleda AT-läkare?")
    assert rule != "supervision"
    assert not text.startswith("Ja")
    _, rule, text = ask(tiny, "får en specialistläkare handleda AT-läkare?")
    assert (rule, text.split(".")[0]) == ("supervision", "Ja")


def test_who_may_supervise_a_group_no_table_covers_is_not_answered(tiny: Engine) -> None:
    # The table lists supervisors of AT doctors, not of university students.
    reply, rule, text = ask(tiny, "får en specialistläkare handleda universitetsstudenter?")
    assert (reply.status, rule) == (Status.NO_MATCH, "supervision")
    assert "vem som får handleda dem" in text
    # Asked what they should take, the same group is answered.
    reply, _, _ = ask(tiny, "vilken kurs ska handledare för universitetsstudenter gå?")
    assert reply.entry_id == "role-university"


def test_a_negated_region_is_not_the_one_answered(tiny: Engine) -> None:
    # Örebro's page fits "ST" and "universitet" best, but the user rules Örebro out.
    reply, _, text = ask(tiny, "inte Örebro, vad gäller för ST på universitet?")
    assert reply.status == Status.ANSWER
    assert reply.entry_id != "orebro-st-course" and "Örebro universitet" not in text


def test_a_message_pointing_back_to_nothing_asks_which_of_those_stating_it(tiny: Engine) -> None:
    # "the course" with nothing said before: two courses state a length, so which one?
    reply, rule, text = ask(tiny, "hur lång är kursen?")
    assert (reply.status, rule) == (Status.CLARIFY, "clarify")
    assert [o.value for o in reply.options] == ["course-alpha", "course-gamma"]
    assert "Alfakursen" in text and "Gammakursen" in text
    # A price no course states is not asked back about; it is an honest no-match.
    reply, _, _ = ask(tiny, "vad kostar kursen?")
    assert reply.status is Status.NO_MATCH


def test_skip_negates_like_not(tiny: Engine) -> None:
    reply, _, _ = ask(tiny, "skip YH - which course for university students?")
    assert reply.entry_id == "role-university"


def test_a_count_written_as_a_word_is_stated(engine: Engine) -> None:
    # "fem kompetensområden" states how many areas, as "5 kompetensområden" would.
    reply, _, text = ask(
        engine, "Socialstyrelsens stöd till handledarutbildning – hur många kompetensområden bygger det på?"
    )
    assert reply.status is Status.ANSWER and "fem kompetensområden" in text


def test_a_verb_after_which_is_the_frame_not_the_thing_asked(engine: Engine) -> None:
    reply, _, _ = ask(engine, "vilka raknas som pedagogisk funktion for hogskolestudenter i sthlm?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-pedagogical-function-university")


def test_pointing_back_with_a_word_nothing_knows_is_not_asked_back(engine: Engine) -> None:
    # About parking, not about which course: an honest "I don't know", not "which course?".
    reply, _, _ = ask(engine, "var kan jag parkera vid karolinska solna nar jag gar kursen?")
    assert reply.status is Status.NO_MATCH


def test_how_many_after_the_thing_counted_is_a_count_of_it(engine: Engine) -> None:
    reply, _, text = ask(engine, "Does the Stepping stone course include seminars? how many?")
    assert reply.status is Status.ANSWER and "2 seminars" in text


def test_who_wrote_a_source_is_not_answered_with_the_list_of_sources(engine: Engine) -> None:
    # The sources give titles and dates, not who wrote Skåne's toolbox.
    reply, rule, _ = ask(engine, "Who wrote the ST supervision toolbox and when was it last updated?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    # ... while the foreword of Örebro's strategy names who signed it.
    reply, _, text = ask(engine, "vem skrev forordet till orebros utbildningsstrategi")
    assert reply.status is Status.ANSWER and "Ehnfors" in text
    # ... and "när granskades ... senast" still lists the sources with their dates.
    reply, rule, _ = ask(engine, "nar granskades sthlms sida om rekommenderad handledarutbildning senast")
    assert (reply.status, rule) == (Status.ANSWER, "sources")


def test_a_facet_of_a_group_is_not_answered_by_an_entry_naming_only_part_of_its_name(
    engine: Engine,
) -> None:
    # How often the group of directors of studies meets: the sources do not say. The entry on
    # how often ST supervision takes place speaks of a "studierektor", not of the group.
    reply, rule, _ = ask(engine, "hur ofta traffas studierektorsgruppen i orebro?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_a_number_in_what_is_ruled_out_is_not_asked_about(engine: Engine) -> None:
    reply, _, text = ask(
        engine, "inte introkursen pa 1,5 h utan den langre webbkursen fran skolverket, hur lang ar den"
    )
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-skolverket")
    assert "5–6" in text


def test_a_facet_asked_of_what_follows_it_is_that_ones(engine: Engine) -> None:
    # "hur ofta är återträffarna": how often the follow-up meetings are, which the sources do not
    # say; not how often ST supervision takes place.
    for question in (
        "hur ofta ar atertraffarna for ST-handledare i orebro?",
        "hur ofta har ni atertraffar for ST-handledare i orebro?",
        "hur ofta har st-handledarna i orebro aterträffar, varje termin?",
    ):
        reply, rule, _ = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "facet"), question


def test_a_known_word_is_not_split_into_a_compound(engine: Engine) -> None:
    assert "vision" not in engine.concepts_of("how often supervision during ST in Örebro?")


def test_an_english_question_of_unknown_words_is_answered_in_english(engine: Engine) -> None:
    reply, _, _ = ask(engine, "What's first-line antibiotic treatment for community-acquired pneumonia?")
    assert (reply.status, reply.lang) == (Status.NO_MATCH, "en")


def test_applying_to_a_course_with_a_swedish_name_is_asked_in_english(engine: Engine) -> None:
    reply, _, _ = ask(engine, "How do I apply to Högskolepedagogik för lärare och handledare i VFU?")
    assert (reply.status, reply.lang) == (Status.ANSWER, "en")


def test_a_qualifier_the_table_never_speaks_of_is_not_answered_yes(engine: Engine) -> None:
    # Stockholm's table says ST supervisors are specialists; never which specialty.
    for question in (
        "kan en specialist i en annan specialitet vara huvudhandledare för min ST?",
        "maste huvudhandledaren ha specialistkompetens i samma specialitet som ST-lakaren?",
        "Can a specialist in another specialty be the main supervisor for my ST?",
    ):
        reply, _, text = ask(engine, question)
        assert reply.status is Status.NO_MATCH, question
        assert "specialit" in text or "specialty" in text, question
    # ... while "another ST doctor" is who the table speaks of.
    reply, _, _ = ask(engine, "kan en st-lakare vara handledare for en annan st-lakare")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-st-supervisor")


def test_holding_two_roles_at_once_is_not_answered_with_both_roles(engine: Engine) -> None:
    reply, _, text = ask(engine, "får studierektorn vara handledare för ST-läkare samtidigt?")
    assert reply.status is Status.NO_MATCH and "samtidigt" in text


def test_what_is_there_is_asked_of_the_sources_words(engine: Engine) -> None:
    # Parking, a download: no source speaks of them, whatever course is named.
    for question in (
        "finns det parkering där ortopedisk medicin kursen hålls?",
        "where can I download Socialstyrelsen's support document for supervisor training?",
        "can you recommend a good lunch place near Karolinska for our handledarträff?",
        "Is lunch included during B-delmålsveckan?",
    ):
        reply, rule, _ = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "facet"), question
    # ... while something a source does speak of is answered.
    reply, _, text = ask(engine, "finns det mentorsgrupper i orebro enligt strategin?")
    assert reply.status is Status.ANSWER and "mentorsgrupper" in text


def test_who_supervises_is_not_answered_by_an_entry_naming_no_supervisors(engine: Engine) -> None:
    # The one entry on PTP is about pedagogical time, and names no supervisors.
    reply, rule, _ = ask(engine, "who supervises PTP psychologists in Örebro?")
    assert (reply.status, rule) == (Status.NO_MATCH, "supervision")


def test_a_time_of_day_is_a_detail_no_source_gives(engine: Engine) -> None:
    reply, rule, text = ask(engine, "vilken tid borjar B-delmalsveckan pa mandagen?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "klockslag" in text and "22 april" in text  # and what the source does say


def test_a_run_of_days_states_how_many_days(engine: Engine) -> None:
    reply, _, text = ask(engine, "B-delmalsveckan, hur manga dagar ar den?")
    assert reply.status is Status.ANSWER and "22 april" in text and "26 april" in text


def test_a_year_asked_of_the_past_is_stated_by_a_year(engine: Engine) -> None:
    reply, _, text = ask(engine, "vilket år började SoS jobba med stödet till handledarutbildning?")
    assert reply.status is Status.ANSWER and "2016" in text


def test_a_question_that_names_too_little_is_asked_back(engine: Engine) -> None:
    for question in ("vem ar kontaktperson?", "is it mandatory?", "vilken mall ska jag anvanda"):
        reply, rule, _ = ask(engine, question)
        assert (reply.status, rule) == (Status.CLARIFY, "clarify"), question
        assert len(reply.options) >= 2, question
    # ... but a doctor's level asks for the training itself, which the sources do not describe.
    assert ask(engine, "Hur lång är BT?")[0].status is Status.NO_MATCH
    # ... and a word none of the entries uses is what is asked.
    assert ask(engine, "hur mycket semester har man som ssk i regionen")[0].status is Status.NO_MATCH


def test_an_inflected_word_is_not_read_as_a_region(engine: Engine) -> None:
    reply, _, text = ask(engine, "vo-college steg 1 o 2 – hur manga av dagarna ar sjalvstudier?")
    assert reply.status is Status.ANSWER and "självstudier" in text
    assert "Dalarna" not in text


def test_a_patient_case_is_not_answered_because_it_says_st(engine: Engine) -> None:
    reply, _, _ = ask(engine, "pat med bröstsmärta och ST-höjning på EKG, vad gör jag först?")
    assert reply.status is Status.NO_MATCH


def test_who_may_hold_a_role_is_not_answered_with_what_the_role_does(engine: Engine) -> None:
    for question in ("Who is allowed to act as external assessor in BT?", "who is allowed to be AKA?"):
        reply, rule, text = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "facet"), question
        assert "who may hold that role" in text, question
    # ... while a role whose table names who may supervise is answered.
    reply, _, text = ask(engine, "who may be a supervisor for BT doctors?")
    assert reply.status is Status.ANSWER and "specialist" in text.lower()


def test_the_entry_using_the_questions_own_words_is_the_one_asked_about(engine: Engine) -> None:
    reply, _, text = ask(engine, "Who was in the expert group behind Socialstyrelsen's support?")
    assert reply.status is Status.ANSWER and "expert group" in text


def test_one_entry_keyed_on_what_a_short_question_names_answers_it(engine: Engine) -> None:
    reply, _, _ = ask(engine, "hur ofta ska man göra bedömningar?")
    assert reply.status is Status.ANSWER
    # ... but not when a word of the question is only part of one of its words.
    assert ask(engine, "hur mycket friskvardsbidrag far man")[0].status is Status.NO_MATCH


def test_an_entry_found_by_its_words_must_state_what_is_asked(engine: Engine) -> None:
    # Örebro's page on time for ST supervision gives no length of a session.
    reply, rule, _ = ask(engine, "hur många timmar per gång ska ST-handledningen i Örebro vara?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_what_the_question_rules_out_is_not_offered(engine: Engine) -> None:
    reply, _, text = ask(engine, "except the intro course, which Stockholm courses are web-based?")
    assert reply.status is Status.ANSWER and "Skolverket" in text
    # ... while an entry also named by what is kept still answers.
    reply, _, text = ask(engine, "inte steg 1 eller 2, vad ger steg 3?")
    assert reply.status is Status.ANSWER and "3" in text


def test_only_general_words_and_words_no_source_uses_is_not_asked_back(engine: Engine) -> None:
    reply, _, _ = ask(engine, "how do I book train + hotel for the handledarkurs?")
    assert reply.status is Status.NO_MATCH


def test_which_regions_are_covered_lists_the_sources(engine: Engine) -> None:
    reply, rule, text = ask(engine, "utom Skåne, vilka regioner har ni info om?")
    assert (reply.status, rule) == (Status.ANSWER, "sources")
    assert "Stockholm" in text and "Örebro" in text


def test_who_may_hold_a_role_is_answered_by_an_entry_speaking_of_it(engine: Engine) -> None:
    # Örebro's VO-college steps say which step lets you supervise YH students.
    reply, _, text = ask(engine, "vem får vara handledare för yh-studerande enligt VO-college stegen?")
    assert reply.status is Status.ANSWER and "steg 2" in text.lower()


def test_a_contact_is_a_detail_the_entry_must_give(engine: Engine) -> None:
    # The Stepping stones course names no contact person: say so, and whom to ask instead.
    reply, rule, text = ask(engine, "vem är kontaktperson för stepping stones i sthlm?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "kontaktperson" in text
    # ... while the group of directors of studies in Örebro names one.
    reply, _, text = ask(engine, "vem är kontaktperson för ST i Örebro?")
    assert reply.status is Status.ANSWER and "Södergren" in text


def test_a_would_be_holder_described_by_words_no_source_uses_is_not_answered(engine: Engine) -> None:
    reply, rule, text = ask(engine, "får pensionerade läkare vara ST-handledare?")
    assert (reply.status, rule) == (Status.NO_MATCH, "supervision") and "pensionerade" in text
    # ... not even where the supervision table would say yes to the level named.
    reply, _, text = ask(engine, "får en pensionerad överläkare vara huvudhandledare för en ST?")
    assert reply.status is Status.NO_MATCH and "pensionerad" in text
    reply, _, text = ask(engine, "can a retired specialist keep being an ST supervisor?")
    assert reply.status is Status.NO_MATCH and "retired" in text


def test_class_nouns_and_what_holds_are_not_what_is_asked(engine: Engine) -> None:
    reply, _, text = ask(engine, "Which body adopted Region Örebro län's education strategy?")
    assert reply.status is Status.ANSWER and "Forsknings- och utbildningsnämnden" in text
    reply, _, _ = ask(engine, "Not for students – for newly employed staff, which VO-college step applies?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "orebro-vo-college-steps")


def test_who_the_teachers_are_is_a_detail_the_sources_do_not_give(engine: Engine) -> None:
    reply, rule, text = ask(engine, "Who are the teachers on Skolverket's national supervisor course?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet") and "who teaches" in text


def test_a_number_written_as_a_word_is_a_number_the_entry_mentions(engine: Engine) -> None:
    # The strategy names "fyra prioriterade utvecklingsområden": 4 is mentioned.
    reply, _, _ = ask(engine, "vilka 4 prioriterade utvecklingsomraden finns i orebros utbildningsstrategi?")
    assert reply.status is Status.ANSWER
    # ... and "fem kompetensområden" counts "områden", while "360-gradersbedömning" counts nothing.
    reply, _, text = ask(engine, "hur manga omraden pekar socialstyrelsen ut for vad en handledarutbildning bor omfatta?")
    assert reply.status is Status.ANSWER and "fem" in text
    assert ask(engine, "hur manga bedomningar per ar ska en ST-lakare ha?")[0].status is Status.NO_MATCH


def test_how_a_course_is_examined_is_a_detail_no_source_gives(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "hur examineras stepping stones? hemtenta eller muntligt?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_a_cadence_states_how_often(engine: Engine) -> None:
    reply, _, text = ask(engine, "In the Skåne toolbox, how often are you supposed to book the time for the next meeting?")
    assert reply.status is Status.ANSWER and "every meeting" in text


def test_a_mobile_number_is_a_contact_detail(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "torbjörn södergrens mobilnummer?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_a_tie_is_broken_by_the_entry_whose_own_words_name_every_step(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "vad ger steg 1, steg 2 resp steg 3 i VO-colleges handledarutb behörighet till?")
    assert (reply.status, rule, reply.entry_id) == (Status.ANSWER, "tie→number", "orebro-vo-college-steps")


def test_which_ones_asked_in_the_plural_are_all_answered(engine: Engine) -> None:
    reply, rule, text = ask(
        engine, "alla roller utom läkare – vilka av stockholms rekommenderade handledarutbildningar är webbaserade?"
    )
    assert (reply.status, rule) == (Status.ANSWER, "several")
    assert "Skolverket" in text and "Introduktion till handledning" in text


def test_supervising_without_something_the_sources_never_mention_is_not_answered(engine: Engine) -> None:
    reply, _, text = ask(engine, "får en underläkare utan leg handleda sjuksköterskestudenter?")
    assert reply.status is Status.NO_MATCH and "utan leg" in text
    # ... while "inte X utan Y" is a contrast, not a qualifier.
    reply, _, _ = ask(engine, "jag ar inte lakare utan usk som handleder APL-elever, vad ska jag ga for handledarutb?")
    assert reply.status is Status.ANSWER


def test_two_student_groups_named_apart_are_answered_each(engine: Engine) -> None:
    reply, rule, text = ask(
        engine, "vilken utbildning ska handledare for YH-studerande resp. universitetsstudenter ga i Stockholm?"
    )
    assert (reply.status, rule) == (Status.ANSWER, "several")
    assert "Vård- och omsorgscollege" in text and "Stepping stone" in text


def test_the_other_one_is_the_entry_left_when_one_is_ruled_out(engine: Engine) -> None:
    reply, rule, text = ask(engine, "Not the orthopaedic medicine course, the other one in April – when is it?")
    assert (reply.status, rule, reply.entry_id) == (
        Status.ANSWER, "answer (the other one)", "course-orebro-b-delmalsveckan"
    )
    assert "22 April" in text


def test_a_course_named_with_kursen_is_that_course(engine: Engine) -> None:
    reply, _, _ = ask(engine, "Hur söker man högskolepedagogikkursen för VFU-handledare?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-hogskolepedagogik")


def test_a_tie_is_broken_by_the_entry_named_by_its_own_name(engine: Engine) -> None:
    reply, rule, text = ask(engine, "hogskolepedagogik VFU kursen, hur manga veckor heltid?")
    assert (reply.status, rule, reply.entry_id) == (Status.ANSWER, "tie→name", "course-hogskolepedagogik")
    assert "5 veckor" in text


def test_who_may_supervise_needs_a_question_of_permission(engine: Engine) -> None:
    # "specialistläkare som handleder ST" describes someone; it asks nothing of who may.
    reply, rule, _ = ask(
        engine, "handledarutb för specialistläkare som handleder ST och för studentansvarig ssk - vad gäller?"
    )
    assert reply.status is Status.ANSWER and rule != "supervision"
    reply, rule, _ = ask(engine, "kan en ST-läkare handleda AT-läkare?")
    assert (reply.status, rule) == (Status.ANSWER, "supervision")


def test_a_holder_the_supervision_table_does_not_list_is_not_answered(engine: Engine) -> None:
    # The table lists doctors' levels; a nurse is not among them, and the role never names one.
    reply, _, text = ask(engine, "Can a nurse be the main supervisor for an ST doctor?")
    assert reply.status is Status.NO_MATCH and "nurse" in text
    reply, _, text = ask(engine, "can a nurse supervise a BT doctor?")
    assert reply.status is Status.NO_MATCH and "nurse" in text


def test_a_profession_asked_to_supervise_others_students_is_not_answered(engine: Engine) -> None:
    # The sources give courses for supervisors, not who may supervise whom.
    for question in (
        "får en sjuksköterska handleda läkarstudenter?",
        "kan en undersköterska handleda sjuksköterskestudenter?",
    ):
        reply, rule, _ = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "supervision"), question
    # ... while asking what it takes is answered.
    reply, _, _ = ask(engine, "far en usk handleda elever pa APL, vad behover hen for utb?")
    assert reply.status is Status.ANSWER


def test_a_deliberate_no_match_is_not_widened_with_the_last_subject(engine: Engine) -> None:
    # After an answer about Stepping stones, "can a nurse supervise a BT doctor?" is still the
    # honest no-match it is alone, not an answer about both.
    first = engine.answer("hur lång är stepping stones?")
    reply = engine.answer("can a nurse supervise a BT doctor?", context=first.context)
    assert reply.status is Status.NO_MATCH


def test_an_acronym_typed_in_capitals_names_its_role(engine: Engine) -> None:
    # "AT" in capitals is the AT doctors' role even in English, where "at" is a preposition.
    reply, _, _ = ask(engine, "Not ST but AT – what training for supervisors?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-at-supervisor")
    # ... and the preposition in lower case names nothing.
    reply, _, _ = ask(engine, "I work at a clinic – what training for supervisors?")
    assert reply.entry_id != "role-at-supervisor"


def test_a_national_rule_asked_of_an_uncovered_region_is_answered(engine: Engine) -> None:
    # Socialstyrelsen's rules apply in every region: asked of them by name, they are the answer.
    reply, rule, text = ask(
        engine, "jobbar i dalarna - vilka omraden ska en ST-handledarutbildning ta upp enligt socialstyrelsen?"
    )
    assert (reply.status, rule) == (Status.ANSWER, "region → national")
    assert "Region Dalarna" in text and "Etik och kommunikation" in text
    # ... asked of the region itself, its own rule is still unknown: a no-match that still
    # gives the national rule, and never another region's guidance.
    reply, rule, text = ask(engine, "What supervisor training is required for ST supervisors in Region Uppsala?")
    assert (reply.status, rule) == (Status.NO_MATCH, "region")
    assert "Region Uppsala" in text and "must have supervisor training" in text
    assert all("Stockholm" not in s.scope for s in reply.sources)


def test_a_tie_goes_to_the_key_that_accounts_for_more(engine: Engine) -> None:
    # Both rest on "handledarutbildning för ST"; only one also accounts for the training.
    reply, rule, text = ask(engine, "vad bör en handledarutbildning för ST innehålla?")
    assert (reply.status, rule, reply.entry_id) == (
        Status.ANSWER, "tie→wider key", "national-five-competence-areas"
    )
    assert "Metoder för kompetensbedömning" in text


def test_a_regions_entry_is_ranked_by_the_fields_words_too(engine: Engine) -> None:
    # "supervisor training" tells Örebro's ST supervisors' course from its orthopaedics course.
    reply, _, text = ask(engine, "Who gives the ST supervisor training in Region Örebro län?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-orebro-st-handledarutbildning")
    assert "Örebro universitet" in text


def test_an_online_version_asked_of_a_course_without_a_form_is_not_answered(engine: Engine) -> None:
    reply, rule, text = ask(engine, "Finns det en e-learning-version av AT-handledarkursen i Stockholm?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "webbkurs" in text


def test_besides_rules_out_what_it_names(engine: Engine) -> None:
    reply, _, text = ask(engine, "Besides Skåne, which regions do you have info on?")
    assert reply.status is Status.ANSWER
    assert "Stockholm" in text and "Örebro" in text


def test_something_for_it_with_nothing_said_before_is_asked_back(engine: Engine) -> None:
    # A template for what? Several entries speak of templates.
    reply, rule, text = ask(engine, "is there a template for it?")
    assert (reply.status, rule) == (Status.CLARIFY, "clarify")
    assert "Örebro" in text and "Skåne" in text
    # ... while a template named for something is answered.
    reply, _, _ = ask(engine, "is there a template for sitting in (medsittning) in Örebro?")
    assert reply.status is Status.ANSWER


def test_a_count_asked_of_the_one_entry_keyed_on_it_is_answered(engine: Engine) -> None:
    # "How many times during ST?" names only the count's span; one entry is keyed on it.
    reply, _, text = ask(engine, "hur manga ganger ska det goras under ST?")
    assert reply.status is Status.ANSWER
    assert "tre gånger" in text and "två gånger" in text


def test_a_decimal_point_does_not_end_a_clause(engine: Engine) -> None:
    # "Apart from the 1.5 h intro" is one clause: the intro course is what is ruled out.
    reply, _, text = ask(engine, "Apart from the 1.5 h intro, what other web-based course is there?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-skolverket")
    assert "Skolverket" in text


def test_a_clarification_none_of_whose_options_speaks_of_the_question_is_not_offered(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "Can a psychologist supervise PTP psychologists, and what training do they need?")
    assert (reply.status, rule) == (Status.NO_MATCH, "weak")
    # ... while a question its options do speak of is still asked back.
    reply, _, _ = ask(engine, "vilken handledarutbildning ska jag gå?")
    assert reply.status is Status.CLARIFY


def test_a_facet_alone_is_asked_back_about(engine: Engine) -> None:
    # "Hur ofta?" alone: the sources say how often of several things.
    for question in ("hur ofta?", "How often should we do it?"):
        reply, rule, _ = ask(engine, question)
        assert (reply.status, rule) == (Status.CLARIFY, "clarify"), question
        assert len(reply.options) >= 3


def test_a_subject_the_generic_fit_never_speaks_of_is_not_answered(engine: Engine) -> None:
    # Only "how often" and "meet" fit Örebro's page on ST supervision; AT it never speaks of.
    reply, _, _ = ask(engine, "hur ofta ska jag träffa min AT-läkare?")
    assert reply.status is Status.NO_MATCH
    reply, _, text = ask(engine, "hur ofta ska jag träffa min ST-läkare i Örebro?")
    assert reply.status is Status.ANSWER and "vecka" in text


def test_a_facet_with_only_a_light_concept_asks_which_entry(engine: Engine) -> None:
    # "kursdatum?": only the courses that give dates are meant.
    reply, rule, text = ask(engine, "kursdatum?")
    assert (reply.status, rule) == (Status.CLARIFY, "clarify")
    assert "B-delmålsveckan" in text


def test_the_other_course_of_a_group_is_the_one_not_ruled_out(engine: Engine) -> None:
    # University students' supervisors' courses are Stepping stones and the 7.5 hp course.
    reply, rule, text = ask(engine, "inte stepping stones utan den längre högskolekursen – hur söker jag?")
    assert (reply.status, rule, reply.entry_id) == (
        Status.ANSWER, "answer (the other course)", "course-hogskolepedagogik"
    )
    assert "antagning.se" in text
    reply, _, text = ask(engine, "inte skolverkets kurs, utan den andra för gymnasie/vux – hur lång?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-vo-college")
    assert "5 dagar" in text


def test_the_article_named_as_the_source_is_no_subject(engine: Engine) -> None:
    # "the article on the support" names where it is said, not articles as a supervision topic.
    reply, _, text = ask(engine, "When did the new ST including BT start, according to the article on the support?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "national-new-st-with-bt")
    assert "July 2021" in text


def test_an_entry_holding_the_questions_unknown_words_and_its_subject_answers(engine: Engine) -> None:
    # Only "delar" and "stödet" fit a key (the five areas); "komplettera", "befintlig" and
    # "vissa" are the support entry's own words, beside "delar" and "stödet".
    reply, rule, _ = ask(engine, "kan vi komplettera var befintliga handledarkurs med bara vissa delar av stodet?")
    assert (reply.status, rule, reply.entry_id) == (
        Status.ANSWER, "answer→own words", "national-socialstyrelsen-support"
    )


def test_who_may_supervise_a_group_no_source_says_is_not_answered(engine: Engine) -> None:
    # The sources recommend courses for supervisors of students; who may supervise nursing or
    # dental students, or an AKA, they never say.
    for question in (
        "Who is allowed to supervise nursing students on their clinical placement?",
        "vem får handleda tandläkarstudenter?",
        "vem far handleda en AKA?",
    ):
        reply, rule, _ = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "supervision"), question
    # ... while groups whose supervisors a source names are answered.
    assert ask(engine, "vem får handleda AT-läkare?")[0].status is Status.ANSWER
    assert ask(engine, "vem får handleda YH-studerande?")[0].status is Status.ANSWER


def test_how_something_is_given_is_stated_by_an_entry_that_says_so(engine: Engine) -> None:
    reply, _, text = ask(engine, "hur ges fortbildning for ST-handledare i orebro?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "orebro-st-fortbildning")
    assert "återträffar" in text
    # ... but remote or on site it never says.
    reply, rule, _ = ask(engine, "ges fortbildningen på distans i örebro?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_national_guidance_asked_for_as_such_steers_like_a_region(engine: Engine) -> None:
    reply, rule, text = ask(
        engine, "I work in Västerbotten. Is supervisor training mandatory for ST supervisors nationally?"
    )
    assert (reply.status, rule, reply.entry_id) == (
        Status.ANSWER, "region → national", "national-st-foreskrifter-krav"
    )
    assert "Västerbotten" in text
    reply, _, _ = ask(engine, "vad gäller nationellt för ST-handledare?")
    assert reply.entry_id == "national-st-foreskrifter-krav"


def test_a_quoted_name_does_not_tell_the_language(engine: Engine) -> None:
    reply, _, _ = ask(engine, "what is 'verksamhetsintegrerat lärande – introduktion till handledning'?")
    assert (reply.status, reply.lang) == (Status.ANSWER, "en")


def test_a_qualifier_the_entry_uses_as_a_function_word_is_stated(engine: Engine) -> None:
    # Örebro's course page says "or another comparable training".
    reply, _, text = ask(
        engine, "Does the Orebro ST supervisor course have to be the one with Örebro universitet or can it be another one?"
    )
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-orebro-st-handledarutbildning")
    assert "comparable" in text


def test_a_would_be_holder_no_concept_explains_is_not_answered_by_the_table(engine: Engine) -> None:
    reply, rule, text = ask(engine, "far en psykolog vara handledare for ST-lakare i psykiatri")
    assert (reply.status, rule) == (Status.NO_MATCH, "supervision")
    assert "psykolog" in text


def test_the_same_recommendation_for_two_groups_one_entry_covers_is_answered(engine: Engine) -> None:
    reply, _, text = ask(engine, "galler samma rekommendation for handledare inom vuxenutbildning som inom gymnasieskolan?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-upper-secondary-adult-ed")
    assert "vuxenutbildning" in text
    # ... but "the same specialty" the table never speaks of.
    reply, _, _ = ask(engine, "Does the main ST supervisor have to be a specialist in the same specialty as the ST?")
    assert reply.status is Status.NO_MATCH


def test_asked_where_a_word_is_mentioned_the_one_word_is_enough(engine: Engine) -> None:
    reply, rule, text = ask(engine, "namns PTP nagonstans och i vilket sammanhang?")
    assert (reply.status, rule) == (Status.ANSWER, "retrieval")
    assert "PTP" in text


def test_a_task_asked_of_the_bot_is_declined(engine: Engine) -> None:
    for question in (
        "gor ett jourschema for nasta vecka at oss",
        "kan du skriva ett mejl till min chef om ledighet?",
        "kan du skriva min arliga ST-rapport at mig?",
    ):
        reply, rule, text = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "task"), question
        assert "schema" in text
    # ... while a question that opens with "gör man/gör en X" or asks how is a question.
    assert ask(engine, "gör man bedömning varje år?")[1] != "task"
    assert ask(engine, "gör en ST-läkare bedömningen själv?")[1] != "task"
    assert ask(engine, "boka en plats på stepping stones, hur gör man?")[1] != "task"


def test_whether_something_is_required_in_an_uncovered_region_is_the_national_rule(engine: Engine) -> None:
    reply, rule, text = ask(engine, "maste ST-handledare i vasterbotten ha gatt handledarutbildning?")
    assert (reply.status, rule, reply.entry_id) == (
        Status.ANSWER, "region → national", "national-st-foreskrifter-krav"
    )
    assert "Västerbotten" in text and "Stockholm" not in text
    # ... while "which training" asks for the region's own rule.
    assert ask(engine, "What supervisor training is required for ST supervisors in Region Uppsala?")[0].status is Status.NO_MATCH


def test_a_count_of_steps_is_answered_by_the_entry_that_counts_them(engine: Engine) -> None:
    reply, _, text = ask(engine, "hur manga steg finns i vo-colleges handledarutbildning")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "orebro-vo-college-steps")
    assert "Steg 3" in text


def test_whether_a_bt_supervisor_must_be_a_specialist_is_the_tables(engine: Engine) -> None:
    reply, _, text = ask(engine, "maste BT-handledaren vara fardig specialist?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-bt-supervisor")
    assert "ST-läkare" in text


def test_whose_task_it_is_to_create_the_conditions_is_orebros_responsibilities(engine: Engine) -> None:
    reply, _, text = ask(engine, "vem ska skapa forutsattningar for klinisk utbildning ute i verksamheten?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "orebro-responsibilities")
    assert "verksamhetschef" in text


def test_which_university_gives_a_course_without_a_provider_is_not_answered(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "vilket universitet ger stepping stones kurserna?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_being_a_supervisor_for_a_group_is_supervising_it(engine: Engine) -> None:
    # "vara handledare åt" asks what "handleda" asks: no table covers medical students.
    reply, rule, _ = ask(engine, "kan en AT-lakare vara handledare at lakarstudenter pa VFU?")
    assert (reply.status, rule) == (Status.NO_MATCH, "supervision")


def test_a_yes_no_question_after_the_region_it_names_gets_the_national_rule(engine: Engine) -> None:
    reply, rule, _ = ask(
        engine, "I'm in Varmland - does the requirement for supervisor training apply to studierektorer too?"
    )
    assert (reply.status, rule) == (Status.ANSWER, "region → national")


def test_other_than_rules_out_what_it_names(engine: Engine) -> None:
    reply, _, text = ask(engine, "Other than the 1,5 h intro, is there a longer web course for supervisors in Stockholm?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-skolverket")
    assert "Skolverket" in text


def test_who_may_be_a_supervisor_asked_with_what_it_takes_is_answered(engine: Engine) -> None:
    reply, _, text = ask(engine, "Who can act as supervisor for YH students, which step do they need?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-yh")
    assert "steps 1 and 2" in text


def test_the_head_of_an_entrys_compound_is_a_word_it_uses(engine: Engine) -> None:
    # "nivå" is the head of the intro course's "miniminivån".
    reply, _, _ = ask(engine, "vilken niva ar introkursen pa lartorget tankt som, for vilka medarbetare?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-intro-handledning")


def test_a_share_of_self_study_is_stated_by_the_course(engine: Engine) -> None:
    reply, _, text = ask(engine, "VO-college steg 1 och 2 - hur stor del ar sjalvstudier?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-vo-college")
    assert "2 dagar självstudier" in text


def test_salary_setting_is_not_sitting_in(engine: Engine) -> None:
    reply, _, _ = ask(engine, "Do pedagogical assignments count for salary setting in Region Orebro?")
    assert (reply.status, reply.lang, reply.entry_id) == (Status.ANSWER, "en", "orebro-pedagogical-assignments")


def test_terms_of_employment_are_a_detail_no_source_gives(engine: Engine) -> None:
    for question in ("hur sager jag upp min AT-tjanst?", "hur lång uppsägningstid har man i region stockholm?"):
        reply, rule, text = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "facet"), question
        assert "anställningsvillkor" in text


def test_who_may_hold_a_role_asked_with_its_requirements_needs_a_role_that_recommends_a_course(engine: Engine) -> None:
    # External assessors in BT: the support entry speaks of them, no role recommends a course.
    reply, rule, _ = ask(engine, "vem far vara extern bedomare i BT, vilka krav finns pa den personen?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")


def test_which_other_x_asks_for_an_x(engine: Engine) -> None:
    reply, _, text = ask(engine, "forutom specialistkollegium, vilken annan bedomning tar skane upp under ST?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "cadence-during-st")
    assert "360" in text


def test_how_often_orebros_course_is_given_is_what_the_page_says(engine: Engine) -> None:
    reply, _, text = ask(engine, "handledarutbildningen som ges med orebro universitet for ST-handledare, hur ofta ges den?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "course-orebro-st-handledarutbildning")
    assert "regelbundet" in text


def test_an_uncovered_region_compared_with_a_covered_one_is_not_answered_with_it(engine: Engine) -> None:
    reply, rule, text = ask(engine, "Does Region Gotland have a studierektor group for ST like Orebro does?")
    assert (reply.status, rule) == (Status.NO_MATCH, "region")
    assert "Gotland" in text and "Örebro" in text  # what Örebro's page says, beside the no-match


def test_who_may_hold_a_role_in_a_region_is_not_any_page_of_that_region(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "vem far vara handledare for BT-lakare i orebro?")
    assert (reply.status, rule) == (Status.NO_MATCH, "region")


def test_a_task_done_for_someone_is_declined(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "kan du skriva specialistintyget at min ST-lakare?")
    assert (reply.status, rule) == (Status.NO_MATCH, "task")


def test_who_may_supervise_whom_in_a_region_without_a_table_is_not_its_nearest_page(engine: Engine) -> None:
    """Örebro's pages speak of supervising ST, never of who supervises AT or BT: only Region
    Stockholm's table says, and that is given as Stockholm's, beside the no-match."""
    for question in ("i Region Örebro län, får en ST-läkare handleda AT-läkare?",
                     "får en specialist handleda BT-läkare i Skåne?"):  # fmt: skip
        reply, rule, text = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "region"), question
        assert "Region Stockholm" in text and not text.startswith("Ja.")
    reply, rule, text = ask(engine, "får en ST-läkare handleda AT-läkare i Stockholm?")
    assert (reply.status, rule) == (Status.ANSWER, "supervision")
    assert text.startswith("Ja.")


def test_the_noun_supervision_asks_no_permission_to_supervise(engine: Engine) -> None:
    reply, _, text = ask(engine, "får ST-handledningen i Örebro äta upp min tid för eget administrativt arbete?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "orebro-st-time-allocated")
    assert "administrativt arbete" in text


def test_a_direct_number_the_sources_do_not_give_is_an_honest_no_match(engine: Engine) -> None:
    reply, rule, text = ask(engine, "vad har Torbjörn Södergren för direktnummer?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "telefonnummer" in text


def test_a_region_opening_the_message_is_read_as_if_it_ended_it(engine: Engine) -> None:
    """"I Skåne, vem får ...?" is the question "vem får ...?" asked of Skåne: the rules that
    read how a question opens still see its question word."""
    for opened, ended in (
        ("I Skåne, vem får vara huvudhandledare för en BT-läkare?",
         "vem får vara huvudhandledare för en BT-läkare i Skåne?"),
        ("Stockholm – hur lång är intro till handledning?",
         "hur lång är intro till handledning i Stockholm?"),
    ):  # fmt: skip
        first, _, first_text = ask(engine, opened)
        second, _, second_text = ask(engine, ended)
        assert (first.status, first.entry_id) == (second.status, second.entry_id), opened
        assert first_text == second_text
    reply, rule, _ = ask(engine, "I Skåne, vem får vara huvudhandledare för en BT-läkare?")
    assert (reply.status, rule) == (Status.NO_MATCH, "region")


def test_supervising_someone_no_source_speaks_of_is_not_asked_back(engine: Engine) -> None:
    """"Får en sjuksköterska vara handledare för en PTP-psykolog?": no source speaks of
    supervising PTP psychologists; asking back which students the nurse supervises is no help."""
    for question in ("får en sjuksköterska vara handledare för en PTP-psykolog?",
                     "får en sjuksköterska handleda en PTP-psykolog?"):  # fmt: skip
        reply, rule, text = ask(engine, question)
        assert (reply.status, rule) == (Status.NO_MATCH, "supervision"), question
        assert "vem som får handleda" in text
    reply, _, _ = ask(engine, "får en sjuksköterska handleda sjuksköterskestudenter?")
    assert reply.status is Status.ANSWER


def test_which_groups_is_answered_by_the_entry_naming_them(engine: Engine) -> None:
    for question in (
        "In Örebro's strategy, which groups might also get time for pedagogical work like AT doctors do?",
        "vilka andra grupper än AT föreslås kunna få tid för pedagogiskt arbete i Örebros strategi?",
    ):
        reply, _, text = ask(engine, question)
        assert (reply.status, reply.entry_id) == (
            Status.ANSWER, "orebro-pedagogical-time-ptp-nurses"
        ), question
        assert "PTP" in text


def test_a_national_rule_is_no_answer_to_an_uncovered_region_asking_what_it_never_says(
    engine: Engine,
) -> None:
    """The ST regulations apply in Gotland too, but they say supervisors must have training,
    never with whom it is given: "no sources from Region Gotland", not the regulations."""
    reply, rule, text = ask(
        engine, "Region Gotland: does the ST supervisor course have to be given together with a university?"
    )
    assert (reply.status, rule) == (Status.NO_MATCH, "region")
    assert "Gotland" in text
    # What the national rule does speak of is still answered for an uncovered region.
    reply, _, text = ask(engine, "måste ST-handledare i Västerbotten ha gått handledarutbildning?")
    assert reply.status is Status.ANSWER and "Socialstyrelsen" in text


def test_where_exactly_a_course_is_held_is_a_detail_the_sources_do_not_give(engine: Engine) -> None:
    reply, rule, text = ask(
        engine, "Where exactly (building/room) is the Ortopedisk medicin course for ST doctors in primary care held?"
    )
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "Ortopedisk medicin" in text  # what the sources do say of it, beside the no-match


def test_a_regions_page_on_other_trainees_is_no_answer_about_these(engine: Engine) -> None:
    """Skåne's pages are about ST: the nearest of them is no answer to what it takes to
    supervise nursing students there."""
    reply, _, text = ask(engine, "Region Skåne: vilka krav finns för att få handleda sjuksköterskestudenter?")
    assert reply.status is Status.NO_MATCH
    assert "Region Stockholm" in text and "verktygslåda för ST-handledare är du" not in text


def test_at_typed_with_its_a_ring_is_the_preposition_not_the_abbreviation(engine: Engine) -> None:
    """"handledare åt BT-läkare" asks about BT only; "at bt" is a term of AT ("AT/BT")."""
    reply, rule, text = ask(engine, "Örebro – vem får vara handledare åt BT-läkare?")
    assert (reply.status, rule) == (Status.NO_MATCH, "region")
    assert "AT-läkare" not in text
    reply, _, _ = ask(engine, "vem får vara handledare åt AT-läkare?")
    assert (reply.status, reply.entry_id) == (Status.ANSWER, "role-at-supervisor")


def test_who_may_supervise_in_a_region_is_not_its_nearest_page(engine: Engine) -> None:
    """Only a page stating who may supervise whom answers it for a region: Skåne's ST toolkit
    uses the verb but never says; Örebro's VO-college steps do."""
    for question in ("Vem får handleda en ST-läkare i Skåne? vilka krav finns på handledaren?",
                     "vem får handleda BT-läkare i region skåne?"):  # fmt: skip
        reply, _, text = ask(engine, question)
        assert reply.status is Status.NO_MATCH, question
        assert "verktygslåda" not in text.split("\n")[0]
    reply, _, text = ask(
        engine, "Who is allowed to supervise APL students from Vård- och omsorgscollege, according to Region Örebro?"
    )
    assert reply.status is Status.ANSWER and "Örebro" in text


def test_the_device_a_course_is_taken_on_is_a_detail_the_sources_do_not_give(engine: Engine) -> None:
    reply, rule, text = ask(engine, "funkar introduktion till handledning i mobilen eller måste man sitta vid dator?")
    assert (reply.status, rule) == (Status.NO_MATCH, "facet")
    assert "webbaserad" in text  # what the sources do say of it


def test_the_region_named_after_whom_is_supervised_is_not_who_is_supervised(engine: Engine) -> None:
    reply, rule, _ = ask(engine, "får en sjuksköterska handleda en PTP-psykolog i Skåne?")
    assert (reply.status, rule) == (Status.NO_MATCH, "supervision")

"""Every fixed phrase the bot says, one table per language. Facts never live here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import CourseFact, Lang


@dataclass(frozen=True, slots=True)
class Wording:
    source: str
    sources: str
    # The source's own date ("källans datum: sidan senast granskad 18 december 2023").
    source_date: str
    # When the answer was last checked against the source: our date, never the source's.
    reviewed: str
    scope: str
    provider: str
    format: str
    duration: str
    credits: str
    apply: str
    link: str
    prerequisites: str
    choose_number: str
    choose_button: str  # the submit button under a list of options
    dont_know: str
    ask_instead: str
    unsupported_detail: str
    other_region: str
    no_region_sources: str
    national_applies: str
    nationally: str
    not_a_task: str
    covered_regions: str
    unstated_number: str
    what_sources_say: str
    several_lead: str
    regions_lead: str
    # The lead of the reply listing the sources ("när granskades sidan?", "vilka källor har du?").
    sources_lead: str
    supervision_yes: str
    region_noted: str
    out_of_domain: str
    supervision_listed: str
    intro: str
    examples: tuple[str, ...]
    thanks: str
    more_detail: str
    option_not_understood: str
    which_one: str
    examples_lead: str
    this_subject: str
    saved_file: str
    patient_data: str
    rate_limited: str
    too_long: str
    admin_refused: str
    admin_help: str
    reload_ok: str
    reload_failed: str
    rate_prompt: str
    rate_up: str
    rate_down: str
    rating_thanks: str
    stats: str


WORDING: dict[Lang, Wording] = {
    "sv": Wording(
        source="Källa",
        sources="Källor",
        source_date="källans datum",
        reviewed="svaret kontrollerat mot källan",
        scope="Gäller",
        provider="Anordnare",
        format="Form",
        duration="Omfattning",
        credits="Poäng",
        apply="Ansökan",
        link="Länk",
        prerequisites="Förkunskaper",
        choose_number="Svara med en siffra eller skriv med egna ord.",
        choose_button="Välj",
        dont_know="Det vet jag tyvärr inte – det finns inte i mina källor, och jag vill inte gissa.",
        ask_instead="Fråga gärna",
        unsupported_detail="Mina källor anger inte {detail} för {subject}.",
        other_region=("Jag har inga uppgifter om detta för {asked}. Det jag har gäller {scope}:"),
        no_region_sources="Jag har inga källor från {regions} och kan därför inte säga vad som gäller där.",
        national_applies=(
            "Jag har inga källor från {regions}, men detta är nationellt och gäller i hela "
            "landet:"
        ),
        nationally="Nationellt (i hela landet) gäller detta:",
        not_a_task=(
            "Det kan jag inte hjälpa till med – jag svarar på frågor om handledarutbildning och "
            "handledning utifrån mina källor, men gör inga scheman, texter eller bokningar."
        ),
        covered_regions=(
            "Mina källor gäller {covered}. Fråga gärna hur det är där, eller vänd dig till din "
            "egen region."
        ),
        unstated_number="Mina källor nämner inte {numbers} för {subject}.",
        what_sources_say="Det källorna säger om {subject}: {text}",
        several_lead="Din fråga gäller flera saker; här är vad som gäller för var och en.",
        regions_lead="Här är vad varje regions egna källor säger, region för region.",
        sources_lead="Mina källor, med det datum varje källa själv anger:",
        supervision_yes="Ja. Enligt {scope} är handledare för {whom} {who}.",
        region_noted=(
            "Noterat: du arbetar i {region}. Jag svarar med {region}s riktlinjer först och säger "
            "till när mina källor inte har något därifrån."
        ),
        out_of_domain=(
            "Det ligger utanför det jag kan: jag svarar på frågor om handledning och "
            "handledarutbildning i vården, och påminner om handledningsmöten. Skriv ”hjälp” "
            "för exempel."
        ),
        supervision_listed=(
            "Enligt {scope} är handledare för {whom} {who}; andra nämns inte som handledare."
        ),
        intro=(
            "Hej! Jag är Handledarbot. Jag svarar på frågor om handledarutbildning och "
            "handledning i vården, utifrån nationella och regionala källor (Region Stockholm, "
            "Region Örebro län och Region Skåne), och säger alltid vems riktlinje det är."
        ),
        examples=(
            "Vilken handledarutbildning behöver jag som ST-handledare?",
            "Hur lång är Skolverkets handledarutbildning?",
            "Hur ofta ska ST-handledning ske?",
            "Vad ska vi gå igenom var tredje månad?",
        ),
        thanks="Varsågod! Fråga gärna igen om du undrar något mer om handledning.",
        more_detail="Mer om detta",
        option_not_understood="Jag förstod inte vilket alternativ du menade.",
        which_one="Din fråga passar flera saker. Vilket av detta menar du?",
        examples_lead="Du kan till exempel fråga:",
        this_subject="detta",
        saved_file="Filen sparades: {path}",
        patient_data=(
            "Ditt meddelande verkar innehålla ett personnummer. Dela aldrig patientuppgifter i "
            "chatten – jag har inte sparat meddelandet. Ställ gärna frågan igen utan "
            "personuppgifter."
        ),
        rate_limited=(
            "Du skickar många meddelanden just nu. Vänta en liten stund ({seconds} s) och "
            "fråga sedan igen."
        ),
        too_long=(
            "Ditt meddelande är för långt ({length} tecken; högst {limit}). Jag har inte läst "
            "det. Skriv frågan kortare, gärna en fråga i taget."
        ),
        admin_refused=(
            "Det kommandot är till för utbildningssamordnarna som sköter kunskapsbasen. Du kan "
            "fortfarande ställa frågor om handledning som vanligt."
        ),
        admin_help="Adminkommandon: admin ladda om · admin rapport · admin statistik",
        reload_ok="Kunskapsbasen laddades om (version {version}, {entries} poster).",
        reload_failed=(
            "Ändringen i kunskapsbasen kunde inte laddas, så jag svarar vidare med den "
            "tidigare versionen ({version}). Rätta detta:"
        ),
        rate_prompt="Var svaret till hjälp?",
        rate_up="👍 Ja",
        rate_down="👎 Nej",
        rating_thanks="Tack för ditt omdöme! Det hjälper oss att förbättra svaren.",
        stats=(
            "Kunskapsbas version {version}, {entries} poster. Sedan start: {outcomes}. "
            "Obesvarade ({days} dagar): {unanswered}. Betyg: 👍 {up} 👎 {down}. "
            "Skickade påminnelser: {sent}."
        ),
    ),
    "en": Wording(
        source="Source",
        sources="Sources",
        source_date="source's date",
        reviewed="answer checked against the source",
        scope="Applies to",
        provider="Provider",
        format="Format",
        duration="Duration",
        credits="Credits",
        apply="How to apply",
        link="Link",
        prerequisites="Prerequisites",
        choose_number="Answer with a number or in your own words.",
        choose_button="Choose",
        dont_know="I'm sorry, I don't know that – it is not in my sources, and I won't guess.",
        ask_instead="Please ask",
        unsupported_detail="My sources do not give {detail} for {subject}.",
        other_region="I have nothing on this for {asked}. What I have applies to {scope}:",
        no_region_sources="I have no sources from {regions}, so I cannot say what applies there.",
        national_applies=(
            "I have no sources from {regions}, but this is national and applies throughout "
            "Sweden:"
        ),
        nationally="Nationally (throughout Sweden), this applies:",
        not_a_task=(
            "I can't help with that – I answer questions about supervisor training and "
            "supervision from my sources, but I don't make schedules, write texts or book things."
        ),
        covered_regions=(
            "My sources cover {covered}. You are welcome to ask how it is there, or turn to "
            "your own region."
        ),
        unstated_number="My sources do not mention {numbers} for {subject}.",
        what_sources_say="What the sources say about {subject}: {text}",
        several_lead="Your question is about several things; here is what applies to each.",
        regions_lead="Here is what each region's own sources say, region by region.",
        sources_lead="My sources, each with the date it gives itself:",
        supervision_yes="Yes. According to {scope}, supervisors of {whom} are {who}.",
        region_noted=(
            "Noted: you work in {region}. I will give {region}'s guidance first and say so when "
            "my sources have nothing from there."
        ),
        out_of_domain=(
            "That is outside what I can help with: I answer questions about clinical "
            "supervision and supervisor training in healthcare, and remind you of supervision "
            "meetings. Type “help” for examples."
        ),
        supervision_listed=(
            "According to {scope}, supervisors of {whom} are {who}; no one else is named as "
            "their supervisor."
        ),
        intro=(
            "Hi! I'm Handledarbot. I answer questions about clinical supervisor training and "
            "supervision in Swedish healthcare, from national and regional sources (Region "
            "Stockholm, Region Örebro County and Region Skåne), and always say whose guidance "
            "it is."
        ),
        examples=(
            "Which supervisor training do I need as an ST supervisor?",
            "How long is the National Agency for Education's supervisor course?",
            "How often should ST supervision take place?",
            "What should we cover every three months?",
        ),
        thanks="You're welcome! Ask again any time about supervision.",
        more_detail="More on this",
        option_not_understood="I did not understand which option you meant.",
        which_one="Your question fits several things. Which of these do you mean?",
        examples_lead="You can ask, for example:",
        this_subject="this",
        saved_file="File saved: {path}",
        patient_data=(
            "Your message seems to contain a personal identity number. Never share patient "
            "data in chat – I have not stored your message. Please ask again without personal "
            "details."
        ),
        rate_limited=(
            "You are sending a lot of messages right now. Please wait a moment ({seconds} s) "
            "and ask again."
        ),
        too_long=(
            "Your message is too long ({length} characters; at most {limit}). I have not read "
            "it. Please ask a shorter question, one at a time."
        ),
        admin_refused=(
            "That command is for the education coordinators who maintain the knowledge base. "
            "You can still ask me about supervision as usual."
        ),
        admin_help="Admin commands: admin reload · admin report · admin stats",
        reload_ok="The knowledge base was reloaded (version {version}, {entries} entries).",
        reload_failed=(
            "The change to the knowledge base could not be loaded, so I keep answering from "
            "the previous version ({version}). Please fix:"
        ),
        rate_prompt="Was this answer helpful?",
        rate_up="👍 Yes",
        rate_down="👎 No",
        rating_thanks="Thank you for your rating! It helps us improve the answers.",
        stats=(
            "Knowledge base version {version}, {entries} entries. Since start: {outcomes}. "
            "Unanswered ({days} days): {unanswered}. Ratings: 👍 {up} 👎 {down}. "
            "Reminders sent: {sent}."
        ),
    ),
}


def course_facts(course: CourseFact, words: Wording) -> list[tuple[str, str]]:
    """A course's facts as (label, value) rows, in the one order every renderer shows them:
    provider, format, duration, credits, how to apply, prerequisites (joined with ", ").

    Rows without a value are left out; links are not facts (each renderer shows them as links).
    """
    rows = (
        (words.provider, course.provider),
        (words.format, course.format),
        (words.duration, course.duration),
        (words.credits, course.credits),
        (words.apply, course.apply),
        (words.prerequisites, ", ".join(course.prerequisites) or None),
    )
    return [(label, value) for label, value in rows if value]

"""Every fixed phrase the bot says, one table per language. Facts never live here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.messages import Lang


@dataclass(frozen=True, slots=True)
class Wording:
    source: str
    sources: str
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
    dont_know: str
    ask_instead: str
    unsupported_detail: str
    other_region: str
    intro: str
    examples: tuple[str, ...]
    thanks: str
    more_detail: str
    option_not_understood: str
    which_one: str
    examples_lead: str
    this_subject: str
    saved_file: str


WORDING: dict[Lang, Wording] = {
    "sv": Wording(
        source="Källa",
        sources="Källor",
        reviewed="granskad",
        scope="Gäller",
        provider="Anordnare",
        format="Form",
        duration="Omfattning",
        credits="Poäng",
        apply="Ansökan",
        link="Länk",
        prerequisites="Förkunskaper",
        choose_number="Svara med en siffra eller skriv med egna ord.",
        dont_know="Det vet jag tyvärr inte – det finns inte i mina källor, och jag vill inte gissa.",
        ask_instead="Fråga gärna",
        unsupported_detail="Mina källor anger inte {detail} för {subject}.",
        other_region=("Jag har inga uppgifter om detta för {asked}. Det jag har gäller {scope}:"),
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
    ),
    "en": Wording(
        source="Source",
        sources="Sources",
        reviewed="reviewed",
        scope="Applies to",
        provider="Provider",
        format="Format",
        duration="Duration",
        credits="Credits",
        apply="How to apply",
        link="Link",
        prerequisites="Prerequisites",
        choose_number="Answer with a number or in your own words.",
        dont_know="I'm sorry, I don't know that – it is not in my sources, and I won't guess.",
        ask_instead="Please ask",
        unsupported_detail="My sources do not give {detail} for {subject}.",
        other_region="I have nothing on this for {asked}. What I have applies to {scope}:",
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
    ),
}

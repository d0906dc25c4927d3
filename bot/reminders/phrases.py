"""Every fixed phrase of the reminder feature, one table per language. Facts live in knowledge/."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.knowledge.schema import Cadence
from bot.messages import Lang
from bot.reminders.model import Recurrence


@dataclass(frozen=True, slots=True)
class Phrases:
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    ordinals: dict[int, str]  # "third" as in "every third Tuesday"
    nth: dict[int, str]  # "first" as in "the first Monday of the month"
    every_weekday: str
    every_other_weekday: str
    every_nth_weekday: str
    monthly: str
    monthly_n: str
    at_time: str
    date_format: str
    with_label: str
    without_label: str
    understood: str
    st_start: str
    next_three: str
    timezone: str
    confirm: str
    yes_save: str
    no: str
    saved: str
    discarded: str
    nothing_saved: str
    no_recurrence: str
    no_weekday: str
    no_time: str
    no_monthday: str
    bad_time: str
    bad_date: str
    list_header: str
    list_empty: str
    list_line: str
    paused_mark: str
    paused: str
    resumed: str
    cancelled: str
    changed: str
    which: str
    not_found: str
    next_meeting: str
    no_next: str
    to_cover: str
    nothing_due: str
    reminder: str
    late: str
    topic_line: str
    alternatives_line: str
    either: str
    source: str
    sources: str
    snooze_hour: str
    snooze_day: str
    skip: str
    snoozed: str
    skipped: str
    expired: str
    export: str
    export_empty: str
    each_meeting: str
    every_months: str
    yearly: str
    end_of_year: str
    times_during_st: str
    # A topic the source gives no cadence; its knowledge-base `note` says what the source says.
    unscheduled: str
    list_hint: str
    kept: str
    nothing_changed: str
    several: str
    which_number: str
    delete_confirm_one: str
    delete_confirm_many: str
    yes_delete: str
    no_keep: str
    snooze_typed: str
    change_what: str
    in_the_past: str
    save_failed: str
    retry: str
    storage_full: str
    storage_error: str
    abandoned_create: str
    abandoned_change: str
    once: str
    every_month_day: str
    every_n_months_day: str
    dst_gap: str
    is_once: str
    so_far: str
    help: tuple[str, ...]

    def weekday(self, index: int) -> str:
        return self.weekdays[index]

    def when(self, moment: datetime) -> str:
        return self.date_format.format(
            weekday=self.weekdays[moment.weekday()],
            day=moment.day,
            month=self.months[moment.month - 1],
            year=moment.year,
            time=moment.strftime("%H:%M"),
        )

    def day(self, value: date) -> str:
        return f"{value.day} {self.months[value.month - 1]} {value.year}"

    def recurrence(self, rec: Recurrence, hour: int, minute: int) -> str:
        day = self.weekdays[rec.weekday]
        if rec.freq == "monthly":
            nth = self.nth.get(rec.nth or 1, str(rec.nth))
            template = self.monthly if rec.interval == 1 else self.monthly_n
            text = template.format(nth=nth, weekday=day, n=rec.interval)
        elif rec.interval == 1:
            text = self.every_weekday.format(weekday=day)
        elif rec.interval == 2:
            text = self.every_other_weekday.format(weekday=day)
        else:
            nth = self.ordinals.get(rec.interval, str(rec.interval))
            text = self.every_nth_weekday.format(nth=nth, weekday=day)
        return f"{text} {self.at_time.format(time=f'{hour:02d}:{minute:02d}')}"

    def cadence(self, cadence: Cadence) -> str:
        kind = cadence.kind
        if kind == "every_months":
            return self.every_months.format(n=cadence.months)
        if kind == "times_during_st":
            return self.times_during_st.format(n=cadence.times)
        return str(getattr(self, kind))


PHRASES: dict[Lang, Phrases] = {
    "sv": Phrases(
        weekdays=("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
        months=(
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ),
        ordinals={3: "tredje", 4: "fjärde", 5: "femte", 6: "sjätte"},
        nth={1: "första", 2: "andra", 3: "tredje", 4: "fjärde", -1: "sista"},
        every_weekday="varje {weekday}",
        every_other_weekday="varannan {weekday}",
        every_nth_weekday="var {nth} {weekday}",
        monthly="{nth} {weekday}en varje månad",
        monthly_n="{nth} {weekday}en var {n}:e månad",
        at_time="kl. {time}",
        date_format="{weekday} {day} {month} {year} kl. {time}",
        with_label="Handledning med {label}",
        without_label="Handledning",
        understood="Så här har jag förstått det:",
        st_start="ST-start: {date}",
        next_three="De närmaste mötena:",
        timezone="Tidszon: {zone}",
        confirm="Ska jag spara påminnelsen?",
        yes_save="Ja, spara",
        no="Nej",
        saved="Sparat som påminnelse {n}: {what}, {desc}. Första påminnelsen kommer {date}.",
        discarded="OK, jag sparade ingenting.",
        nothing_saved="Inget är sparat.",
        no_recurrence=(
            "Jag förstod inte hur ofta ni ses{fragment}. Skriv till exempel "
            "”varje måndag kl 8” eller ”varannan tisdag kl 14”."
        ),
        no_weekday="Vilken veckodag? Skriv till exempel ”varannan vecka på tisdag kl 14”.",
        no_monthday=(
            "Vilken dag i månaden? Skriv till exempel ”första tisdagen” eller ”den 15:e”."
        ),
        no_time="Vilken tid? Skriv till exempel ”kl 14” eller ”kl 8.30”.",
        bad_time=(
            "”{fragment}” är ingen tid på dygnet (timmar 0–23, minuter 0–59). Skriv till "
            "exempel ”kl 14” eller ”kl 8.30”."
        ),
        bad_date="Jag förstod inte datumet ”{fragment}”. Skriv till exempel ”1 september 2025”.",
        list_header="Dina påminnelser:",
        list_empty=(
            "Du har inga påminnelser. Skriv till exempel ”påminn mig varje tisdag kl 14 om "
            "handledning med [namn]”."
        ),
        list_line="{n}. {what}: {desc} – nästa möte {next}",
        paused_mark=" (pausad)",
        paused="Påminnelse {n} ({what}) är pausad. Skriv ”återuppta {n}” för att starta den igen.",
        resumed="Påminnelse {n} ({what}) är igång igen. Nästa möte: {next}.",
        cancelled="Påminnelse {n} ({what}) är borttagen.",
        changed="Påminnelse {n} ({what}) är ändrad: {desc}. Nästa möte: {next}.",
        which="Vilken påminnelse menar du? Ange numret i ”mina påminnelser” eller namnet.",
        not_found="Jag hittar ingen påminnelse ”{ref}” bland dina. Skriv ”mina påminnelser”.",
        next_meeting="Nästa möte – {what} (nr {n}): {date}.",
        no_next="Ingen fler möten i serien – {what}.",
        to_cover="Att ta upp:",
        nothing_due="Inget särskilt utöver det vanliga.",
        reminder="Påminnelse – {what}: {date}.",
        late="(Skickas sent: jag var inte igång när påminnelsen skulle ha kommit, {date}.)",
        topic_line="• {title} — {cadence}{note}",
        alternatives_line="• {titles} (alternativ) — {cadences}",
        either=" eller ",
        source="Källa",
        sources="Källor",
        snooze_hour="Påminn om 1 timme",
        snooze_day="Påminn i morgon",
        skip="Hoppa över mötet",
        snoozed="OK, jag påminner dig igen {date}.",
        skipped="OK, mötet {date} ({what}, nr {n}) hoppas över. Det som skulle tas upp då flyttas till nästa möte{next}.",
        expired="Den här knappen gäller inte längre – skriv ”påminn mig …” igen.",
        export="Kalenderfil (.ics) med dina möten de kommande 12 månaderna och vad som ska tas upp vid varje.",
        export_empty="Du har inga påminnelser att exportera.",
        each_meeting="varje möte",
        every_months="var {n}:e månad",
        yearly="en gång per år",
        end_of_year="i slutet av kalenderåret",
        times_during_st="{n} gånger under ST-tiden",
        unscheduled="ingen fast frekvens i källan",
        list_hint=(
            "Numren ändras inte. Skriv till exempel ”pausa {n}”, ”flytta {n} till onsdagar kl 10”, "
            "”hoppa över nästa möte med [namn]” eller ”ta bort {n}”."
        ),
        kept="OK, jag tog inte bort något.",
        nothing_changed="Inget är ändrat.",
        several="{count} av dina påminnelser passar:",
        which_number="Vilken menar du? Svara med numret framför den, eller med veckodagen.",
        delete_confirm_one="Ska jag ta bort påminnelsen ovan?",
        delete_confirm_many="Ska jag ta bort alla {count} påminnelserna ovan?",
        yes_delete="Ja, ta bort",
        no_keep="Nej, behåll",
        snooze_typed=(
            "Påminnelse {n} ({what}) skjuter du upp med knapparna ”Påminn om 1 timme” och "
            "”Påminn i morgon” när den kommer. Du kan också skriva ”hoppa över nästa möte med …” "
            "eller ”flytta {n} till fredagar kl 10”."
        ),
        change_what=(
            "Vad ska ändras? Skriv till exempel ”flytta [namn] till onsdagar kl 10” eller "
            "”ändra påminnelse 2 till kl 15”."
        ),
        in_the_past="Den tiden har redan passerat, så jag sparade ingenting.",
        save_failed="Påminnelsen sparades inte: {why}.",
        retry="Svara ”ja” för att försöka spara igen, eller ”nej” för att låta bli.",
        storage_full="lagringen är full ({detail})",
        storage_error="lagringen svarade med ett fel ({detail})",
        abandoned_create="(Påminnelsen du började på är avbruten; den lades inte in.)",
        abandoned_change="(Jag har inte ändrat eller tagit bort något.)",
        once="en gång, {date}",
        every_month_day="varje månad den {day}:e",
        every_n_months_day="var {n}:e månad den {day}:e",
        dst_gap=(
            "Obs: kl. {asked} finns inte {day} (klockan ställs fram till sommartid), så det mötet "
            "blir kl. {real}."
        ),
        so_far="Så här långt har jag förstått: {what}.",
        is_once="Ja, det blir en engångspåminnelse – inget som upprepas.",
        help=(
            "Påminnelser inför handledningsmöten – så här skriver du:",
            "• Skapa: ”påminn mig varannan tisdag kl 14 om handledning med [namn]” (även ”var "
            "tredje månad kl 9”, ”den 15 januari kl 10”, ”om två veckor kl 9”). Jag visar vad jag "
            "förstått och sparar först när du svarar ja.\n"
            "• Se: ”mina påminnelser” · Nästa möte: ”vad ska vi ta upp nästa gång med [namn]?”\n"
            "• Ändra: ”flytta [namn] till onsdagar kl 10” · ”pausa 2” · ”återuppta 2” · ”hoppa över "
            "nästa möte med [namn]”\n"
            "• Ta bort: ”ta bort 2” (jag frågar först) · Kalender: ”exportera kalender”",
        ),
    ),
    "en": Phrases(
        weekdays=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        months=(
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ),
        ordinals={3: "third", 4: "fourth", 5: "fifth", 6: "sixth"},
        nth={1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"},
        every_weekday="every {weekday}",
        every_other_weekday="every other {weekday}",
        every_nth_weekday="every {nth} {weekday}",
        monthly="the {nth} {weekday} of every month",
        monthly_n="the {nth} {weekday} every {n} months",
        at_time="at {time}",
        date_format="{weekday} {day} {month} {year} at {time}",
        with_label="Supervision with {label}",
        without_label="Supervision",
        understood="This is what I understood:",
        st_start="ST start: {date}",
        next_three="The next meetings:",
        timezone="Time zone: {zone}",
        confirm="Shall I save this reminder?",
        yes_save="Yes, save",
        no="No",
        saved="Saved as reminder {n}: {what}, {desc}. The first reminder comes {date}.",
        discarded="OK, nothing was saved.",
        nothing_saved="Nothing has been saved.",
        no_recurrence=(
            "I did not understand how often you meet{fragment}. Write for example "
            "“every Monday at 8” or “every other Tuesday at 14”."
        ),
        no_weekday="Which day of the week? Write for example “every other week on Tuesday at 14”.",
        no_monthday="Which day of the month? Write for example “the first Tuesday” or “the 15th”.",
        no_time="At what time? Write for example “at 14” or “at 8:30”.",
        bad_time=(
            "“{fragment}” is not a time of day (hours 0–23, minutes 0–59). Write for example "
            "“at 14” or “at 8:30”."
        ),
        bad_date="I did not understand the date “{fragment}”. Write for example “1 September 2025”.",
        list_header="Your reminders:",
        list_empty=(
            "You have no reminders. Write for example “remind me every other Tuesday at 14 about "
            "supervision with [name]”."
        ),
        list_line="{n}. {what}: {desc} – next meeting {next}",
        paused_mark=" (paused)",
        paused="Reminder {n} ({what}) is paused. Write “resume {n}” to start it again.",
        resumed="Reminder {n} ({what}) is running again. Next meeting: {next}.",
        cancelled="Reminder {n} ({what}) has been deleted.",
        changed="Reminder {n} ({what}) is changed: {desc}. Next meeting: {next}.",
        which="Which reminder do you mean? Give its number from “my reminders” or the name.",
        not_found="I find no reminder “{ref}” among yours. Write “my reminders”.",
        next_meeting="Next meeting – {what} (no. {n}): {date}.",
        no_next="No more meetings in the series – {what}.",
        to_cover="To cover:",
        nothing_due="Nothing beyond the usual.",
        reminder="Reminder – {what}: {date}.",
        late="(Sent late: I was not running when this reminder was due, {date}.)",
        topic_line="• {title} — {cadence}{note}",
        alternatives_line="• {titles} (alternatives) — {cadences}",
        either=" or ",
        source="Source",
        sources="Sources",
        snooze_hour="Remind me in 1 hour",
        snooze_day="Remind me tomorrow",
        skip="Skip this meeting",
        snoozed="OK, I will remind you again {date}.",
        skipped="OK, the meeting {date} ({what}, no. {n}) is skipped. What was due then moves to the next meeting{next}.",
        expired="This button no longer applies – please write “remind me …” again.",
        export="Calendar file (.ics) with your meetings for the coming 12 months and what to cover at each.",
        export_empty="You have no reminders to export.",
        each_meeting="every meeting",
        every_months="every {n} months",
        yearly="once a year",
        end_of_year="at the end of the calendar year",
        times_during_st="{n} times during ST",
        unscheduled="no fixed frequency in the source",
        list_hint=(
            "The numbers do not change. Write for example “pause {n}”, “move {n} to Wednesdays at "
            "10”, “skip the next meeting with [name]” or “delete {n}”."
        ),
        kept="OK, nothing was deleted.",
        nothing_changed="Nothing has been changed.",
        several="{count} of your reminders match:",
        which_number="Which one do you mean? Answer with the number in front of it, or its weekday.",
        delete_confirm_one="Shall I delete the reminder above?",
        delete_confirm_many="Shall I delete all {count} reminders above?",
        yes_delete="Yes, delete",
        no_keep="No, keep",
        snooze_typed=(
            "You snooze reminder {n} ({what}) with the buttons “Remind me in 1 hour” and "
            "“Remind me tomorrow” when it arrives. You can also write “skip the next meeting "
            "with …” or “move {n} to Fridays at 10”."
        ),
        change_what=(
            "What should change? Write for example “move [name] to Wednesdays at 10” or “change "
            "reminder 2 to 3pm”."
        ),
        in_the_past="That time has already passed, so nothing was saved.",
        save_failed="The reminder was not saved: {why}.",
        retry="Answer “yes” to try saving again, or “no” to leave it.",
        storage_full="the storage is full ({detail})",
        storage_error="the storage answered with an error ({detail})",
        abandoned_create="(The reminder you started is cancelled; it was not set up.)",
        abandoned_change="(I have not changed or deleted anything.)",
        once="once, {date}",
        every_month_day="every month on day {day}",
        every_n_months_day="every {n} months on day {day}",
        dst_gap=(
            "Note: {asked} does not exist on {day} (the clocks go forward to summer time), so "
            "that meeting is at {real}."
        ),
        so_far="So far I understood: {what}.",
        is_once="Yes, it is a one-off reminder – nothing repeats.",
        help=(
            "Reminders before supervision meetings – how to write them:",
            "• Create: “remind me every other Tuesday at 2pm about supervision with [name]” (also "
            "“every 3 months at 9”, “on 15 January at 10”, “in two weeks at 9”). I show what I "
            "understood and save only when you answer yes.\n"
            "• See: “my reminders” · Next meeting: “what should we cover next time with [name]?”\n"
            "• Change: “move [name] to Wednesdays at 10” · “pause 2” · “resume 2” · “skip the next "
            "meeting with [name]”\n"
            "• Delete: “delete 2” (I ask first) · Calendar: “export calendar”",
        ),
    ),
}


def reminder_help(lang: Lang) -> tuple[str, ...]:
    """What reminders can do and how to write the commands, as paragraphs in `lang`.

    For "hur gör jag en påminnelse?" here, and for the general "hjälp"/"help" reply, which the
    knowledge engine builds (`Engine(help_extra=reminder_help)`, see bot/app.py)."""
    return PHRASES[lang].help

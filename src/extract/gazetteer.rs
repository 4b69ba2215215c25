//! Gazetteers: the project's fact lists (countries, cities, US states, organisations, titles,
//! company suffixes) indexed for token-sequence lookup.
//!
//! Input: the TSV files in `data/gazetteers/` written by `scripts/build_gazetteers.py` (GeoNames,
//! pycountry and countryinfo facts plus project-written lists; see `ATTRIBUTION.md` there).
//! Output: [`Gazetteer`], a read-only index that is `Send + Sync`, loaded once into the
//! pipeline's resources and shared by every worker: [`Gazetteer::load`] reads a directory
//! (a configured path), [`Gazetteer::builtin`] uses the shipped files compiled into the binary.
//! Loading takes about 0.25 s (release build) and indexes some 70k names and aliases.
//!
//! Lookup keys are token sequences: each name is tokenised with [`tokenize`] (the same tokenizer
//! the text goes through), curly apostrophes become straight ones, and tokens are joined by one
//! space. There are two indexes: an exact-case one ("IS" the group is not "is") and a lowercased
//! one that [`Gazetteer::lookup`] only consults for capitalised surfaces of at least
//! [`MIN_FOLDED_LETTERS`] letters ("SYRIA" in a headline, "Islamic state").
//!
//! When one key names several things the hits are ordered by [`Hit::rank`]: countries and
//! demonyms first, then organisations, big or capital cities, US states, aliases, and smaller
//! cities; within a rank, the more populous place first. So "Georgia" is the country,
//! "New York" the city and "Damascus" the Syrian capital.

/// Name lookups run for most tokens of every document: foldhash hashes short keys several
/// times faster than the default SipHash (and is still randomly seeded).
type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type FastSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;
use std::fs;
use std::path::{Path, PathBuf};

use crate::doc::{EntityType, Geo};
use crate::extract::tokens::tokenize;

/// Case-insensitive matches need at least this many letters: shorter keys ("IS", "UN", "US")
/// are acronyms whose lowercase forms are ordinary words.
pub const MIN_FOLDED_LETTERS: usize = 4;
/// Cities at or above this population outrank US states and aliases of other places; the
/// figure separates world cities ("New York", "Washington" as capital) from towns sharing a
/// state's name. Chosen by hand from the seed article's cases.
pub const BIG_CITY_POPULATION: u64 = 1_000_000;

/// Errors loading the gazetteer files; each names the file and, for bad rows, the line.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GazetteerError {
    /// A file could not be read.
    #[error("gazetteer {path}: {source}")]
    Io {
        /// File involved.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// A row is malformed.
    #[error("gazetteer {path}:{line}: {reason}")]
    Parse {
        /// File involved.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// A country (ISO 3166-1), with its demonyms.
#[derive(Debug, Clone, PartialEq)]
pub struct Country {
    /// ISO 3166-1 alpha-2 code.
    pub iso2: String,
    /// ISO 3166-1 alpha-3 code.
    pub iso3: String,
    /// Canonical English name ("United States").
    pub name: String,
    /// Capital city name, possibly empty.
    pub capital: String,
    /// GeoNames id.
    pub geonames_id: u64,
    /// Representative latitude (countryinfo), decimal degrees.
    pub lat: f64,
    /// Representative longitude (countryinfo), decimal degrees.
    pub lon: f64,
    /// Demonyms, the canonical adjective first ("Russian", "Russians").
    pub demonyms: Vec<String>,
}

/// A city (GeoNames, population ≥ 100k or a capital).
#[derive(Debug, Clone, PartialEq)]
pub struct City {
    /// GeoNames id.
    pub geonames_id: u64,
    /// Canonical name.
    pub name: String,
    /// ISO 3166-1 alpha-2 code of its country.
    pub country_code: String,
    /// Latitude, decimal degrees.
    pub lat: f64,
    /// Longitude, decimal degrees.
    pub lon: f64,
    /// Population (GeoNames).
    pub population: u64,
    /// True for national capitals.
    pub capital: bool,
}

/// A US state (or DC).
#[derive(Debug, Clone, PartialEq)]
pub struct UsState {
    /// Postal code ("CA").
    pub code: String,
    /// Name ("California").
    pub name: String,
    /// GeoNames id.
    pub geonames_id: u64,
}

/// A withdrawn country (ISO 3166-3), or a first-level subdivision (ISO 3166-2); neither has
/// coordinates in the sources.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedPlace {
    /// ISO 3166-3 alpha-4 or ISO 3166-2 code.
    pub code: String,
    /// Name ("Soviet Union", "Alberta").
    pub name: String,
}

/// An organisation, group or event from the project-written list.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgEntry {
    /// Canonical name ("Islamic State").
    pub name: String,
    /// ORG, NORP or EVENT.
    pub etype: EntityType,
}

/// What a key names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HitKind {
    /// Index into the countries.
    Country,
    /// A demonym of the country at this index.
    Demonym,
    /// Index into the cities.
    City,
    /// Index into the US states.
    State,
    /// Index into the organisations.
    Org,
    /// Index into the withdrawn countries (ISO 3166-3: "Soviet Union", "Zaire").
    FormerCountry,
    /// Index into the first-level subdivisions (ISO 3166-2: "Alberta", "England").
    Subdivision,
}

/// One thing a token sequence can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hit {
    /// Which list.
    pub kind: HitKind,
    /// Index into that list.
    pub idx: u32,
    /// True when the key is the entry's canonical name (or a demonym), not an alias.
    pub primary: bool,
    /// True when the key may add a mention the model missed: canonical names, demonyms and
    /// curated aliases; false for weak aliases (native spellings, ambiguous acronyms) and for
    /// every city and state alias.
    pub addable: bool,
    /// Priority among hits of one key, lower first (see the module docs).
    pub rank: u8,
}

/// Whether a title is a form of address or a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TitleKind {
    /// "Mr.", "Dr.", "Sheikh": never part of a canonical name.
    Honorific,
    /// "President", "Secretary of State", "foreign minister".
    Position,
}

/// The canonical entity behind a [`Hit`].
#[derive(Debug, Clone, PartialEq)]
pub struct GazEntity<'a> {
    /// Entity type (GPE for places, NORP for demonyms, the list's type for organisations).
    pub etype: EntityType,
    /// Canonical name.
    pub name: &'a str,
    /// Coordinates: the place's own, or for a demonym its country's.
    pub geo: Option<Geo>,
}

/// The loaded gazetteers. Read-only after [`Gazetteer::load`]; `Send + Sync`.
#[derive(Debug, Default)]
pub struct Gazetteer {
    countries: Vec<Country>,
    cities: Vec<City>,
    states: Vec<UsState>,
    orgs: Vec<OrgEntry>,
    former: Vec<NamedPlace>,
    subdivisions: Vec<NamedPlace>,
    exact: FastMap<String, Vec<Hit>>,
    folded: FastMap<String, Vec<Hit>>,
    /// First token of every name (exact spelling) → longest name length in tokens.
    first_words: FastMap<String, usize>,
    /// The same, keyed by the lowercased first token.
    first_words_folded: FastMap<String, usize>,
    /// The entries of `first_words` whose key does not start with a capital (a dozen:
    /// "al-", "the", "6th"). Most tokens of a text are lowercase words, and asking this
    /// small map spares a probe into the 34k-entry one, which rarely sits in cache.
    first_words_lower: FastMap<String, usize>,
    /// Every proper token-prefix of a multi-token key ("New", "New York" for "New York Stock
    /// Exchange"), in exact spelling and lowercased: [`Gazetteer::longest_at`] extends a
    /// match one token at a time and stops where no longer name can start.
    stems: FastSet<String>,
    stems_folded: FastSet<String>,
    titles: FastMap<String, TitleKind>,
    /// Lower-cased keys of the titles' first words: most tokens start no title, and checking
    /// one word first spares building the longer keys (title lookups run at every token).
    title_starts: FastSet<String>,
    /// A 1024-bit filter over (byte length, first byte, last byte) of the
    /// [`Gazetteer::title_starts`] keys: an ASCII word whose bit is clear starts no title,
    /// decided without hashing the word (most words of a sentence are ruled out here).
    title_start_filter: [u64; 16],
    title_max_len: usize,
    /// Lowercased proper token-prefixes of the multi-word titles ("secretary",
    /// "secretary of"): a title search stops at the first key no title continues.
    title_stems: FastSet<String>,
    suffixes: FastSet<String>,
    max_len: usize,
    /// Entries whose canonical name a better-ranked entry also has (see [`Gazetteer::id_key`]).
    shadowed: FastSet<(HitKind, u32)>,
}

/// One TSV row: its 1-based line number and fields.
struct Row {
    line: usize,
    fields: Vec<String>,
}

/// Supplies a gazetteer file by name: the path to name in errors, and its contents.
type FileSource<'a> = dyn Fn(&str) -> Result<(PathBuf, String), GazetteerError> + 'a;

/// Rows of one TSV file's `text`; `path` only names the file in errors.
fn parse_rows(path: &Path, text: &str, min_fields: usize) -> Result<Vec<Row>, GazetteerError> {
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<String> = line.split('\t').map(|f| f.trim().to_string()).collect();
        if fields.len() < min_fields {
            return Err(GazetteerError::Parse {
                path: path.to_path_buf(),
                line: i + 1,
                reason: format!(
                    "expected {min_fields} tab-separated fields, got {}",
                    fields.len()
                ),
            });
        }
        rows.push(Row {
            line: i + 1,
            fields,
        });
    }
    Ok(rows)
}

fn parse_num<T: std::str::FromStr>(
    path: &Path,
    row: &Row,
    col: usize,
    what: &str,
) -> Result<T, GazetteerError> {
    row.fields[col].parse().map_err(|_| GazetteerError::Parse {
        path: path.to_path_buf(),
        line: row.line,
        reason: format!("{what}: not a number: {:?}", row.fields[col]),
    })
}

fn list(field: &str) -> impl Iterator<Item = &str> {
    field.split('|').map(str::trim).filter(|s| !s.is_empty())
}

/// Normalises one token for keys: curly apostrophes and dash variants become ASCII.
fn norm_token(t: &str, out: &mut String) {
    // Most tokens are plain ASCII: nothing to fold, copy them whole.
    if t.bytes().all(|b| b.is_ascii() && b != b'`') {
        out.push_str(t);
        return;
    }
    for c in t.chars() {
        out.push(match c {
            '\u{2019}' | '\u{2018}' | '`' => '\'',
            '\u{2010}' | '\u{2011}' => '-',
            c => c,
        });
    }
}

/// Lookup key of a token sequence: normalised tokens joined by one space.
pub fn key_of<S: AsRef<str>>(words: &[S]) -> String {
    let mut k = String::with_capacity(words.iter().map(|w| w.as_ref().len() + 1).sum());
    key_into(words, &mut k);
    k
}

/// [`key_of`] into a reused buffer.
fn key_into<S: AsRef<str>>(words: &[S], k: &mut String) {
    k.clear();
    for (i, w) in words.iter().enumerate() {
        if i > 0 {
            k.push(' ');
        }
        norm_token(w.as_ref(), k);
    }
}

/// `src.to_lowercase()` into a reused buffer (the same result: non-ASCII text goes through
/// `str::to_lowercase`, which knows the context rule of final sigma).
fn lower_into(src: &str, out: &mut String) {
    out.clear();
    if src.is_ascii() {
        out.extend(src.bytes().map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        out.push_str(&src.to_lowercase());
    }
}

thread_local! {
    /// Key buffers reused across lookups: gazetteer lookups run for most tokens of every
    /// document, and building each key in fresh strings was a sizeable share of a run's
    /// instructions (BENCHMARKS.md).
    static KEY_BUFS: std::cell::RefCell<(String, String)> =
        const { std::cell::RefCell::new((String::new(), String::new())) };
}

/// Runs `f` with two empty-or-stale scratch strings (fresh ones if the buffers are in use).
fn with_bufs<R>(f: impl FnOnce(&mut String, &mut String) -> R) -> R {
    KEY_BUFS.with(|b| match b.try_borrow_mut() {
        Ok(mut b) => {
            let (x, y) = &mut *b;
            let r = f(x, y);
            // A freak long token should not pin its key's memory for the thread's lifetime.
            if x.capacity() > 4096 || y.capacity() > 4096 {
                *x = String::new();
                *y = String::new();
            }
            r
        }
        Err(_) => f(&mut String::new(), &mut String::new()),
    })
}

fn name_words(name: &str) -> Vec<String> {
    tokenize(name)
        .iter()
        .map(|t| t.text(name).to_string())
        .collect()
}

/// Bit of [`Gazetteer::title_start_filter`] for a key of `len` bytes from `first` to `last`.
fn title_filter_bit(len: usize, first: u8, last: u8) -> usize {
    let x = (len.min(255) as u32) << 16 | u32::from(first) << 8 | u32::from(last);
    (x.wrapping_mul(0x9E37_79B1) >> 22) as usize
}

fn starts_upper(s: &str) -> bool {
    s.chars().next().is_some_and(char::is_uppercase)
}

fn letters(s: &str) -> usize {
    s.chars().filter(|c| c.is_alphabetic()).count()
}

impl Gazetteer {
    /// Loads every gazetteer file from `dir` (`countries.tsv`, `cities.tsv`, `us_states.tsv`,
    /// `former_countries.tsv`, `subdivisions.tsv`, `orgs.tsv`, `titles.tsv`,
    /// `company_suffixes.tsv`).
    pub fn load(dir: &Path) -> Result<Gazetteer, GazetteerError> {
        Gazetteer::from_files(&|name| {
            let p = dir.join(name);
            match fs::read_to_string(&p) {
                Ok(text) => Ok((p, text)),
                Err(source) => Err(GazetteerError::Io { path: p, source }),
            }
        })
    }

    /// The gazetteer files shipped in `data/gazetteers/`, compiled into the binary so it works
    /// from any directory (like the built-in NER model). Errors only if those files are broken,
    /// which the tests rule out.
    pub fn builtin() -> Result<Gazetteer, GazetteerError> {
        Gazetteer::from_files(&|name| {
            let text = match name {
                "countries.tsv" => include_str!("../../data/gazetteers/countries.tsv"),
                "cities.tsv" => include_str!("../../data/gazetteers/cities.tsv"),
                "us_states.tsv" => include_str!("../../data/gazetteers/us_states.tsv"),
                "former_countries.tsv" => {
                    include_str!("../../data/gazetteers/former_countries.tsv")
                }
                "subdivisions.tsv" => include_str!("../../data/gazetteers/subdivisions.tsv"),
                "orgs.tsv" => include_str!("../../data/gazetteers/orgs.tsv"),
                "titles.tsv" => include_str!("../../data/gazetteers/titles.tsv"),
                "company_suffixes.tsv" => {
                    include_str!("../../data/gazetteers/company_suffixes.tsv")
                }
                _ => "",
            };
            Ok((Path::new("<built-in>").join(name), text.to_string()))
        })
    }

    /// Builds the index from the files `get(name)` returns as (path for errors, contents).
    fn from_files(get: &FileSource<'_>) -> Result<Gazetteer, GazetteerError> {
        let mut g = Gazetteer::default();
        // The shipped files add ~41k names: sized once instead of rehashing every string
        // key at each doubling (start-up is paid by every run).
        g.exact.reserve(1 << 16);
        g.folded.reserve(1 << 16);
        g.first_words.reserve(1 << 15);
        g.first_words_folded.reserve(1 << 15);
        let (p, text) = get("countries.tsv")?;
        for row in parse_rows(&p, &text, 8)? {
            let f = &row.fields;
            let idx = g.countries.len() as u32;
            let country = Country {
                iso2: f[0].clone(),
                iso3: f[1].clone(),
                name: f[2].clone(),
                capital: f[3].clone(),
                geonames_id: parse_num(&p, &row, 4, "geonames_id")?,
                lat: parse_num(&p, &row, 5, "lat")?,
                lon: parse_num(&p, &row, 6, "lon")?,
                demonyms: list(&f[7]).map(str::to_string).collect(),
            };
            g.add(&country.name, HitKind::Country, idx, true, true, 0);
            for d in &country.demonyms {
                g.add(d, HitKind::Demonym, idx, true, true, 0);
            }
            for a in list(f.get(8).map(String::as_str).unwrap_or("")) {
                g.add(a, HitKind::Country, idx, false, true, 4);
            }
            for a in list(f.get(9).map(String::as_str).unwrap_or("")) {
                g.add(a, HitKind::Country, idx, false, false, 4);
            }
            g.countries.push(country);
        }
        let (p, text) = get("cities.tsv")?;
        for row in parse_rows(&p, &text, 7)? {
            let f = &row.fields;
            let idx = g.cities.len() as u32;
            let city = City {
                geonames_id: parse_num(&p, &row, 0, "geonames_id")?,
                name: f[1].clone(),
                country_code: f[2].clone(),
                lat: parse_num(&p, &row, 3, "lat")?,
                lon: parse_num(&p, &row, 4, "lon")?,
                population: parse_num(&p, &row, 5, "population")?,
                capital: f[6] == "1",
            };
            let rank = if city.capital || city.population >= BIG_CITY_POPULATION {
                2
            } else {
                5
            };
            g.add(&city.name, HitKind::City, idx, true, true, rank);
            for a in list(f.get(7).map(String::as_str).unwrap_or("")) {
                g.add(a, HitKind::City, idx, false, false, 7);
            }
            g.cities.push(city);
        }
        let (p, text) = get("us_states.tsv")?;
        for row in parse_rows(&p, &text, 3)? {
            let f = &row.fields;
            let idx = g.states.len() as u32;
            let state = UsState {
                code: f[0].clone(),
                name: f[1].clone(),
                geonames_id: parse_num(&p, &row, 2, "geonames_id")?,
            };
            g.add(&state.name, HitKind::State, idx, true, true, 3);
            for a in list(f.get(3).map(String::as_str).unwrap_or("")) {
                g.add(a, HitKind::State, idx, false, false, 6);
            }
            g.states.push(state);
        }
        let (p, text) = get("former_countries.tsv")?;
        for row in parse_rows(&p, &text, 2)? {
            let idx = g.former.len() as u32;
            g.add(&row.fields[1], HitKind::FormerCountry, idx, true, true, 5);
            for a in list(row.fields.get(3).map(String::as_str).unwrap_or("")) {
                g.add(a, HitKind::FormerCountry, idx, false, true, 5);
            }
            g.former.push(NamedPlace {
                code: row.fields[0].clone(),
                name: row.fields[1].clone(),
            });
        }
        let (p, text) = get("subdivisions.tsv")?;
        for row in parse_rows(&p, &text, 2)? {
            let idx = g.subdivisions.len() as u32;
            // Names like "Central" or "North" are too ambiguous to add mentions: typing only.
            g.add(&row.fields[1], HitKind::Subdivision, idx, true, false, 8);
            g.subdivisions.push(NamedPlace {
                code: row.fields[0].clone(),
                name: row.fields[1].clone(),
            });
        }
        let (p, text) = get("orgs.tsv")?;
        for row in parse_rows(&p, &text, 2)? {
            let f = &row.fields;
            let etype = match f[1].as_str() {
                "ORG" => EntityType::Org,
                "NORP" => EntityType::Norp,
                "EVENT" => EntityType::Event,
                other => {
                    return Err(GazetteerError::Parse {
                        path: p.clone(),
                        line: row.line,
                        reason: format!("type must be ORG, NORP or EVENT, got {other:?}"),
                    })
                }
            };
            let idx = g.orgs.len() as u32;
            g.add(&f[0], HitKind::Org, idx, true, true, 1);
            for a in list(f.get(2).map(String::as_str).unwrap_or("")) {
                g.add(a, HitKind::Org, idx, false, true, 4);
            }
            for a in list(f.get(3).map(String::as_str).unwrap_or("")) {
                g.add(a, HitKind::Org, idx, false, false, 4);
            }
            g.orgs.push(OrgEntry {
                name: f[0].clone(),
                etype,
            });
        }
        let (p, text) = get("titles.tsv")?;
        for row in parse_rows(&p, &text, 2)? {
            let kind = match row.fields[1].as_str() {
                "honorific" => TitleKind::Honorific,
                "position" => TitleKind::Position,
                other => {
                    return Err(GazetteerError::Parse {
                        path: p.clone(),
                        line: row.line,
                        reason: format!("kind must be honorific or position, got {other:?}"),
                    })
                }
            };
            let words = name_words(&row.fields[0]);
            g.title_max_len = g.title_max_len.max(words.len());
            if let Some(first) = words.first() {
                g.title_starts
                    .insert(key_of(std::slice::from_ref(first)).to_lowercase());
            }
            for j in 1..words.len() {
                g.title_stems.insert(key_of(&words[..j]).to_lowercase());
            }
            // A title listed as both keeps the first kind (the file is sorted, so stable).
            g.titles
                .entry(key_of(&words).to_lowercase())
                .or_insert(kind);
        }
        let (p, text) = get("company_suffixes.tsv")?;
        for row in parse_rows(&p, &text, 1)? {
            g.suffixes.insert(row.fields[0].clone());
        }
        g.finish();
        Ok(g)
    }

    /// Indexes `name` (exact and folded) for a hit; [`Gazetteer::finish`] orders them.
    fn add(&mut self, name: &str, kind: HitKind, idx: u32, primary: bool, addable: bool, rank: u8) {
        let toks = tokenize(name);
        let words: Vec<&str> = toks.iter().map(|t| t.text(name)).collect();
        if words.is_empty() {
            return;
        }
        self.max_len = self.max_len.max(words.len());
        let key = key_of(&words);
        let first = key_of(&words[..1]);
        let n = words.len();
        // Most first words were seen before (70k names share far fewer first words): look
        // them up before building owned keys.
        let folded_first = crate::extract::tokens::lowercase(&first);
        match self.first_words_folded.get_mut(folded_first.as_ref()) {
            Some(e) => *e = (*e).max(n),
            None => {
                self.first_words_folded.insert(folded_first.into_owned(), n);
            }
        }
        match self.first_words.get_mut(first.as_str()) {
            Some(e) => *e = (*e).max(n),
            None => {
                self.first_words.insert(first, n);
            }
        }
        let hit = Hit {
            kind,
            idx,
            primary,
            addable,
            rank,
        };
        let mut stem = String::new();
        for w in &words[..n - 1] {
            if !stem.is_empty() {
                stem.push(' ');
            }
            norm_token(w, &mut stem);
            if !self.stems.contains(stem.as_str()) {
                self.stems.insert(stem.clone());
            }
            let folded = crate::extract::tokens::lowercase(&stem);
            if !self.stems_folded.contains(folded.as_ref()) {
                self.stems_folded.insert(folded.into_owned());
            }
        }
        let folded = crate::extract::tokens::lowercase(&key);
        match self.folded.get_mut(folded.as_ref()) {
            Some(v) => push_unique(v, hit),
            None => {
                self.folded.insert(folded.into_owned(), vec![hit]);
            }
        }
        push_unique(self.exact.entry(key).or_default(), hit);
    }

    /// Sorts every hit list by rank, then population (descending), then list order.
    fn finish(&mut self) {
        self.first_words_lower = self
            .first_words
            .iter()
            .filter(|(k, _)| !starts_upper(k))
            .map(|(k, &n)| (k.clone(), n))
            .collect();
        for k in &self.title_starts {
            if let (Some(&f), Some(&l)) = (k.as_bytes().first(), k.as_bytes().last()) {
                let bit = title_filter_bit(k.len(), f, l);
                self.title_start_filter[bit >> 6] |= 1 << (bit & 63);
            }
        }
        let cities = std::mem::take(&mut self.cities);
        let order = |a: &Hit, b: &Hit| {
            let pop = |h: &Hit| match h.kind {
                HitKind::City => cities.get(h.idx as usize).map_or(0, |c| c.population),
                _ => 0,
            };
            (a.rank, std::cmp::Reverse(pop(a)), a.kind, a.idx).cmp(&(
                b.rank,
                std::cmp::Reverse(pop(b)),
                b.kind,
                b.idx,
            ))
        };
        for v in self.exact.values_mut().chain(self.folded.values_mut()) {
            v.sort_by(order);
        }
        self.cities = cities;
        // Entries whose canonical name is also the canonical name of a better-ranked entry
        // ("Georgia" the state behind the country): their ids need a discriminator.
        for hits in self.exact.values() {
            for h in hits.iter().filter(|h| h.primary).skip(1) {
                self.shadowed.insert((h.kind, h.idx));
            }
        }
    }

    /// The key an entity id is computed from: the canonical name, plus a stable discriminator
    /// (GeoNames id or ISO code) for an entry whose name a better-ranked entry also has, so the
    /// country Georgia keeps the plain name's id and the US state gets its own.
    pub fn id_key(&self, hit: Hit) -> Option<std::borrow::Cow<'_, str>> {
        let e = self.entity(hit)?;
        if !self.shadowed.contains(&(hit.kind, hit.idx)) {
            return Some(std::borrow::Cow::Borrowed(e.name));
        }
        let i = hit.idx as usize;
        let disc = match hit.kind {
            HitKind::Country | HitKind::Demonym => self.countries.get(i)?.iso2.clone(),
            HitKind::City => self.cities.get(i)?.geonames_id.to_string(),
            HitKind::State => format!("US-{}", self.states.get(i)?.code),
            HitKind::FormerCountry => self.former.get(i)?.code.clone(),
            HitKind::Subdivision => self.subdivisions.get(i)?.code.clone(),
            HitKind::Org => format!("org{i}"),
        };
        Some(std::borrow::Cow::Owned(format!("{} [{disc}]", e.name)))
    }

    /// Hits for exactly this token sequence, best first. Exact case is tried first; the folded
    /// index only when the surface starts with a capital and has ≥ [`MIN_FOLDED_LETTERS`]
    /// letters. Empty when nothing matches.
    pub fn lookup<S: AsRef<str>>(&self, words: &[S]) -> &[Hit] {
        if words.is_empty() || words.len() > self.max_len {
            return &[];
        }
        with_bufs(|key, low| {
            key_into(words, key);
            self.hits_for_key(key, low)
        })
    }

    /// [`Gazetteer::lookup`] of a built key; `low` is scratch.
    fn hits_for_key(&self, key: &str, low: &mut String) -> &[Hit] {
        if let Some(h) = self.exact.get(key) {
            return h.as_slice();
        }
        if starts_upper(key) && letters(key) >= MIN_FOLDED_LETTERS {
            lower_into(key, low);
            if let Some(h) = self.folded.get(low.as_str()) {
                return h.as_slice();
            }
        }
        &[]
    }

    /// Whether some longer name starts with the tokens `key` was built from. Checking the
    /// folded prefixes regardless of case is safe: this only stops a search early.
    fn continues(&self, key: &str, low: &mut String) -> bool {
        if self.stems.contains(key) {
            return true;
        }
        lower_into(key, low);
        self.stems_folded.contains(low.as_str())
    }

    /// Longest name length, in tokens, that may start with the token `first` (0: none).
    fn first_word_max(&self, first: &str) -> usize {
        let map = if starts_upper(first) {
            &self.first_words
        } else {
            &self.first_words_lower
        };
        map.get(first).copied().unwrap_or(0)
    }

    /// Hits for exactly this token sequence in its exact spelling (no case folding).
    pub fn lookup_exact<S: AsRef<str>>(&self, words: &[S]) -> &[Hit] {
        with_bufs(|key, _| {
            key_into(words, key);
            let hits: &[Hit] = self.exact.get(key.as_str()).map_or(&[], Vec::as_slice);
            hits
        })
    }

    /// Longest gazetteer name starting at `words[0]`: its length in tokens and hits.
    pub fn longest_at<S: AsRef<str>>(&self, words: &[S]) -> Option<(usize, &[Hit])> {
        let first = words.first()?.as_ref();
        // Fast path: most tokens start no name at all; decide that without allocating.
        let mut max = self.first_word_max(first);
        if starts_upper(first) || !first.is_ascii() {
            max = with_bufs(|k, low| {
                k.clear();
                norm_token(first, k);
                lower_into(k, low);
                max.max(self.first_word_max(k)).max(
                    self.first_words_folded
                        .get(low.as_str())
                        .copied()
                        .unwrap_or(0),
                )
            });
        }
        let max = max.min(words.len());
        if max == 0 {
            return None;
        }
        // Extend one token at a time, keeping the longest match, until no name continues:
        // the same answer as trying every length from `max` down, with fewer lookups.
        with_bufs(|key, low| {
            key.clear();
            let mut best = None;
            for (i, w) in words[..max].iter().enumerate() {
                if i > 0 {
                    key.push(' ');
                }
                norm_token(w.as_ref(), key);
                let h = self.hits_for_key(key, low);
                if !h.is_empty() {
                    best = Some((i + 1, h));
                }
                if i + 1 < max && !self.continues(key, low) {
                    break;
                }
            }
            best
        })
    }

    /// The canonical entity a hit names.
    pub fn entity(&self, hit: Hit) -> Option<GazEntity<'_>> {
        let i = hit.idx as usize;
        Some(match hit.kind {
            HitKind::Country => {
                let c = self.countries.get(i)?;
                GazEntity {
                    etype: EntityType::Gpe,
                    name: &c.name,
                    geo: Some(country_geo(c)),
                }
            }
            HitKind::Demonym => {
                let c = self.countries.get(i)?;
                let name = c.demonyms.first().map_or(c.name.as_str(), String::as_str);
                GazEntity {
                    etype: EntityType::Norp,
                    name,
                    geo: Some(country_geo(c)),
                }
            }
            HitKind::City => {
                let c = self.cities.get(i)?;
                GazEntity {
                    etype: EntityType::Gpe,
                    name: &c.name,
                    geo: Some(Geo {
                        country_code: c.country_code.clone(),
                        geonames_id: c.geonames_id,
                        lat: c.lat,
                        lon: c.lon,
                    }),
                }
            }
            // The source has no coordinates for states, so no `geo` (see ATTRIBUTION.md).
            HitKind::State => GazEntity {
                etype: EntityType::Gpe,
                name: &self.states.get(i)?.name,
                geo: None,
            },
            HitKind::FormerCountry => GazEntity {
                etype: EntityType::Gpe,
                name: &self.former.get(i)?.name,
                geo: None,
            },
            HitKind::Subdivision => GazEntity {
                etype: EntityType::Gpe,
                name: &self.subdivisions.get(i)?.name,
                geo: None,
            },
            HitKind::Org => {
                let o = self.orgs.get(i)?;
                GazEntity {
                    etype: o.etype,
                    name: &o.name,
                    geo: None,
                }
            }
        })
    }

    /// Population of a city hit (0 for other kinds).
    pub fn population(&self, hit: Hit) -> u64 {
        match hit.kind {
            HitKind::City => self
                .cities
                .get(hit.idx as usize)
                .map_or(0, |c| c.population),
            _ => 0,
        }
    }

    /// ISO 3166-1 alpha-2 code of the country a place hit is in (or is): countries and demonyms
    /// give their own code, cities their country's, US states "US", subdivisions the prefix of
    /// their ISO 3166-2 code. None for organisations and former countries.
    pub fn country_of(&self, hit: Hit) -> Option<&str> {
        let i = hit.idx as usize;
        match hit.kind {
            HitKind::Country | HitKind::Demonym => self.countries.get(i).map(|c| c.iso2.as_str()),
            HitKind::City => self.cities.get(i).map(|c| c.country_code.as_str()),
            HitKind::State => Some("US"),
            HitKind::Subdivision => self
                .subdivisions
                .get(i)
                .and_then(|s| s.code.split('-').next()),
            HitKind::Org | HitKind::FormerCountry => None,
        }
    }

    /// True when the hit is a national capital.
    pub fn is_capital(&self, hit: Hit) -> bool {
        hit.kind == HitKind::City && self.cities.get(hit.idx as usize).is_some_and(|c| c.capital)
    }

    /// Longest title ("Secretary of State", "Mr.") starting at `words[0]`, case-insensitive:
    /// its length in tokens and kind.
    pub fn title_at<S: AsRef<str>>(&self, words: &[S]) -> Option<(usize, TitleKind)> {
        let first = words.first()?;
        if !self.starts_title(first.as_ref()) {
            return None;
        }
        // Keys of words[..n] for growing n, built word by word; the longest listed one wins.
        let max = self.title_max_len.min(words.len());
        with_bufs(|key, word| {
            key.clear();
            let mut best = None;
            for (n, w) in words[..max].iter().enumerate() {
                if n > 0 {
                    key.push(' ');
                }
                word.clear();
                norm_token(w.as_ref(), word);
                if word.is_ascii() {
                    key.extend(word.bytes().map(|b| char::from(b.to_ascii_lowercase())));
                } else {
                    key.push_str(&word.to_lowercase());
                }
                if let Some(k) = self.titles.get(key.as_str()) {
                    best = Some((n + 1, *k));
                }
                if n + 1 < max && !self.title_stems.contains(key.as_str()) {
                    break;
                }
            }
            best
        })
    }

    /// Whether some listed title starts with `word` (any case).
    pub fn starts_title(&self, word: &str) -> bool {
        // An ASCII word keeps its length, and its first and last bytes lowercased, through
        // normalising and lowercasing (but for '`', which becomes '\''): rule most words
        // out on those three first.
        let b = word.as_bytes();
        if let (Some(&f), Some(&l)) = (b.first(), b.last()) {
            if word.is_ascii() {
                let fold = |c: u8| {
                    if c == b'`' {
                        b'\''
                    } else {
                        c.to_ascii_lowercase()
                    }
                };
                let bit = title_filter_bit(b.len(), fold(f), fold(l));
                if self.title_start_filter[bit >> 6] & (1 << (bit & 63)) == 0 {
                    return false;
                }
            }
        }
        // Plain lowercase ASCII words (most of them) need no normalising copy.
        if word
            .bytes()
            .all(|b| b.is_ascii() && b != b'`' && !b.is_ascii_uppercase())
        {
            return self.title_starts.contains(word);
        }
        with_bufs(|k, low| {
            k.clear();
            norm_token(word, k);
            if k.chars().any(char::is_uppercase) {
                lower_into(k, low);
                return self.title_starts.contains(low.as_str());
            }
            self.title_starts.contains(k.as_str())
        })
    }

    /// True for a company suffix ("Inc.", "plc", "AG"), exact case.
    pub fn is_company_suffix(&self, word: &str) -> bool {
        self.suffixes.contains(word)
    }

    /// The countries, in file order.
    pub fn countries(&self) -> &[Country] {
        &self.countries
    }

    /// The cities, in file order.
    pub fn cities(&self) -> &[City] {
        &self.cities
    }

    /// Number of (countries, cities, states, organisations) loaded.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        (
            self.countries.len(),
            self.cities.len(),
            self.states.len(),
            self.orgs.len(),
        )
    }
}

fn push_unique(v: &mut Vec<Hit>, hit: Hit) {
    // An entry listing the same alias twice, or an alias equal to its name, keeps the best rank.
    if let Some(h) = v
        .iter_mut()
        .find(|h| h.kind == hit.kind && h.idx == hit.idx)
    {
        if hit.rank < h.rank {
            *h = hit;
        }
        return;
    }
    v.push(hit);
}

fn country_geo(c: &Country) -> Geo {
    Geo {
        country_code: c.iso2.clone(),
        geonames_id: c.geonames_id,
        lat: c.lat,
        lon: c.lon,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The gazetteer shipped in `data/gazetteers` (relative to the crate root), loaded once
    /// per test binary.
    pub(crate) fn shipped() -> &'static Gazetteer {
        static SHIPPED: std::sync::OnceLock<Gazetteer> = std::sync::OnceLock::new();
        SHIPPED.get_or_init(|| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gazetteers");
            Gazetteer::load(&dir).expect("shipped gazetteers load")
        })
    }

    fn words(s: &str) -> Vec<String> {
        name_words(s)
    }

    fn name_of(g: &Gazetteer, s: &str) -> Option<(EntityType, String)> {
        let h = *g.lookup(&words(s)).first()?;
        let e = g.entity(h)?;
        Some((e.etype, e.name.to_string()))
    }

    #[test]
    fn is_send_sync() {
        fn check<T: Send + Sync>() {}
        check::<Gazetteer>();
    }

    #[test]
    fn countries_aliases_and_demonyms() {
        let g = shipped();
        assert_eq!(
            name_of(g, "U.S."),
            Some((EntityType::Gpe, "United States".into()))
        );
        assert_eq!(
            name_of(g, "USA"),
            Some((EntityType::Gpe, "United States".into()))
        );
        assert_eq!(
            name_of(g, "United States of America"),
            Some((EntityType::Gpe, "United States".into()))
        );
        assert_eq!(
            name_of(g, "Russians"),
            Some((EntityType::Norp, "Russian".into()))
        );
        assert_eq!(
            name_of(g, "Syrian"),
            Some((EntityType::Norp, "Syrian".into()))
        );
        assert_eq!(
            name_of(g, "USSR"),
            Some((EntityType::Gpe, "Soviet Union".into()))
        );
        assert_eq!(
            name_of(g, "Alberta"),
            Some((EntityType::Gpe, "Alberta".into()))
        );
        assert_eq!(
            name_of(g, "West Germany"),
            Some((EntityType::Gpe, "Germany".into()))
        );
        assert_eq!(
            name_of(g, "Georgia"),
            Some((EntityType::Gpe, "Georgia".into()))
        );
        let (c, _, s, o) = g.counts();
        assert!(c > 240 && s == 51 && o > 50, "{:?}", g.counts());
    }

    #[test]
    fn cities_by_priority_and_alias() {
        let g = shipped();
        let h = g.lookup(&words("Bagdad"))[0];
        let b = g.lookup(&words("Baghdad"))[0];
        assert_eq!(g.entity(h), g.entity(b));
        assert_eq!(
            g.entity(b).and_then(|e| e.geo).map(|x| x.country_code),
            Some("IQ".into())
        );
        let d = g.entity(g.lookup(&words("Damascus"))[0]).expect("damascus");
        assert_eq!(d.geo.map(|x| x.country_code), Some("SY".into()));
        assert_eq!(
            name_of(g, "New York"),
            Some((EntityType::Gpe, "New York".into()))
        );
        assert!(g.is_capital(g.lookup(&words("Tehran"))[0]));
    }

    #[test]
    fn homonyms_get_distinct_id_keys() {
        let g = shipped();
        let hits = g.lookup(&words("Georgia"));
        let country = hits
            .iter()
            .find(|h| h.kind == HitKind::Country)
            .copied()
            .expect("country");
        let state = hits
            .iter()
            .find(|h| h.kind == HitKind::State)
            .copied()
            .expect("state");
        assert_eq!(g.id_key(country).as_deref(), Some("Georgia"));
        assert_eq!(g.id_key(state).as_deref(), Some("Georgia [US-GA]"));
        let ny = g.lookup(&words("New York"))[0];
        assert_eq!(g.id_key(ny).as_deref(), Some("New York"));
    }

    #[test]
    fn case_policy_keeps_acronyms_exact() {
        let g = shipped();
        assert_eq!(
            name_of(g, "IS"),
            Some((EntityType::Org, "Islamic State".into()))
        );
        assert!(g.lookup(&words("is")).is_empty());
        assert!(g.lookup(&words("Is")).is_empty());
        assert_eq!(name_of(g, "SYRIA"), Some((EntityType::Gpe, "Syria".into())));
        assert!(
            g.lookup(&words("syria")).is_empty(),
            "lowercase surfaces never fold"
        );
    }

    /// The search `longest_at` replaced: every length from the longest a first word allows
    /// down to one, the first with hits wins.
    fn longest_by_lengths<'g>(g: &'g Gazetteer, words: &[String]) -> Option<(usize, &'g [Hit])> {
        let first = words.first()?;
        let mut key = String::new();
        norm_token(first, &mut key);
        let max = [
            g.first_words.get(first.as_str()),
            g.first_words.get(key.as_str()),
            g.first_words_folded.get(key.to_lowercase().as_str()),
        ]
        .into_iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .min(words.len());
        (1..=max).rev().find_map(|n| {
            let h = g.lookup(&words[..n]);
            (!h.is_empty()).then_some((n, h))
        })
    }

    #[test]
    fn longest_match_equals_trying_every_length() {
        let g = shipped();
        let mut keys: Vec<&String> = g.exact.keys().collect();
        keys.sort();
        let tail = words("of the Levant said on Monday");
        let mut checked = 0;
        for (i, key) in keys.iter().enumerate() {
            let base = words(key);
            let upper = words(&key.to_uppercase());
            let lower = words(&key.to_lowercase());
            // The next key's words after this one's: names that run into each other.
            let next = words(keys[(i * 7919 + 1) % keys.len()]);
            for mut w in [base.clone(), upper, lower] {
                for cut in 0..w.len() {
                    let short = &w[cut..];
                    let got = g.longest_at(short);
                    assert_eq!(got, longest_by_lengths(g, short), "{short:?}");
                    checked += 1;
                }
                w.extend(tail.iter().cloned());
                assert_eq!(g.longest_at(&w), longest_by_lengths(g, &w), "{w:?}");
                w.truncate(base.len());
                w.extend(next.iter().cloned());
                assert_eq!(g.longest_at(&w), longest_by_lengths(g, &w), "{w:?}");
            }
        }
        let sample = include_str!("../../data/sample/articles.jsonl");
        let w = words(sample);
        for i in 0..w.len() {
            let end = (i + 12).min(w.len());
            assert_eq!(g.longest_at(&w[i..end]), longest_by_lengths(g, &w[i..end]));
        }
        assert!(checked > 100_000, "{checked}");
    }

    /// `title_at` without the stop at keys no title continues: every length is tried.
    fn title_by_lengths<S: AsRef<str>>(g: &Gazetteer, words: &[S]) -> Option<(usize, TitleKind)> {
        if !g.starts_title(words.first()?.as_ref()) {
            return None;
        }
        (1..=g.title_max_len.min(words.len()))
            .filter_map(|n| {
                let key = key_of(&words[..n]).to_lowercase();
                g.titles.get(key.as_str()).map(|&k| (n, k))
            })
            .last()
    }

    #[test]
    fn title_search_equals_trying_every_length() {
        let g = shipped();
        let mut titles: Vec<&String> = g.titles.keys().collect();
        titles.sort();
        let tail = words("of State John Kerry said");
        for (i, t) in titles.iter().enumerate() {
            let next = words(titles[(i * 31 + 7) % titles.len()]);
            for mut w in [words(t), words(&t.to_uppercase()), words(&capitalise(t))] {
                let n = w.len();
                for cut in 0..n {
                    assert_eq!(g.title_at(&w[cut..]), title_by_lengths(g, &w[cut..]));
                }
                w.extend(tail.iter().cloned());
                assert_eq!(g.title_at(&w), title_by_lengths(g, &w), "{w:?}");
                w.truncate(n);
                w.extend(next.iter().cloned());
                assert_eq!(g.title_at(&w), title_by_lengths(g, &w), "{w:?}");
            }
        }
        let w = words(include_str!("../../data/sample/articles.jsonl"));
        for i in 0..w.len() {
            let end = (i + 8).min(w.len());
            assert_eq!(g.title_at(&w[i..end]), title_by_lengths(g, &w[i..end]));
        }
    }

    fn capitalise(s: &str) -> String {
        s.split(' ')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            })
            .collect::<Vec<String>>()
            .join(" ")
    }

    #[test]
    fn longest_match_and_titles() {
        let g = shipped();
        let w = words("Islamic State of Iraq and the Levant said");
        let (n, h) = g.longest_at(&w).expect("match");
        assert_eq!(n, 7);
        assert_eq!(g.entity(h[0]).map(|e| e.name), Some("Islamic State"));
        assert_eq!(
            g.title_at(&words("Secretary of State John")),
            Some((3, TitleKind::Position))
        );
        assert_eq!(
            g.title_at(&words("Mr. Kerry")),
            Some((1, TitleKind::Honorific))
        );
        assert!(g.is_company_suffix("Inc."));
        assert!(!g.is_company_suffix("inc"));
    }

    /// The length and first-byte prefilter never rejects a word the set holds.
    #[test]
    fn title_start_prefilter_matches_the_set() {
        let g = shipped();
        let mut words: Vec<String> = Vec::new();
        for k in &g.title_starts {
            words.push(k.clone());
            words.push(k.to_uppercase());
            let mut c = k.chars();
            if let Some(f) = c.next() {
                words.push(f.to_uppercase().chain(c).collect());
            }
            words.push(format!("{k}s"));
            words.push(k[..k.len() - 1].to_string());
        }
        for w in [
            "", "`s", "'s", "the", "The", "said", "x", "Zürich", "a", "Mr", "MR", "mr.", "`mr",
        ] {
            words.push(w.to_string());
        }
        words.extend(name_words(include_str!("../../data/sample/articles.jsonl")));
        assert!(words.len() > 1000);
        for w in &words {
            let mut k = String::new();
            norm_token(w, &mut k);
            let slow = g.title_starts.contains(&k.to_lowercase());
            assert_eq!(g.starts_title(w), slow, "{w:?}");
        }
    }

    #[test]
    fn builtin_equals_shipped_files() {
        let b = Gazetteer::builtin().expect("built-in gazetteers parse");
        assert_eq!(b.counts(), shipped().counts());
        assert_eq!(b.countries(), shipped().countries());
    }

    #[test]
    fn errors_name_file_and_line() {
        let dir = std::env::temp_dir().join(format!("gaz-test-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("tmp");
        let missing = Gazetteer::load(&dir).expect_err("no files");
        assert!(missing.to_string().contains("countries.tsv"), "{missing}");
        fs::write(
            dir.join("countries.tsv"),
            "# c\nUS\tUSA\tUnited States\tWashington\tx\t1\t2\t\t\n",
        )
        .expect("write");
        let bad = Gazetteer::load(&dir).expect_err("bad id");
        assert!(bad.to_string().contains("countries.tsv:2"), "{bad}");
        fs::remove_dir_all(&dir).ok();
    }
}

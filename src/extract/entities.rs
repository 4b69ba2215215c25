//! Per-document entity resolution: the one entry point the extract stage calls.
//!
//! Input: clean document text, its published date, tokens, sentences (token ranges) and the
//! NER model's spans per sentence (sentence-relative token indices).
//! Output: `Vec<Mention>` sorted by `start`, never overlapping, each with `text` equal to the
//! chars `start..end` of the document text, its sentence index, a fine type and a canonical
//! [`EntityRef`](crate::doc::EntityRef).
//!
//! Order of evidence: model spans (fine-typed, see `typing`), then numeric rules in the gaps
//! (see `numeric`), then gazetteer-only names in what is left; finally the linker resolves every
//! mention to its entity (see `linker`). Deterministic, read-only over the shared
//! [`Gazetteer`], and never panics on any input (bad span indices are ignored).

use std::ops::Range;
use std::sync::Arc;

use crate::doc::Mention;
use crate::extract::gazetteer::Gazetteer;
use crate::extract::linker::link;
use crate::extract::ner::Span;
use crate::extract::numeric::{find_numeric, Date};
use crate::extract::tokens::Token;
use crate::extract::typing::{gazetteer_candidates, model_candidates, Candidate, Origin};

/// Confidence of numeric-rule mentions: the rules need a unit or cue next to the number.
pub const NUMERIC_CONFIDENCE: f32 = 0.95;

/// Turns model spans and rules into typed, linked mentions for one document at a time.
/// `Send + Sync`; build once and share across workers.
#[derive(Debug, Clone)]
pub struct EntityResolver {
    gaz: Arc<Gazetteer>,
}

impl EntityResolver {
    /// A resolver over the loaded gazetteer.
    pub fn new(gaz: Arc<Gazetteer>) -> EntityResolver {
        EntityResolver { gaz }
    }

    /// The gazetteer in use (the relation and quote extractors look titles up in it).
    pub fn gazetteer(&self) -> &Gazetteer {
        &self.gaz
    }

    /// Mentions of one document (see the module docs). `published` is the document's ISO 8601
    /// date or timestamp; other formats leave relative dates without a value. `spans[i]` are the
    /// model's spans of `sentences[i]`; missing entries count as no spans.
    pub fn resolve(
        &self,
        text: &str,
        published: Option<&str>,
        tokens: &[Token],
        sentences: &[Range<usize>],
        spans: &[Vec<Span>],
    ) -> Vec<Mention> {
        let gaz = &*self.gaz;
        let words: Vec<&str> = tokens.iter().map(|t| t.text(text)).collect();
        let glue: Vec<bool> = (0..tokens.len())
            .map(|i| tokens.get(i + 1).is_some_and(|n| n.start == tokens[i].end))
            .collect();
        let published = published.and_then(Date::parse_iso);
        let mut taken = vec![false; tokens.len()];
        let mut cands: Vec<Candidate> = Vec::new();
        for (si, sent) in sentences.iter().enumerate() {
            let sent = sent.start.min(tokens.len())..sent.end.min(tokens.len());
            if sent.start >= sent.end {
                continue;
            }
            let mut local = model_candidates(
                gaz,
                &words,
                &sent,
                si,
                spans.get(si).map_or(&[], Vec::as_slice),
            );
            local.retain(|c| !c.tokens.is_empty() && !taken[c.tokens.clone()].iter().any(|t| *t));
            mark(&mut taken, &local);
            let numeric: Vec<Candidate> = find_numeric(text, tokens, sent.clone(), published)
                .into_iter()
                .filter(|m| !taken[m.tokens.clone()].iter().any(|t| *t))
                .map(|m| Candidate {
                    tokens: m.tokens,
                    sentence: si,
                    etype: m.etype,
                    confidence: NUMERIC_CONFIDENCE,
                    hit: None,
                    value: m.value,
                    origin: Origin::Rule,
                })
                .collect();
            mark(&mut taken, &numeric);
            local.extend(numeric);
            let gazetteer = gazetteer_candidates(gaz, &words, &sent, si, &taken);
            mark(&mut taken, &gazetteer);
            local.extend(gazetteer);
            cands.extend(local);
        }
        cands.sort_by_key(|c| c.tokens.start);
        let refs = link(gaz, &mut cands, &words, &glue);
        cands
            .into_iter()
            .zip(refs)
            .map(|(c, entity)| {
                let (a, b) = (&tokens[c.tokens.start], &tokens[c.tokens.end - 1]);
                Mention {
                    start: a.start,
                    end: b.end,
                    text: text.get(a.byte_start..b.byte_end).unwrap_or("").to_string(),
                    etype: c.etype,
                    sentence: c.sentence,
                    confidence: c.confidence,
                    entity,
                }
            })
            .collect()
    }
}

fn mark(taken: &mut [bool], cands: &[Candidate]) {
    for c in cands {
        for t in &mut taken[c.tokens.clone()] {
            *t = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::EntityType;
    use crate::extract::ner::CoarseType;
    use crate::extract::sentences::split_sentences;
    use crate::extract::tokens::tokenize;
    use std::collections::BTreeMap;

    /// Team-written paraphrase of the seed situation (not the seed article's wording).
    const STORY: &str =
        "Moscow, Tehran, Damascus and Baghdad Form Intelligence Pact Against IS\n\n\
Officials in Baghdad said on Sunday that Russia, Syria, Iran and Iraq will share intelligence \
through a joint cell based in the Iraqi capital.\n\n\
The Joint Operations Command in Iraq said the pact with Moscow reflects worry about Russian \
fighters who have joined Islamic State.\n\n\
The U.S. military objected to working beside the government of Syria's President Bashar al-Assad. \
Washington does not want Syrian officials involved, a U.S. statement said.\n\n\
Secretary of State John Kerry raised the issue before he met Sergey Lavrov, the Russian foreign \
minister, in New York. Kerry said Assad must go.\n\n\
The U.S. has spent $500 million training rebels who fight Assad and IS.";

    fn shipped_arc() -> Arc<Gazetteer> {
        static ARC: std::sync::OnceLock<Arc<Gazetteer>> = std::sync::OnceLock::new();
        ARC.get_or_init(|| {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/gazetteers");
            Arc::new(Gazetteer::load(&dir).expect("shipped gazetteers load"))
        })
        .clone()
    }

    /// Hand-made model spans: (surface, label), found in order of appearance.
    const SPANS: &[(&str, CoarseType)] = &[
        ("Moscow", CoarseType::Loc),
        ("Tehran", CoarseType::Loc),
        ("Damascus", CoarseType::Loc),
        ("Baghdad", CoarseType::Loc),
        ("Baghdad", CoarseType::Loc),
        ("Russia", CoarseType::Loc),
        ("Syria", CoarseType::Loc),
        ("Iran", CoarseType::Loc),
        ("Iraq", CoarseType::Loc),
        ("Iraqi", CoarseType::Misc),
        ("Joint Operations Command", CoarseType::Org),
        ("Iraq", CoarseType::Loc),
        ("Moscow", CoarseType::Loc),
        ("Russian", CoarseType::Misc),
        ("Islamic State", CoarseType::Org),
        ("Syria", CoarseType::Loc),
        ("Bashar al-Assad", CoarseType::Per),
        ("Washington", CoarseType::Loc),
        ("Syrian", CoarseType::Misc),
        ("Secretary of State John Kerry", CoarseType::Per),
        ("Sergey Lavrov", CoarseType::Per),
        ("Russian", CoarseType::Misc),
        ("New York", CoarseType::Loc),
        ("Kerry", CoarseType::Per),
        ("Assad", CoarseType::Per),
        ("Assad", CoarseType::Org),
    ];

    /// Places hand-made spans on the tokens: each surface is matched at its next occurrence.
    fn model_spans(
        text: &str,
        tokens: &[Token],
        sentences: &[Range<usize>],
        spans: &[(&str, CoarseType)],
    ) -> Vec<Vec<Span>> {
        let words: Vec<&str> = tokens.iter().map(|t| t.text(text)).collect();
        let mut out = vec![Vec::new(); sentences.len()];
        let mut from = 0;
        for (surf, label) in spans {
            let sw: Vec<&str> = tokenize(surf).iter().map(|t| t.text(surf)).collect();
            let at = (from..words.len())
                .find(|&i| words[i..].starts_with(&sw))
                .unwrap_or_else(|| panic!("span {surf} not found"));
            let si = sentences
                .iter()
                .position(|s| s.contains(&at))
                .expect("in a sentence");
            let s0 = sentences[si].start;
            out[si].push(Span {
                start: at - s0,
                end: at + sw.len() - s0,
                label: *label,
                confidence: 0.9,
            });
            from = at + sw.len();
        }
        out
    }

    fn resolve(text: &str, published: Option<&str>, spans: &[(&str, CoarseType)]) -> Vec<Mention> {
        let r = EntityResolver::new(shipped_arc());
        let tokens = tokenize(text);
        let sentences = split_sentences(text, &tokens);
        let sp = model_spans(text, &tokens, &sentences, spans);
        r.resolve(text, published, &tokens, &sentences, &sp)
    }

    fn check_invariants(text: &str, ms: &[Mention]) {
        for w in ms.windows(2) {
            assert!(
                w[0].end <= w[1].start,
                "sorted and non-overlapping: {:?} {:?}",
                w[0],
                w[1]
            );
        }
        for m in ms {
            let s: String = text.chars().skip(m.start).take(m.end - m.start).collect();
            assert_eq!(s, m.text, "offsets slice back to the mention text");
            assert!((0.0..=1.0).contains(&m.confidence));
        }
    }

    #[test]
    fn seed_situation_end_to_end() {
        let ms = resolve(STORY, Some("2015-09-28T08:00:00Z"), SPANS);
        check_invariants(STORY, &ms);
        // Canonical name → (type, ids seen, surfaces seen).
        let mut ents: BTreeMap<String, (EntityType, Vec<u64>, Vec<String>)> = BTreeMap::new();
        for m in &ms {
            let e = ents
                .entry(m.entity.name.clone())
                .or_insert((m.entity.etype, vec![], vec![]));
            assert_eq!(e.0, m.entity.etype, "{} has one type", m.entity.name);
            e.1.push(m.entity.id);
            e.2.push(m.text.clone());
        }
        let expected = [
            ("Russia", EntityType::Gpe),
            ("Syria", EntityType::Gpe),
            ("Iran", EntityType::Gpe),
            ("Iraq", EntityType::Gpe),
            ("Baghdad", EntityType::Gpe),
            ("Moscow", EntityType::Gpe),
            ("Tehran", EntityType::Gpe),
            ("Damascus", EntityType::Gpe),
            ("New York", EntityType::Gpe),
            ("United States", EntityType::Gpe),
            ("Islamic State", EntityType::Org),
            ("Joint Operations Command", EntityType::Org),
            ("Bashar al-Assad", EntityType::Person),
            ("John Kerry", EntityType::Person),
            ("Sergey Lavrov", EntityType::Person),
            ("Russian", EntityType::Norp),
            ("Syrian", EntityType::Norp),
            ("Sunday", EntityType::Date),
            ("$500 million", EntityType::Money),
        ];
        for (name, t) in expected {
            let e = ents.get(name).unwrap_or_else(|| {
                panic!("missing {name}; got {:?}", ents.keys().collect::<Vec<_>>())
            });
            assert_eq!(e.0, t, "{name}");
            assert!(e.1.windows(2).all(|w| w[0] == w[1]), "{name}: one id");
        }
        for (name, alias) in [
            ("United States", "U.S."),
            ("Islamic State", "IS"),
            ("Bashar al-Assad", "Assad"),
            ("John Kerry", "Kerry"),
        ] {
            assert!(
                ents[name].2.iter().any(|s| s == alias),
                "{alias} resolves to {name}: {:?}",
                ents[name].2
            );
        }
        let sunday = ms.iter().find(|m| m.text == "Sunday").expect("Sunday");
        assert_eq!(sunday.entity.value.as_deref(), Some("2015-09-27"));
        let money = ms
            .iter()
            .find(|m| m.etype == EntityType::Money)
            .expect("money");
        assert_eq!(money.entity.value.as_deref(), Some("500000000 USD"));
        let baghdad = ms.iter().find(|m| m.text == "Baghdad").expect("Baghdad");
        assert_eq!(
            baghdad.entity.geo.as_ref().map(|g| g.geonames_id),
            Some(98182)
        );
        let russian = ms.iter().find(|m| m.text == "Russian").expect("Russian");
        assert_eq!(
            russian.entity.geo.as_ref().map(|g| g.country_code.as_str()),
            Some("RU")
        );
        assert!(ms.iter().all(|m| m.text != "is"), "the verb is never IS");
        // Sentence indices point at the sentence containing the mention.
        let tokens = tokenize(STORY);
        let sents = split_sentences(STORY, &tokens);
        for m in &ms {
            let s = &sents[m.sentence];
            assert!(tokens[s.start].start <= m.start && m.end <= tokens[s.end - 1].end);
        }
    }

    #[test]
    fn seed_article_if_present() {
        // The repo sits next to `shared/` (../shared); scratch crates one level deeper.
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let found = [
            "../shared/seed/article.txt",
            "../../shared/seed/article.txt",
        ]
        .iter()
        .map(|p| root.join(p))
        .find(|p| p.exists());
        let Some(text) = found.and_then(|p| std::fs::read_to_string(p).ok()) else {
            eprintln!("skipping seed_article_if_present: shared/seed/article.txt not found next to the repo");
            return;
        };
        // No model spans at all: the gazetteer and rules alone must still find the core facts.
        let r = EntityResolver::new(shipped_arc());
        let tokens = tokenize(&text);
        let sentences = split_sentences(&text, &tokens);
        let ms = r.resolve(&text, Some("2015-09-28"), &tokens, &sentences, &[]);
        check_invariants(&text, &ms);
        let names: Vec<&str> = ms.iter().map(|m| m.entity.name.as_str()).collect();
        for n in [
            "Russia",
            "Syria",
            "Iran",
            "Iraq",
            "Baghdad",
            "Moscow",
            "Tehran",
            "Damascus",
            "New York",
            "United States",
            "Islamic State",
            "Russian",
            "Syrian",
            "Sunday",
            "$500 million",
        ] {
            assert!(names.contains(&n), "missing {n}");
        }
    }

    #[test]
    fn numeric_ids_follow_values() {
        let text = "The U.S. pledged $500 million. Later 500 mln dlrs and 20 billion yen arrived.";
        let ms = resolve(text, None, &[]);
        check_invariants(text, &ms);
        let money: Vec<&Mention> = ms.iter().filter(|m| m.etype == EntityType::Money).collect();
        assert_eq!(money.len(), 3);
        assert_eq!(
            money[0].entity.id, money[1].entity.id,
            "same value, same entity"
        );
        assert_ne!(money[0].entity.id, money[2].entity.id);
        assert_eq!(
            money[1].entity.name, "500 mln dlrs",
            "display name is the surface form"
        );
    }

    #[test]
    fn deterministic_and_idempotent() {
        let a = resolve(STORY, Some("2015-09-28"), SPANS);
        let b = resolve(STORY, Some("2015-09-28"), SPANS);
        assert_eq!(a, b);
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let r = EntityResolver::new(shipped_arc());
        assert!(r.resolve("", None, &[], &[], &[]).is_empty());
        for text in [
            "Путин встретился с Асадом в Москве 5 октября.",
            "北京市 和 上海",
            "$ % 12.5 — «IS»",
            "\u{301}\u{200b}",
        ] {
            let tokens = tokenize(text);
            let sentences = split_sentences(text, &tokens);
            let ms = r.resolve(text, Some("garbage"), &tokens, &sentences, &[]);
            check_invariants(text, &ms);
        }
        // Out-of-range and inverted spans are ignored.
        let text = "Kerry met Lavrov.";
        let tokens = tokenize(text);
        let sentences = split_sentences(text, &tokens);
        let bad = vec![
            vec![
                Span {
                    start: 2,
                    end: 1,
                    label: CoarseType::Per,
                    confidence: 0.5
                },
                Span {
                    start: 0,
                    end: 99,
                    label: CoarseType::Per,
                    confidence: 0.5
                },
                Span {
                    start: 0,
                    end: 1,
                    label: CoarseType::Per,
                    confidence: 7.0
                },
            ];
            3
        ];
        let ms = r.resolve(text, None, &tokens, &sentences, &bad);
        check_invariants(text, &ms);
        assert_eq!(ms.len(), 1);
    }

    #[test]
    fn long_sentence_is_fine() {
        let r = EntityResolver::new(shipped_arc());
        let text = "Syria and $5 million and IS and 12 pct and Kerry ".repeat(500);
        let tokens = tokenize(&text);
        assert!(tokens.len() >= 5000);
        let sentences: Vec<Range<usize>> = std::iter::once(0..tokens.len()).collect();
        let t0 = std::time::Instant::now();
        let ms = r.resolve(&text, Some("2015-09-28"), &tokens, &sentences, &[]);
        check_invariants(&text, &ms);
        // Syria, $5 million, IS and 12 pct each time (Kerry has no span): 4 × 500.
        assert_eq!(ms.len(), 2000);
        eprintln!(
            "5k-token sentence: {} mentions in {:?}",
            ms.len(),
            t0.elapsed()
        );
    }
}

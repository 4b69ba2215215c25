//! `newsmill eval relations`: the production entity path plus the relation stage on a
//! CoNLL04 file (one item = one sentence, tokens joined by spaces; a period glued to a
//! sentence-final word is split off for the NER, see `relations::ner_tokens`), scored strictly: an
//! entity needs its exact span and type, a relation both argument spans and types and its
//! label. Types map PERSON→Peop, ORG→Org, GPE/LOC→Loc, everything else→Other; predicates map
//! works_for/leader_of→Work_For with an ORG object, and works_for/leader_of/citizen_of with
//! a GPE object → Live_In (CoNLL04's convention for people serving a country), killed→Kill, based_in→OrgBased_In, lives_in→Live_In, located_in→Located_In;
//! other predicates are not scored. Mention spans are mapped to CoNLL04's conventions by
//! [`dataset_span`] (the same mapping labels the classifier's training examples): CoNLL04
//! keeps the few titles its annotators mostly kept inside person spans
//! ([`CONLL04_TITLES`](crate::extract::relations::CONLL04_TITLES), unless a capitalised
//! modifier precedes a title of office; other titles stay outside as in newsmill: "Gov." is
//! left out of "James Thompson"), and where an item ends in a lone place abbreviation whose
//! period the dataset split off as the final token ("ROYAL OAK , Mich ."), the span takes it.
//! Cross-checked with `shared/tools/conll04_score.py`.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use crate::doc::EntityType;
use crate::extract::relations::{
    dataset_span, item_text, ner_tokens, one_sentence, read_conll04, token_span, Coarse,
    LabelScore, Predicate, RelError, RelObject, RelationExtractor,
};
use crate::extract::Extractor;

/// CoNLL04 relation labels, in report order.
pub const CONLL04_LABELS: [&str; 5] = ["Kill", "Live_In", "Located_In", "OrgBased_In", "Work_For"];

/// Scores of one run.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Sentences read.
    pub sentences: usize,
    /// Entity counts (label "entities").
    pub entities: LabelScore,
    /// Relation counts per label (CoNLL04 names), then "micro".
    pub relations: Vec<LabelScore>,
    /// Wall time of NER + relations over the file, seconds.
    pub seconds: f64,
}

impl Report {
    /// Human-readable summary in the layout of `conll04_score.py`.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let (p, r, f) = self.entities.prf();
        let _ = writeln!(s, "entities  P {p:.4} R {r:.4} F1 {f:.4}");
        for l in self.relations.iter().rev().take(1) {
            let (p, r, f) = l.prf();
            let _ = writeln!(s, "relations P {p:.4} R {r:.4} F1 {f:.4} (strict)");
        }
        for l in &self.relations[..self.relations.len().saturating_sub(1)] {
            let (p, r, f) = l.prf();
            let _ = writeln!(
                s,
                "  {:<12} P {p:.4} R {r:.4} F1 {f:.4} (gold {})",
                l.label, l.gold
            );
        }
        let _ = writeln!(
            s,
            "{} sentences in {:.2} s ({:.0} sentences/s)",
            self.sentences,
            self.seconds,
            self.sentences as f64 / self.seconds.max(1e-9)
        );
        s
    }
}

/// CoNLL04 entity type of a newsmill type.
pub fn conll04_type(t: EntityType) -> &'static str {
    match t {
        EntityType::Person => "Peop",
        EntityType::Org => "Org",
        EntityType::Gpe | EntityType::Loc => "Loc",
        _ => "Other",
    }
}

/// CoNLL04 label of a relation, given its object's type.
fn conll04_label(p: Predicate, object_type: EntityType) -> Option<&'static str> {
    match p {
        // CoNLL04 annotates a person serving a country ("U.S. Ambassador Vernon Walters")
        // as Live_In: Work_For needs an Org.
        Predicate::WorksFor | Predicate::LeaderOf if object_type == EntityType::Org => {
            Some("Work_For")
        }
        Predicate::WorksFor | Predicate::LeaderOf | Predicate::CitizenOf
            if object_type == EntityType::Gpe =>
        {
            Some("Live_In")
        }
        Predicate::Killed => Some("Kill"),
        Predicate::BasedIn => Some("OrgBased_In"),
        Predicate::LivesIn => Some("Live_In"),
        Predicate::LocatedIn => Some("Located_In"),
        _ => None,
    }
}

type Ent = (usize, usize, String);
type Rel = (usize, usize, usize, usize, String);

/// Run NER + relations over `file`, score, and optionally write predictions as JSON lines
/// in the dataset's format.
pub fn evaluate(
    x: &Extractor,
    rel: &RelationExtractor,
    file: &Path,
    predictions_out: Option<&Path>,
) -> Result<Report, RelError> {
    let items = read_conll04(file)?;
    let mut ent = LabelScore {
        label: "entities".into(),
        ..LabelScore::default()
    };
    let mut per: Vec<LabelScore> = CONLL04_LABELS
        .iter()
        .map(|l| LabelScore {
            label: (*l).to_string(),
            ..LabelScore::default()
        })
        .collect();
    let mut lines = String::new();
    let t0 = Instant::now();
    for it in &items {
        let (text, toks) = item_text(it);
        let nt = ner_tokens(&text, &toks);
        let sents = one_sentence(nt.len());
        let ex = x.process_tokens(&text, None, &nt, &sents);
        let rels = rel.extract(&text, &nt, &sents, &ex.mentions);
        let gaz = rel.gazetteer();
        let span = |mi: usize| {
            let m = &ex.mentions[mi];
            token_span(&toks, m.start, m.end)
                .map(|r| dataset_span(gaz, &it.tokens, r, Coarse::of(m.etype)))
                .map(|r| (r.start, r.end))
        };
        let mut pe: BTreeSet<Ent> = BTreeSet::new();
        for (mi, m) in ex.mentions.iter().enumerate() {
            if let Some((a, b)) = span(mi) {
                pe.insert((a, b, conll04_type(m.etype).to_string()));
            }
        }
        let mut pr: BTreeSet<Rel> = BTreeSet::new();
        for r in &rels {
            let RelObject::Mention(o) = r.object else {
                continue;
            };
            let Some(label) = conll04_label(r.predicate, ex.mentions[o].etype) else {
                continue;
            };
            if let (Some(h), Some(t)) = (span(r.subject), span(o)) {
                pr.insert((h.0, h.1, t.0, t.1, label.to_string()));
            }
        }
        // Score as the reference script does: relation = spans + arg types + label.
        let ge: BTreeSet<Ent> = it.entities.iter().cloned().collect();
        ent.correct += pe.intersection(&ge).count();
        ent.pred += pe.len();
        ent.gold += ge.len();
        let gtype = |s: usize, e: usize, set: &BTreeSet<Ent>| {
            set.iter()
                .find(|x| x.0 == s && x.1 == e)
                .map(|x| x.2.clone())
        };
        let typed = |r: &Rel, set: &BTreeSet<Ent>| {
            (
                r.0,
                r.1,
                gtype(r.0, r.1, set),
                r.2,
                r.3,
                gtype(r.2, r.3, set),
                r.4.clone(),
            )
        };
        let gr: BTreeSet<_> = it.relations.iter().map(|r| typed(r, &ge)).collect();
        let prt: BTreeSet<_> = pr.iter().map(|r| typed(r, &pe)).collect();
        for (i, l) in CONLL04_LABELS.iter().enumerate() {
            per[i].gold += gr.iter().filter(|r| r.6 == *l).count();
            per[i].pred += prt.iter().filter(|r| r.6 == *l).count();
            per[i].correct += prt.iter().filter(|r| r.6 == *l && gr.contains(*r)).count();
        }
        if predictions_out.is_some() {
            let v = serde_json::json!({
                "tokens": it.tokens,
                "entities": pe.iter().map(|e| serde_json::json!([e.0, e.1, e.2])).collect::<Vec<_>>(),
                "relations": pr.iter().map(|r| serde_json::json!([r.0, r.1, r.2, r.3, r.4])).collect::<Vec<_>>(),
            });
            lines.push_str(&v.to_string());
            lines.push('\n');
        }
    }
    let seconds = t0.elapsed().as_secs_f64();
    let mut micro = LabelScore {
        label: "micro".into(),
        ..LabelScore::default()
    };
    for l in &per {
        micro.correct += l.correct;
        micro.pred += l.pred;
        micro.gold += l.gold;
    }
    per.push(micro);
    if let Some(p) = predictions_out {
        std::fs::write(p, lines).map_err(|source| RelError::Io {
            path: p.to_path_buf(),
            source,
        })?;
    }
    Ok(Report {
        sentences: items.len(),
        entities: ent,
        relations: per,
        seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::gazetteer::Gazetteer;
    use crate::extract::ExtractConfig;
    use std::sync::Arc;

    #[test]
    fn tiny_file_scores_and_writes_predictions() {
        let dir = tempfile::tempdir().unwrap();
        let gold = dir.path().join("g.json");
        std::fs::write(
            &gold,
            r#"[{"tokens": ["John", "Kerry", ",", "the", "Secretary", "of", "State", ",", "lives", "in", "Boston", "."], "entities": [[0, 2, "Peop"], [10, 11, "Loc"]], "relations": [[0, 2, 10, 11, "Live_In"]]}, {"tokens": ["Nothing", "happened", "."], "entities": [], "relations": []}]"#,
        )
        .unwrap();
        let pred = dir.path().join("p.jsonl");
        let x = Extractor::from_config(&ExtractConfig::default(), Path::new(".")).unwrap();
        let rel = RelationExtractor::builtin(Arc::new(Gazetteer::builtin().unwrap())).unwrap();
        let r = evaluate(&x, &rel, &gold, Some(&pred)).unwrap();
        assert_eq!(r.sentences, 2);
        assert_eq!(r.entities.gold, 2);
        assert_eq!(r.entities.correct, 2, "{}", r.to_text());
        let micro = r.relations.last().unwrap();
        assert_eq!((micro.label.as_str(), micro.gold), ("micro", 1));
        let lines = std::fs::read_to_string(&pred).unwrap();
        assert_eq!(lines.lines().count(), 2);
        let first: serde_json::Value = serde_json::from_str(lines.lines().next().unwrap()).unwrap();
        assert_eq!(first["tokens"][0], "John");
        assert!(r.to_text().contains("Live_In"));
    }

    #[test]
    fn usual_titles_join_person_spans_and_others_do_not() {
        let dir = tempfile::tempdir().unwrap();
        let gold = dir.path().join("g.json");
        std::fs::write(
            &gold,
            r#"[{"tokens": ["President", "Bill", "Clinton", "met", "Gov.", "Ann", "Richards", "in", "Austin", "."], "entities": [[0, 3, "Peop"], [5, 7, "Peop"], [8, 9, "Loc"]], "relations": []}]"#,
        )
        .unwrap();
        let pred = dir.path().join("p.jsonl");
        let x = Extractor::from_config(&ExtractConfig::default(), Path::new(".")).unwrap();
        let rel = RelationExtractor::builtin(Arc::new(Gazetteer::builtin().unwrap())).unwrap();
        let r = evaluate(&x, &rel, &gold, Some(&pred)).unwrap();
        let lines = std::fs::read_to_string(&pred).unwrap();
        let v: serde_json::Value = serde_json::from_str(lines.trim()).unwrap();
        let ents: Vec<(u64, u64)> = v["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e[0].as_u64().unwrap(), e[1].as_u64().unwrap()))
            .collect();
        assert!(ents.contains(&(0, 3)), "President joins: {ents:?}");
        assert!(ents.contains(&(5, 7)), "Gov. stays outside: {ents:?}");
        assert_eq!(r.entities.correct, 3, "{}", r.to_text());
    }
}

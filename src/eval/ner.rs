//! `newsmill eval ner`: the production entity path (tagger, fine typing, gazetteer
//! additions, canonical resolution) on a CoNLL-2003 file, scored as conlleval does after
//! mapping newsmill's types back to CoNLL's four: PERSON→PER, ORG→ORG, GPE/LOC→LOC,
//! NORP/EVENT/MISC→MISC, numeric types→O.

use std::path::Path;

use super::conll::{read_conll, score_document, write_predictions, ConllError, Report};
use crate::doc::EntityType;
use crate::extract::ner::{CoarseType, Span};
use crate::extract::tokens::join_sentences;
use crate::extract::Extractor;

/// CoNLL type of a newsmill entity type (`None`: not a CoNLL entity).
pub fn conll_type(t: EntityType) -> Option<CoarseType> {
    match t {
        EntityType::Person => Some(CoarseType::Per),
        EntityType::Org => Some(CoarseType::Org),
        EntityType::Gpe | EntityType::Loc => Some(CoarseType::Loc),
        EntityType::Norp | EntityType::Event | EntityType::Misc => Some(CoarseType::Misc),
        EntityType::Date | EntityType::Money | EntityType::Percent | EntityType::Quantity => None,
    }
}

/// Run the production extractor on every document of a CoNLL file (tokens as given, one
/// document per `-DOCSTART-`) and score it. With `predictions_out`, also write
/// `token gold pred` lines (blank line between sentences).
pub fn evaluate_production(
    x: &Extractor,
    conll: &Path,
    predictions_out: Option<&Path>,
) -> Result<Report, ConllError> {
    let docs = read_conll(conll)?;
    let mut report = Report::default();
    let mut out = String::new();
    for doc in &docs {
        // Rebuild the text: tokens joined by spaces, sentences by blank lines.
        let token_lists: Vec<&[String]> =
            doc.sentences.iter().map(|s| s.tokens.as_slice()).collect();
        let (text, toks, sents) = join_sentences(&token_lists);
        let ex = x.process_tokens(&text, None, &toks, &sents);
        let start_tok: std::collections::HashMap<usize, usize> =
            toks.iter().enumerate().map(|(i, t)| (t.start, i)).collect();
        let end_tok: std::collections::HashMap<usize, usize> =
            toks.iter().enumerate().map(|(i, t)| (t.end, i)).collect();
        let mut per_sent: Vec<Vec<Span>> = vec![Vec::new(); sents.len()];
        for m in &ex.mentions {
            let (Some(label), Some(&a), Some(&b)) = (
                conll_type(m.etype),
                start_tok.get(&m.start),
                end_tok.get(&m.end),
            ) else {
                continue;
            };
            let Some(si) = sents.iter().position(|r| r.contains(&a)) else {
                continue;
            };
            let r = &sents[si];
            if b >= r.end {
                continue;
            }
            per_sent[si].push(Span {
                start: a - r.start,
                end: b + 1 - r.start,
                label,
                confidence: m.confidence,
            });
        }
        score_document(
            doc,
            &per_sent,
            &mut report,
            predictions_out.is_some().then_some(&mut out),
        );
    }
    write_predictions(predictions_out, &out)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::ExtractConfig;

    #[test]
    fn tiny_file_gives_known_counts() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.conll");
        std::fs::write(
            &p,
            "-DOCSTART- -X- O O\n\nJohn NNP I-NP I-PER\nKerry NNP I-NP I-PER\nvisited VBD I-VP O\nMoscow NNP I-NP I-LOC\non IN I-PP O\nMonday NNP I-NP O\n. . O O\n",
        )
        .unwrap();
        let x = Extractor::from_config(&ExtractConfig::default(), Path::new(".")).unwrap();
        let r = evaluate_production(&x, &p, None).unwrap();
        assert_eq!(r.tokens, 7);
        assert_eq!(r.overall.gold, 2);
        // "Monday" is a DATE for newsmill and maps to O, as CoNLL annotates it.
        assert_eq!(
            (r.overall.pred, r.overall.correct),
            (2, 2),
            "{}",
            r.to_text()
        );
    }
}

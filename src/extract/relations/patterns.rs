//! High-precision patterns for news constructions, one function per construction.
//!
//! Each works on one sentence's tokens with the mentions placed on them, and uses the
//! gazetteer's position titles (`Gazetteer::title_at`) to recognise "President",
//! "Secretary of State", "chief executive", "foreign minister".

use std::borrow::Cow;
use std::ops::Range;

use super::{
    is_person_pronoun, pronoun_antecedent, Predicate, RelObject, Relation, PATTERN_CONFIDENCE,
};
use crate::doc::{EntityType, Mention};
use crate::extract::gazetteer::{Gazetteer, HitKind, TitleKind};
use crate::extract::tokens::Token;

/// Titles (lowercase, first word or whole) that make their holder the leader of the
/// organisation or country named with them.
const LEADER_TITLES: &[&str] = &[
    "president",
    "prime minister",
    "premier",
    "king",
    "queen",
    "emir",
    "sultan",
    "chancellor",
    "leader",
    "supreme leader",
    "chairman",
    "chairwoman",
    "chief executive",
    "chief executive officer",
    "ceo",
    "head",
    "dictator",
    "monarch",
    "governor",
    "mayor",
    "secretary-general",
    "secretary general",
];

/// Words that may separate a person from an appositive title ("X, the ...", "X the ...").
const APPOS_DETS: &[&str] = &["the", "a", "an", "its", "his", "her", "their"];

/// Verbs after which a following name is the one met.
const MEET_VERBS: &[&str] = &["met", "meets", "meet", "meeting", "talks", "talked"];

/// Nouns of the appositive "X, a <noun> of Y" and the predicate they state.
const APPOS_NOUNS: &[(&str, Predicate)] = &[
    ("member", Predicate::MemberOf),
    ("citizen", Predicate::CitizenOf),
    ("ally", Predicate::AllyOf),
    ("resident", Predicate::LivesIn),
];

/// One sentence with its mentions placed on token positions.
struct View<'a> {
    text: &'a str,
    tokens: &'a [Token],
    range: Range<usize>,
    si: usize,
    mentions: &'a [Mention],
    /// (token start, token end, mention index), by start.
    spans: Vec<(usize, usize, usize)>,
}

/// The window [`View::title`] reads: no title it finds is longer, which is what lets
/// [`title_before`] skip words with no person starting within this many words (the listed
/// titles have at most three words; a longer one would be cut at six).
const TITLE_MAX_WORDS: usize = 6;

impl View<'_> {
    fn word(&self, i: usize) -> &str {
        if i < self.range.end {
            self.tokens[i].text(self.text)
        } else {
            ""
        }
    }
    fn lower(&self, i: usize) -> Cow<'_, str> {
        crate::extract::tokens::lowercase(self.word(i))
    }
    /// `self.lower(i) == target`, without a copy.
    fn is(&self, i: usize, target: &str) -> bool {
        crate::extract::tokens::lowercase_is(self.word(i), target)
    }
    /// `targets.contains(&self.lower(i))`, without a copy.
    fn is_any(&self, i: usize, targets: &[&str]) -> bool {
        crate::extract::tokens::lowercase_in(self.word(i), targets)
    }
    fn starting_at(&self, t: usize) -> Option<(usize, usize, usize)> {
        self.spans.iter().copied().find(|s| s.0 == t)
    }
    fn ending_at(&self, t: usize) -> Option<(usize, usize, usize)> {
        self.spans.iter().copied().find(|s| s.1 == t)
    }
    fn etype(&self, m: usize) -> EntityType {
        self.mentions[m].etype
    }
    fn chars(&self, a: usize, b: usize) -> (usize, usize) {
        (self.tokens[a].start, self.tokens[b - 1].end)
    }
    /// A position title at `t`: its length without a trailing "of"/"for".
    fn title(&self, gaz: &Gazetteer, t: usize) -> Option<usize> {
        if !gaz.starts_title(self.word(t)) {
            return None;
        }
        // Up to `TITLE_MAX_WORDS` words from `t`, on the stack.
        let mut words = [""; TITLE_MAX_WORDS];
        let n = self.range.end.min(t + TITLE_MAX_WORDS).saturating_sub(t);
        for (k, w) in words[..n].iter_mut().enumerate() {
            *w = self.word(t + k);
        }
        let (n, kind) = gaz.title_at(&words[..n])?;
        if kind != TitleKind::Position {
            return None;
        }
        let mut n = n;
        while n > 1 && matches!(self.lower(t + n - 1).as_ref(), "of" | "for") {
            n -= 1;
        }
        Some(n)
    }
    fn rel(
        &self,
        subject: usize,
        predicate: Predicate,
        object: RelObject,
        a: usize,
        b: usize,
        name: &'static str,
    ) -> Relation {
        let (start, end) = self.chars(a, b);
        Relation {
            sentence: self.si,
            subject,
            predicate,
            object,
            start,
            end,
            confidence: PATTERN_CONFIDENCE,
            method: name,
        }
    }
    fn title_obj(&self, t: usize, n: usize) -> RelObject {
        let (start, end) = self.chars(t, t + n);
        let byte_a = self.tokens[t].byte_start;
        let byte_b = self.tokens[t + n - 1].byte_end;
        RelObject::Text {
            text: self.text.get(byte_a..byte_b).unwrap_or("").to_string(),
            start,
            end,
        }
    }
}

fn is_leader_title(title: &str) -> bool {
    let l = title.to_lowercase();
    LEADER_TITLES.contains(&l.as_str())
}

fn is_org_or_place(t: EntityType) -> bool {
    matches!(t, EntityType::Org | EntityType::Gpe)
}

/// Every pattern relation of the document.
pub(super) fn find(
    gaz: &Gazetteer,
    text: &str,
    tokens: &[Token],
    sentences: &[Range<usize>],
    mentions: &[Mention],
) -> Vec<Relation> {
    find_with(gaz, text, tokens, sentences, mentions, true)
}

/// [`find`], with [`title_before`]'s skip of words no person follows on or off (off: every
/// word is tried as a title; the tests check both give the same relations).
pub(super) fn find_with(
    gaz: &Gazetteer,
    text: &str,
    tokens: &[Token],
    sentences: &[Range<usize>],
    mentions: &[Mention],
    skip: bool,
) -> Vec<Relation> {
    let mut out = Vec::new();
    for (si, range) in sentences.iter().enumerate() {
        if range.end > tokens.len() || range.is_empty() {
            continue;
        }
        let spans: Vec<(usize, usize, usize)> = mentions
            .iter()
            .enumerate()
            .filter(|(_, m)| m.sentence == si)
            .filter_map(|(mi, m)| {
                let r = super::token_span(tokens, m.start, m.end)?;
                (r.start >= range.start && r.end <= range.end).then_some((r.start, r.end, mi))
            })
            .collect();
        let v = View {
            text,
            tokens,
            range: range.clone(),
            si,
            mentions,
            spans,
        };
        title_before(gaz, &v, skip, &mut out);
        title_after(gaz, &v, &mut out);
        appositive_noun(&v, &mut out);
        based(&v, &mut out);
        based_glued(gaz, &v, &mut out);
        meets(&v, &mut out);
        of_said(&v, &mut out);
    }
    out
}

/// "Secretary of State John Kerry", "Syria's President Bashar al-Assad",
/// "Iraq Prime Minister Haider al-Abadi".
fn title_before(gaz: &Gazetteer, v: &View, skip: bool, out: &mut Vec<Relation>) {
    // The person starts where the title ends or where it starts, and a title is at most
    // six words: a word with no person starting within six words of it needs no title
    // lookup (most words of most sentences; the lookup was ~2% of a run).
    let person_from = |from: usize, to: usize| {
        v.spans
            .iter()
            .any(|s| s.0 >= from && s.0 <= to && v.etype(s.2) == EntityType::Person)
    };
    if skip && !person_from(v.range.start, v.range.end) {
        return;
    }
    for t in v.range.clone() {
        if skip && !person_from(t, t + TITLE_MAX_WORDS) {
            continue;
        }
        let Some(n) = v.title(gaz, t) else { continue };
        // The person follows the title, or the tagger included the title in the name.
        let person = v
            .starting_at(t + n)
            .or_else(|| v.starting_at(t).filter(|s| s.1 > t + n))
            .filter(|s| v.etype(s.2) == EntityType::Person);
        let Some((_, pe, pm)) = person else { continue };
        let title = v.title_obj(t, n);
        let title_text = match &title {
            RelObject::Text { text, .. } => text.clone(),
            RelObject::Mention(_) => String::new(),
        };
        out.push(v.rel(
            pm,
            Predicate::HoldsPosition,
            title,
            t,
            pe,
            "pattern:title_name",
        ));
        // Who the title is held in: "Syria's", "Iraq", "Apple's".
        let mut k = t;
        if k > v.range.start && matches!(v.word(k - 1), "'s" | "’s") {
            k -= 1;
        }
        if let Some((os, _, om)) = v.ending_at(k).filter(|s| is_org_or_place(v.etype(s.2))) {
            let p = if is_leader_title(&title_text) {
                Predicate::LeaderOf
            } else {
                Predicate::WorksFor
            };
            out.push(v.rel(
                pm,
                p,
                RelObject::Mention(om),
                os,
                pe,
                "pattern:org_title_name",
            ));
        }
    }
}

/// "John Kerry the Secretary of State", "Sergey Lavrov, the foreign minister of Russia",
/// "Tim Cook, chief executive of Apple", "Lavrov, Russia's foreign minister".
fn title_after(gaz: &Gazetteer, v: &View, out: &mut Vec<Relation>) {
    for &(ps, pe, pm) in &v.spans {
        if v.etype(pm) != EntityType::Person {
            continue;
        }
        let mut t = pe;
        let mut sep = false;
        if v.word(t) == "," {
            t += 1;
            sep = true;
        }
        if v.is_any(t, APPOS_DETS) {
            t += 1;
            sep = true;
        }
        // "Russia's foreign minister"
        let mut owner = None;
        if let Some((_, oe, om)) = v.starting_at(t).filter(|s| is_org_or_place(v.etype(s.2))) {
            if matches!(v.word(oe), "'s" | "’s") {
                owner = Some(om);
                t = oe + 1;
                sep = true;
            }
        }
        if !sep {
            continue;
        }
        let Some(n) = v.title(gaz, t) else { continue };
        let title = v.title_obj(t, n);
        let leader = matches!(&title, RelObject::Text { text, .. } if is_leader_title(text));
        let mut end = t + n;
        if owner.is_none() {
            let mut k = t + n;
            if v.is_any(k, &["of", "at", "for"]) {
                k += 1;
                if v.is(k, "the") {
                    k += 1;
                }
                if let Some((_, oe, om)) =
                    v.starting_at(k).filter(|s| is_org_or_place(v.etype(s.2)))
                {
                    owner = Some(om);
                    end = oe;
                }
            }
        }
        out.push(v.rel(
            pm,
            Predicate::HoldsPosition,
            title,
            ps,
            t + n,
            "pattern:name_title",
        ));
        if let Some(om) = owner {
            let p = if leader {
                Predicate::LeaderOf
            } else {
                Predicate::WorksFor
            };
            out.push(v.rel(
                pm,
                p,
                RelObject::Mention(om),
                ps,
                end,
                "pattern:name_title_of",
            ));
        }
    }
}

/// "X, a member of Y", "X, which is a longstanding ally of Y", "X, a citizen of Y",
/// "X, who lives in Y", "X, which is based in Y".
fn appositive_noun(v: &View, out: &mut Vec<Relation>) {
    for &(xs, xe, xm) in &v.spans {
        let mut t = xe;
        if v.word(t) == "," {
            t += 1;
        }
        if v.is_any(t, &["which", "who", "that"]) {
            t += 1;
            if v.is_any(t, &["is", "was", "are", "has", "remains"]) {
                t += 1;
                if v.is(t, "been") {
                    t += 1;
                }
            }
        }
        // Verb forms: "lives in", "based in", "headquartered in".
        let verb = v.lower(t);
        let verb_pred = match verb.as_ref() {
            "lives" | "lived" | "living" => Some(Predicate::LivesIn),
            "based" | "headquartered" => Some(Predicate::BasedIn),
            _ => None,
        };
        if let Some(p) = verb_pred {
            if v.is(t + 1, "in") {
                if let Some((_, ye, ym)) = v.starting_at(t + 2) {
                    let (st, yt) = (v.etype(xm), v.etype(ym));
                    let place = matches!(yt, EntityType::Gpe | EntityType::Loc);
                    let ok = place
                        && match p {
                            Predicate::LivesIn => st == EntityType::Person,
                            _ => st == EntityType::Org,
                        };
                    if ok {
                        let name = if p == Predicate::LivesIn {
                            "pattern:lives_in"
                        } else {
                            "pattern:based_in"
                        };
                        out.push(v.rel(xm, p, RelObject::Mention(ym), xs, ye, name));
                    }
                }
            }
            continue;
        }
        if v.is_any(t, &["a", "an", "the"]) {
            t += 1;
        }
        // Up to two lowercase modifiers: "longstanding", "close", "key".
        for _ in 0..2 {
            let w = v.word(t);
            let noun = APPOS_NOUNS.iter().any(|(n, _)| v.is(t, n));
            if !noun && w.chars().next().is_some_and(|c| c.is_lowercase()) {
                t += 1;
            }
        }
        let Some(&(_, p)) = APPOS_NOUNS.iter().find(|(n, _)| v.is(t, n)) else {
            continue;
        };
        if !v.is_any(t + 1, &["of", "in"]) {
            continue;
        }
        let mut k = t + 2;
        if v.is(k, "the") {
            k += 1;
        }
        let Some((_, ye, ym)) = v.starting_at(k) else {
            continue;
        };
        let (st, yt) = (v.etype(xm), v.etype(ym));
        let ok = match p {
            Predicate::MemberOf => {
                matches!(st, EntityType::Person | EntityType::Org) && yt == EntityType::Org
            }
            Predicate::CitizenOf => st == EntityType::Person && yt == EntityType::Gpe,
            Predicate::LivesIn => {
                st == EntityType::Person && matches!(yt, EntityType::Gpe | EntityType::Loc)
            }
            _ => {
                matches!(st, EntityType::Person | EntityType::Org | EntityType::Gpe)
                    && matches!(yt, EntityType::Person | EntityType::Org | EntityType::Gpe)
            }
        };
        if ok {
            out.push(v.rel(xm, p, RelObject::Mention(ym), xs, ye, "pattern:appositive"));
        }
    }
}

/// "London-based bank Barclays" as one token: the place is not a mention, so the object is
/// the place's text, accepted only when the gazetteer knows it as a place.
fn based_glued(gaz: &Gazetteer, v: &View, out: &mut Vec<Relation>) {
    for t in v.range.clone() {
        let w = v.word(t);
        let Some(place) = w.strip_suffix("-based") else {
            continue;
        };
        let words: Vec<&str> = place.split('-').collect();
        let is_place = gaz.lookup(&words).iter().any(|h| {
            matches!(
                h.kind,
                HitKind::Country | HitKind::City | HitKind::State | HitKind::Subdivision
            )
        });
        if place.is_empty() || !is_place || v.spans.iter().any(|s| s.0 <= t && t < s.1) {
            continue;
        }
        if let Some((_, oe, om)) = v
            .spans
            .iter()
            .copied()
            .find(|s| s.0 > t && s.0 <= t + 3 && v.etype(s.2) == EntityType::Org)
        {
            let start = v.tokens[t].start;
            let obj = RelObject::Text {
                text: place.to_string(),
                start,
                end: start + place.chars().count(),
            };
            out.push(v.rel(om, Predicate::BasedIn, obj, t, oe, "pattern:x_based"));
        }
    }
}

/// "Paris - based Renault" with the place tagged (only when an ORG follows).
fn based(v: &View, out: &mut Vec<Relation>) {
    for &(ps, pe, pm) in &v.spans {
        if !matches!(v.etype(pm), EntityType::Gpe | EntityType::Loc) {
            continue;
        }
        // "London - based" as three tokens, or "-based" glued to the place's last token.
        let glued = v.lower(pe - 1).ends_with("-based");
        let k = if glued {
            pe
        } else if v.word(pe) == "-" && v.is(pe + 1, "based") {
            pe + 2
        } else if v.is(pe, "-based") {
            pe + 1
        } else {
            continue;
        };
        if let Some((_, oe, om)) = v
            .spans
            .iter()
            .copied()
            .find(|s| s.0 >= k && s.0 <= k + 2 && v.etype(s.2) == EntityType::Org)
        {
            out.push(v.rel(
                om,
                Predicate::BasedIn,
                RelObject::Mention(pm),
                ps,
                oe,
                "pattern:x_based",
            ));
        }
    }
}

/// "Kerry met Lavrov", "Kerry met with Lavrov", "He ... meeting in New York with Lavrov".
fn meets(v: &View, out: &mut Vec<Relation>) {
    for t in v.range.clone() {
        const MEET: crate::extract::tokens::WordSet =
            crate::extract::tokens::WordSet::new(MEET_VERBS);
        if !MEET.contains_lowercase(v.word(t)) {
            continue;
        }
        let w = v.lower(t);
        // Object: right after the verb (+ "with"), or after a "with" within 6 tokens.
        let mut obj = None;
        let mut k = t + 1;
        if v.is(k, "with") {
            k += 1;
        }
        if let Some(s) = v
            .starting_at(k)
            .filter(|s| v.etype(s.2) == EntityType::Person)
        {
            obj = Some(s);
        } else {
            for j in t + 1..(t + 8).min(v.range.end) {
                if v.is(j, "with") {
                    obj = v
                        .starting_at(j + 1)
                        .filter(|s| v.etype(s.2) == EntityType::Person);
                    break;
                }
            }
        }
        let Some((_, oe, om)) = obj else { continue };
        if (w == "talks" || w == "talked") && !v.is(t + 1, "with") {
            continue;
        }
        // Subject: the first PERSON before the verb, or a sentence-initial pronoun.
        let subj = v
            .spans
            .iter()
            .copied()
            .find(|s| s.1 <= t && v.etype(s.2) == EntityType::Person)
            .map(|s| (s.2, s.0))
            .or_else(|| {
                is_person_pronoun(v.word(v.range.start))
                    .then(|| pronoun_antecedent(v.si, v.mentions))
                    .flatten()
                    .map(|m| (m, v.range.start))
            });
        let Some((sm, ev_start)) = subj else { continue };
        out.push(v.rel(
            sm,
            Predicate::Meets,
            RelObject::Mention(om),
            ev_start,
            oe,
            "pattern:meets",
        ));
    }
}

/// "John Smith of Acme Corp. said", "Ann Lee, of the World Bank, said".
fn of_said(v: &View, out: &mut Vec<Relation>) {
    for &(ps, pe, pm) in &v.spans {
        if v.etype(pm) != EntityType::Person {
            continue;
        }
        let mut k = pe;
        if v.word(k) == "," {
            k += 1;
        }
        if !v.is_any(k, &["of", "from"]) {
            continue;
        }
        k += 1;
        if v.is(k, "the") {
            k += 1;
        }
        let Some((_, oe, om)) = v.starting_at(k).filter(|s| is_org_or_place(v.etype(s.2))) else {
            continue;
        };
        let mut j = oe;
        if v.word(j) == "," {
            j += 1;
        }
        if v.is_any(j, &["said", "says", "told", "added"]) {
            out.push(v.rel(
                pm,
                Predicate::WorksFor,
                RelObject::Mention(om),
                ps,
                j + 1,
                "pattern:of_said",
            ));
        }
    }
}

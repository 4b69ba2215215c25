//! The entity registry: every canonical entity seen in kept documents, over all runs.
//!
//! Entity ids are content-derived (xxh3 of type + normalised canonical name, see
//! [`crate::doc::EntityRef`]), so the same entity has the same id every night without any
//! lookup; the registry only accumulates what the `entities` table reports about it. Merging
//! is order-insensitive where it can be (sums, min/max dates, the set of surface forms) and
//! "first run wins" for the display name and place data, which is what one run over the
//! same documents in the same order gives: nightly snapshots equal a single run's table.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

use super::codec::{self, Dec, Enc};
use super::StateError;
use crate::doc::{EntityType, Geo, Mention};

const KIND: &[u8; 8] = b"ENTITIES";
/// Bumped whenever the payload layout changes.
const VERSION: u32 = 1;

const TYPES: [EntityType; 11] = [
    EntityType::Person,
    EntityType::Org,
    EntityType::Gpe,
    EntityType::Loc,
    EntityType::Norp,
    EntityType::Event,
    EntityType::Date,
    EntityType::Money,
    EntityType::Percent,
    EntityType::Quantity,
    EntityType::Misc,
];

/// What is known about one canonical entity.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredEntity {
    /// Canonical name (from the first document that mentioned it).
    pub name: String,
    /// Entity type.
    pub etype: EntityType,
    /// Every distinct surface text of its mentions (aliases = these minus `name`).
    pub forms: BTreeSet<String>,
    /// Mentions in kept documents.
    pub n_mentions: u64,
    /// Kept documents mentioning it.
    pub n_docs: u64,
    /// Earliest `published` of those documents.
    pub first_seen: Option<String>,
    /// Latest `published` of those documents.
    pub last_seen: Option<String>,
    /// Place data, for gazetteer places.
    pub geo: Option<Geo>,
}

impl RegisteredEntity {
    /// Surface forms other than the canonical name, sorted.
    pub fn aliases(&self) -> Vec<String> {
        self.forms
            .iter()
            .filter(|f| **f != self.name)
            .cloned()
            .collect()
    }
}

/// Entity ids are already well-mixed hashes; foldhash spends little on them. Every listing
/// goes through [`EntityRegistry::sorted`], so snapshots stay deterministic.
type IdMap<V> = HashMap<u64, V, foldhash::fast::RandomState>;

/// Canonical entities by id. A hash map, not a B-tree: it is updated for every mention of
/// every kept document, and read in order only once, when the table is written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityRegistry {
    /// Entities by id (unordered: list them with [`EntityRegistry::sorted`]).
    pub by_id: IdMap<RegisteredEntity>,
}

impl EntityRegistry {
    /// Count one kept document's mentions.
    pub fn add_doc(&mut self, published: Option<&str>, mentions: &[Mention]) {
        let mut seen: HashSet<u64, foldhash::fast::RandomState> =
            HashSet::with_capacity_and_hasher(mentions.len(), Default::default());
        for m in mentions {
            let e = &m.entity;
            let agg = self.by_id.entry(e.id).or_insert_with(|| RegisteredEntity {
                name: e.name.clone(),
                etype: e.etype,
                forms: BTreeSet::new(),
                n_mentions: 0,
                n_docs: 0,
                first_seen: None,
                last_seen: None,
                geo: e.geo.clone(),
            });
            agg.n_mentions += 1;
            if !agg.forms.contains(&m.text) {
                agg.forms.insert(m.text.clone());
            }
            if seen.insert(e.id) {
                agg.n_docs += 1;
                if let Some(p) = published {
                    widen(&mut agg.first_seen, &mut agg.last_seen, p);
                }
            }
        }
    }

    /// Fold a later run's registry into this one.
    pub fn merge(&mut self, later: EntityRegistry) {
        for (id, e) in later.by_id {
            match self.by_id.get_mut(&id) {
                None => {
                    self.by_id.insert(id, e);
                }
                Some(a) => {
                    a.n_mentions += e.n_mentions;
                    a.n_docs += e.n_docs;
                    a.forms.extend(e.forms);
                    for p in [e.first_seen, e.last_seen].into_iter().flatten() {
                        widen(&mut a.first_seen, &mut a.last_seen, &p);
                    }
                    if a.geo.is_none() {
                        a.geo = e.geo;
                    }
                }
            }
        }
    }

    /// The entities in id order (the order of the `entities` table and of snapshots).
    pub fn sorted(&self) -> Vec<(u64, &RegisteredEntity)> {
        let mut v: Vec<(u64, &RegisteredEntity)> =
            self.by_id.iter().map(|(k, e)| (*k, e)).collect();
        v.sort_unstable_by_key(|(k, _)| *k);
        v
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Load `path`, or an empty registry when it does not exist.
    pub fn load_or_default(path: &Path) -> Result<EntityRegistry, StateError> {
        if !path.exists() {
            return Ok(EntityRegistry::default());
        }
        let payload = codec::read_file(path, KIND, VERSION)?;
        decode(&payload).ok_or_else(|| StateError::corrupt(path, "malformed entity records"))
    }

    /// Write it atomically to `path`.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        let mut e = Enc::default();
        e.u64(self.by_id.len() as u64);
        for (id, x) in self.sorted() {
            e.u64(id);
            e.str(&x.name);
            e.str(x.etype.as_str());
            e.u32(x.forms.len() as u32);
            for f in &x.forms {
                e.str(f);
            }
            e.u64(x.n_mentions);
            e.u64(x.n_docs);
            e.opt_str(x.first_seen.as_deref());
            e.opt_str(x.last_seen.as_deref());
            match &x.geo {
                None => e.u8(0),
                Some(g) => {
                    e.u8(1);
                    e.str(&g.country_code);
                    e.u64(g.geonames_id);
                    e.f64(g.lat);
                    e.f64(g.lon);
                }
            }
        }
        codec::write_file(path, KIND, VERSION, &e.buf)
    }
}

fn widen(first: &mut Option<String>, last: &mut Option<String>, p: &str) {
    if first.as_deref().is_none_or(|f| p < f) {
        set(first, p);
    }
    if last.as_deref().is_none_or(|l| p > l) {
        set(last, p);
    }
}

/// `*slot = Some(p.to_string())`, reusing the slot's string (a corpus in date order moves
/// every entity's `last_seen` forward document by document).
fn set(slot: &mut Option<String>, p: &str) {
    match slot {
        Some(s) => {
            s.clear();
            s.push_str(p);
        }
        None => *slot = Some(p.to_string()),
    }
}

fn decode(payload: &[u8]) -> Option<EntityRegistry> {
    let mut d = Dec::new(payload);
    let mut r = EntityRegistry::default();
    for _ in 0..d.u64()? {
        let id = d.u64()?;
        let name = d.str()?;
        let t = d.str()?;
        let etype = *TYPES.iter().find(|x| x.as_str() == t)?;
        let mut forms = BTreeSet::new();
        for _ in 0..d.u32()? {
            forms.insert(d.str()?);
        }
        let n_mentions = d.u64()?;
        let n_docs = d.u64()?;
        let first_seen = d.opt_str()?;
        let last_seen = d.opt_str()?;
        let geo = match d.u8()? {
            0 => None,
            1 => Some(Geo {
                country_code: d.str()?,
                geonames_id: d.u64()?,
                lat: d.f64()?,
                lon: d.f64()?,
            }),
            _ => return None,
        };
        r.by_id.insert(
            id,
            RegisteredEntity {
                name,
                etype,
                forms,
                n_mentions,
                n_docs,
                first_seen,
                last_seen,
                geo,
            },
        );
    }
    d.done().then_some(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::EntityRef;

    fn mention(id: u64, name: &str, text: &str) -> Mention {
        Mention {
            start: 0,
            end: text.chars().count(),
            text: text.into(),
            etype: EntityType::Gpe,
            sentence: 0,
            confidence: 1.0,
            entity: EntityRef {
                id,
                name: name.into(),
                etype: EntityType::Gpe,
                geo: None,
                value: None,
            },
        }
    }

    #[test]
    fn merging_runs_equals_one_run() {
        let docs: Vec<(Option<&str>, Vec<Mention>)> = vec![
            (
                Some("1987-03-02"),
                vec![mention(1, "United States", "U.S.")],
            ),
            (
                Some("1987-02-01"),
                vec![
                    mention(1, "United States", "United States"),
                    mention(1, "United States", "U.S."),
                ],
            ),
            (None, vec![mention(2, "Japan", "Japan")]),
        ];
        let mut one = EntityRegistry::default();
        for (p, m) in &docs {
            one.add_doc(*p, m);
        }
        let mut night1 = EntityRegistry::default();
        night1.add_doc(docs[0].0, &docs[0].1);
        let mut night2 = EntityRegistry::default();
        for (p, m) in &docs[1..] {
            night2.add_doc(*p, m);
        }
        night1.merge(night2);
        assert_eq!(night1, one);
        let us = &one.by_id[&1];
        assert_eq!((us.n_mentions, us.n_docs), (3, 2));
        assert_eq!(us.aliases(), ["U.S."]);
        assert_eq!(us.first_seen.as_deref(), Some("1987-02-01"));

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("entities.bin");
        one.save(&p).unwrap();
        assert_eq!(EntityRegistry::load_or_default(&p).unwrap(), one);
        std::fs::write(&p, b"garbage").unwrap();
        let err = EntityRegistry::load_or_default(&p).unwrap_err().to_string();
        assert!(err.contains("entities.bin"), "{err}");
    }
}

//! Table and column names: the output contract, in one place (see DESIGN.md).

/// Table folder names.
pub mod table {
    /// Kept articles.
    pub const DOCUMENTS: &str = "documents";
    /// Records that did not become documents.
    pub const REJECTS: &str = "rejects";
    /// Documents that were copies of another.
    pub const DUPLICATES: &str = "duplicates";
    /// Entity mentions.
    pub const MENTIONS: &str = "mentions";
    /// Canonical entities, aggregated over the run.
    pub const ENTITIES: &str = "entities";
    /// Relations between entities.
    pub const RELATIONS: &str = "relations";
    /// Quotations with speakers.
    pub const QUOTES: &str = "quotes";
}

/// Column names shared by several tables.
pub mod col {
    #![allow(missing_docs)]
    pub const DOC_ID: &str = "doc_id";
    pub const SOURCE: &str = "source";
    pub const URL: &str = "url";
    pub const TITLE: &str = "title";
    pub const PUBLISHED: &str = "published";
    pub const LANG: &str = "lang";
    pub const AUTHOR: &str = "author";
    pub const TEXT: &str = "text";
    pub const N_CHARS: &str = "n_chars";
    pub const N_TOKENS: &str = "n_tokens";
    pub const CONTENT_HASH: &str = "content_hash";
    pub const CLUSTER_ID: &str = "cluster_id";
    pub const CLUSTER_SIZE: &str = "cluster_size";
    pub const INPUT_FILE: &str = "input_file";
    pub const INPUT_RECORD: &str = "input_record";
    pub const STAGE: &str = "stage";
    pub const REASON: &str = "reason";
    pub const DETAIL: &str = "detail";
    pub const KEPT_DOC_ID: &str = "kept_doc_id";
    pub const KIND: &str = "kind";
    pub const SIMILARITY: &str = "similarity";
    pub const MENTION_ID: &str = "mention_id";
    pub const ENTITY_ID: &str = "entity_id";
    pub const TYPE: &str = "type";
    pub const START: &str = "start";
    pub const END: &str = "end";
    pub const SENTENCE: &str = "sentence";
    pub const CONFIDENCE: &str = "confidence";
    pub const VALUE: &str = "value";
    pub const NAME: &str = "name";
    pub const ALIASES: &str = "aliases";
    pub const N_MENTIONS: &str = "n_mentions";
    pub const N_DOCS: &str = "n_docs";
    pub const FIRST_SEEN: &str = "first_seen";
    pub const LAST_SEEN: &str = "last_seen";
    pub const COUNTRY_CODE: &str = "country_code";
    pub const GEONAMES_ID: &str = "geonames_id";
    pub const LAT: &str = "lat";
    pub const LON: &str = "lon";
    pub const SUBJECT_ID: &str = "subject_id";
    pub const SUBJECT: &str = "subject";
    pub const PREDICATE: &str = "predicate";
    pub const OBJECT_ID: &str = "object_id";
    pub const OBJECT: &str = "object";
    pub const METHOD: &str = "method";
    pub const SPEAKER_ID: &str = "speaker_id";
    pub const SPEAKER: &str = "speaker";
    pub const QUOTE: &str = "quote";
    pub const VERB: &str = "verb";
}

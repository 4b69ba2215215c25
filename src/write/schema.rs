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
}

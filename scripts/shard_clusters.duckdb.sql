-- newsmill: near-duplicate clusters from the signature files of a sharded run, in DuckDB.
--
-- For users who do the global step in their warehouse instead of `newsmill merge`. Set the
-- inputs as variables first (defaults are the shipped [dedup] values):
--   SET VARIABLE signatures = '/data/newsmill/shard-*/signatures/*.parquet';
--   SET VARIABLE jaccard_threshold = 0.5;  SET VARIABLE min_shingles = 5;
-- then run this file (duckdb -c "SET VARIABLE ..." -f scripts/shard_clusters.duckdb.sql).
--
-- Rule: two documents are candidates when they share exact_hash, or (both with at least
-- min_shingles shingles) share a band bucket (band, band hash); a band-bucket candidate is a
-- duplicate when the estimated Jaccard similarity, from the high 16 bits of the minima as the
-- index compares them, reaches the threshold. Clusters are connected components; a
-- cluster's id is its smallest doc_key as 16 hex digits, as in the newsmill tables. This is
-- classic MinHash: `newsmill merge` also accepts truncated copies by containment and guards
-- against boilerplate, so its clusters contain these.
--
-- Output: one row per document: doc_id, doc_key, cluster_id, cluster_size.

CREATE OR REPLACE TEMP TABLE sig AS
SELECT doc_key, doc_id, file_index, input_record, exact_hash, n_shingles, minhash, band_hashes
FROM read_parquet(getvariable('signatures'));

-- One row per (doc, band): the "doc key, band, band hash, shard" long form.
CREATE OR REPLACE TEMP TABLE bands AS
SELECT doc_key, b.i - 1 AS band, b.h AS band_hash
FROM sig, unnest(band_hashes) WITH ORDINALITY AS b(h, i)
WHERE n_shingles >= coalesce(getvariable('min_shingles'), 5);

CREATE OR REPLACE TEMP TABLE candidates AS
SELECT DISTINCT x.doc_key AS a, y.doc_key AS b
FROM bands x JOIN bands y ON x.band = y.band AND x.band_hash = y.band_hash AND x.doc_key < y.doc_key;

-- The high 16 bits of every minimum, one row per (doc, position), for the Jaccard estimate.
CREATE OR REPLACE TEMP TABLE mh AS
SELECT doc_key, m.i AS pos, m.v >> 16 AS v16
FROM sig, unnest(minhash) WITH ORDINALITY AS m(v, i)
WHERE doc_key IN (SELECT a FROM candidates UNION SELECT b FROM candidates);

CREATE OR REPLACE TEMP TABLE edges AS
SELECT x.doc_key AS a, y.doc_key AS b
FROM sig x JOIN sig y ON x.exact_hash = y.exact_hash AND x.doc_key < y.doc_key
WHERE x.n_shingles > 0 AND y.n_shingles > 0
UNION
SELECT c.a, c.b
FROM candidates c
JOIN mh x ON x.doc_key = c.a
JOIN mh y ON y.doc_key = c.b AND y.pos = x.pos
GROUP BY c.a, c.b
HAVING (sum(CASE WHEN x.v16 = y.v16 THEN 1 ELSE 0 END) / count(*) - 1.0 / 65536) / (1 - 1.0 / 65536)
       >= coalesce(getvariable('jaccard_threshold'), 0.5);

-- Connected components by label propagation (each doc takes the smallest key it reaches).
CREATE OR REPLACE TEMP TABLE components AS
WITH RECURSIVE
  und(a, b) AS (SELECT a, b FROM edges UNION SELECT b, a FROM edges),
  reach(doc_key, root) AS (
    SELECT doc_key, doc_key FROM sig
    UNION
    SELECT und.b, reach.root FROM reach JOIN und ON und.a = reach.doc_key
  )
SELECT doc_key, min(root) AS root FROM reach GROUP BY doc_key;

SELECT s.doc_id, s.doc_key, lpad(lower(printf('%x', c.root)), 16, '0') AS cluster_id,
       count(*) OVER (PARTITION BY c.root) AS cluster_size
FROM sig s JOIN components c USING (doc_key)
ORDER BY s.file_index, s.input_record;

-- newsmill: near-duplicate clusters from a sharded run's signature files, in Spark SQL.
-- The same rule as scripts/shard_clusters.duckdb.sql (see there). Spark SQL has no
-- recursive CTE: compute the candidate edges here, then connected components with
-- GraphFrames (`GraphFrame(v, e).connectedComponents()`) or an iterative min-label join in
-- the driver (repeat the `step` query until no label changes).
--   spark-sql --conf spark.sql.variable.substitution=true -d sig_path=... -f this file

CREATE OR REPLACE TEMPORARY VIEW sig AS
SELECT doc_key, doc_id, file_index, input_record, exact_hash, n_shingles, minhash, band_hashes
FROM parquet.`${sig_path}`;

CREATE OR REPLACE TEMPORARY VIEW bands AS
SELECT doc_key, pos AS band, h AS band_hash
FROM sig LATERAL VIEW posexplode(band_hashes) t AS pos, h
WHERE n_shingles >= 5;

CREATE OR REPLACE TEMPORARY VIEW edges AS
SELECT x.doc_key AS a, y.doc_key AS b
FROM sig x JOIN sig y ON x.exact_hash = y.exact_hash AND x.doc_key < y.doc_key
WHERE x.n_shingles > 0 AND y.n_shingles > 0
UNION
SELECT c.a, c.b FROM (
  SELECT DISTINCT x.doc_key AS a, y.doc_key AS b
  FROM bands x JOIN bands y ON x.band = y.band AND x.band_hash = y.band_hash AND x.doc_key < y.doc_key
) c
JOIN sig x ON x.doc_key = c.a JOIN sig y ON y.doc_key = c.b
WHERE ((aggregate(zip_with(x.minhash, y.minhash,
          (p, q) -> IF(shiftright(p, 16) = shiftright(q, 16), 1, 0)), 0, (acc, v) -> acc + v)
        / size(x.minhash) - 1.0 / 65536) / (1 - 1.0 / 65536)) >= 0.5;

-- Labels: start with each doc's own key; one propagation step (repeat until stable):
CREATE OR REPLACE TEMPORARY VIEW labels AS SELECT doc_key, doc_key AS root FROM sig;
-- step:
-- SELECT l.doc_key, least(l.root, coalesce(min(n.root), l.root)) AS root
-- FROM labels l
-- LEFT JOIN (SELECT a AS k, b AS o FROM edges UNION ALL SELECT b, a FROM edges) e ON e.k = l.doc_key
-- LEFT JOIN labels n ON n.doc_key = e.o
-- GROUP BY l.doc_key, l.root;

//! Turning `[input] paths` into a sorted list of files, and opening them with transparent
//! decompression.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::config::InputFormat;
use super::ReadError;

/// Compression detected from a file's first bytes (extensions lie; magic numbers don't).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Expand files, directories and glob patterns into a sorted, de-duplicated file list.
/// Directories are walked recursively, keeping files whose name maps to a known format
/// (or any file when the format is explicit). Hidden files (`.name`) are skipped.
pub fn list_files(patterns: &[PathBuf], format: InputFormat) -> Result<Vec<PathBuf>, ReadError> {
    let mut out = Vec::new();
    for pat in patterns {
        let s = pat.to_string_lossy();
        if s.contains(['*', '?', '[']) {
            let paths = glob::glob(&s).map_err(|e| ReadError::BadPattern {
                pattern: s.to_string(),
                message: e.to_string(),
            })?;
            let before = out.len();
            for p in paths.flatten() {
                push_path(&p, format, &mut out)?;
            }
            if out.len() == before {
                return Err(ReadError::NoMatch {
                    pattern: s.to_string(),
                });
            }
        } else if pat.exists() {
            let before = out.len();
            push_path(pat, format, &mut out)?;
            if out.len() == before && pat.is_dir() {
                return Err(ReadError::NoMatch {
                    pattern: s.to_string(),
                });
            }
        } else {
            return Err(ReadError::NotFound { path: pat.clone() });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn push_path(p: &Path, format: InputFormat, out: &mut Vec<PathBuf>) -> Result<(), ReadError> {
    if p.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
            .map_err(|e| ReadError::Io {
                path: p.to_path_buf(),
                source: e,
            })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                !p.file_name()
                    .map(|n| n.to_string_lossy().starts_with('.'))
                    .unwrap_or(true)
            })
            .collect();
        entries.sort();
        for e in entries {
            if e.is_dir() {
                push_path(&e, format, out)?;
            } else if format != InputFormat::Auto || format_from_name(&e).is_some() {
                out.push(e);
            }
        }
    } else {
        out.push(p.to_path_buf());
    }
    Ok(())
}

/// Format implied by a file name, ignoring a trailing `.gz`/`.zst`.
pub fn format_from_name(path: &Path) -> Option<InputFormat> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    let stem = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".zst"))
        .or_else(|| name.strip_suffix(".zstd"))
        .unwrap_or(&name);
    let ext = stem.rsplit_once('.').map(|(_, e)| e)?;
    match ext {
        "jsonl" | "ndjson" | "json" => Some(InputFormat::Jsonl),
        "csv" | "tsv" => Some(InputFormat::Csv),
        "parquet" | "pq" => Some(InputFormat::Parquet),
        "txt" | "text" => Some(InputFormat::Text),
        "html" | "htm" | "xhtml" => Some(InputFormat::Html),
        "warc" => Some(InputFormat::Warc),
        _ => None,
    }
}

/// Counts bytes pulled from the underlying file, so progress can be shown in input bytes
/// whatever the compression.
pub(crate) struct CountingReader<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Open `path`, sniff its compression and return a buffered reader of the decompressed bytes.
pub(crate) fn open_decoded(
    path: &Path,
    counter: Arc<AtomicU64>,
) -> io::Result<(Box<dyn BufRead + Send>, Compression)> {
    let file = File::open(path)?;
    let mut raw = BufReader::with_capacity(
        256 * 1024,
        CountingReader {
            inner: file,
            counter,
        },
    );
    let head = raw.fill_buf()?;
    let compression = if head.starts_with(&ZSTD_MAGIC) {
        Compression::Zstd
    } else if head.starts_with(&GZIP_MAGIC) {
        Compression::Gzip
    } else {
        Compression::None
    };
    let reader: Box<dyn BufRead + Send> = match compression {
        Compression::None => Box::new(raw),
        // Multi-member gzip (concatenated `.gz` files) is common in crawls.
        Compression::Gzip => Box::new(BufReader::with_capacity(
            256 * 1024,
            flate2::bufread::MultiGzDecoder::new(raw),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            256 * 1024,
            zstd::stream::read::Decoder::with_buffer(raw)?,
        )),
    };
    Ok((reader, compression))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_ignores_compression_suffix() {
        assert_eq!(
            format_from_name(Path::new("a/b.jsonl.zst")),
            Some(InputFormat::Jsonl)
        );
        assert_eq!(
            format_from_name(Path::new("x.CSV.gz")),
            Some(InputFormat::Csv)
        );
        assert_eq!(
            format_from_name(Path::new("x.parquet")),
            Some(InputFormat::Parquet)
        );
        assert_eq!(format_from_name(Path::new("x.bin")), None);
        assert_eq!(format_from_name(Path::new("README")), None);
    }

    #[test]
    fn sniffs_gzip_and_zstd_regardless_of_name() {
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("plain.jsonl");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut enc, b"{\"text\":\"hi\"}\n").unwrap();
        std::fs::write(&gz, enc.finish().unwrap()).unwrap();
        let (mut r, c) = open_decoded(&gz, Arc::default()).unwrap();
        assert_eq!(c, Compression::Gzip);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "{\"text\":\"hi\"}\n");

        let zs = dir.path().join("z.jsonl");
        std::fs::write(&zs, zstd::encode_all(&b"abc"[..], 1).unwrap()).unwrap();
        let (mut r, c) = open_decoded(&zs, Arc::default()).unwrap();
        assert_eq!(c, Compression::Zstd);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "abc");
    }

    #[test]
    fn missing_path_and_empty_glob_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = list_files(&[dir.path().join("nope.jsonl")], InputFormat::Auto).unwrap_err();
        assert!(err.to_string().contains("nope.jsonl"), "{err}");
        let err = list_files(&[dir.path().join("*.jsonl")], InputFormat::Auto).unwrap_err();
        assert!(err.to_string().contains("matched no files"), "{err}");
    }
}

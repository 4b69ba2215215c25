//! Spool: cleaned documents parked between the streaming pass (read → clean → dedup
//! signatures) and the output pass (dedup decisions → extract → write), so memory holds
//! only the dedup index, never the corpus.
//!
//! Documents stay in memory while their text fits a budget (most single runs: the
//! cleaned corpus is handed from pass 1 to pass 2 without a copy), and the spool spills to
//! a file as soon as it outgrows it: a simple length-prefixed binary record format in a
//! zstd (level 1) stream, written and read once by the same binary. Either way the reader
//! returns the documents in the order they were pushed.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::WriteError;
use crate::doc::Doc;

const NONE: u32 = u32::MAX;

/// Bytes a document is charged against the memory budget beyond its strings (the `Doc`
/// itself and allocator rounding).
const DOC_OVERHEAD_BYTES: usize = 256;

/// Appends documents to a spool: in memory up to a budget, then to a file.
pub struct SpoolWriter {
    path: PathBuf,
    /// Documents held in memory, while they fit `budget`.
    mem: Vec<Doc>,
    mem_bytes: usize,
    budget: usize,
    /// The file, once the spool has spilled.
    enc: Option<zstd::stream::write::Encoder<'static, BufWriter<File>>>,
    count: u64,
}

/// A finished spool, ready to be read back.
pub enum Spool {
    /// Every document fitted in memory.
    Memory(Vec<Doc>),
    /// The documents are in this file.
    File {
        /// The spool file.
        path: PathBuf,
        /// Documents in it.
        count: u64,
    },
}

/// The memory a document's strings take.
fn doc_bytes(d: &Doc) -> usize {
    let opt = |s: &Option<String>| s.as_ref().map_or(0, String::len);
    d.doc_id.len()
        + d.text.len()
        + d.input_file.len()
        + opt(&d.source)
        + opt(&d.url)
        + opt(&d.title)
        + opt(&d.published)
        + opt(&d.lang)
        + opt(&d.author)
        + DOC_OVERHEAD_BYTES
}

impl SpoolWriter {
    /// A spool that keeps up to `memory_budget` bytes of documents in memory and spills to a
    /// file at `path` beyond that (the file is only created then).
    pub fn create(path: &Path, memory_budget: usize) -> Result<SpoolWriter, WriteError> {
        Ok(SpoolWriter {
            path: path.to_path_buf(),
            mem: Vec::new(),
            mem_bytes: 0,
            budget: memory_budget,
            enc: None,
            count: 0,
        })
    }

    /// Append one document.
    pub fn push(&mut self, d: Doc) -> Result<(), WriteError> {
        self.count += 1;
        if let Some(w) = self.enc.as_mut() {
            return write_doc(w, &d).map_err(|e| WriteError::io(&self.path, e));
        }
        self.mem_bytes += doc_bytes(&d);
        self.mem.push(d);
        if self.mem_bytes > self.budget {
            self.spill()?;
        }
        Ok(())
    }

    /// Moves the in-memory documents to the file, which takes every later one.
    fn spill(&mut self) -> Result<(), WriteError> {
        let io = |e| WriteError::io(&self.path, e);
        let f = File::create(&self.path).map_err(io)?;
        let mut enc = zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 20, f), 1)
            .map_err(io)?;
        for d in &self.mem {
            write_doc(&mut enc, d).map_err(io)?;
        }
        self.mem = Vec::new();
        self.mem_bytes = 0;
        self.enc = Some(enc);
        Ok(())
    }

    /// Documents written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether the spool outgrew its memory budget and went to a file.
    pub fn spilled(&self) -> bool {
        self.enc.is_some()
    }

    /// Flush and close.
    pub fn finish(self) -> Result<Spool, WriteError> {
        let Some(enc) = self.enc else {
            return Ok(Spool::Memory(self.mem));
        };
        let mut inner = enc.finish().map_err(|e| WriteError::io(&self.path, e))?;
        inner.flush().map_err(|e| WriteError::io(&self.path, e))?;
        Ok(Spool::File {
            path: self.path,
            count: self.count,
        })
    }
}

/// One document as a spool record.
fn write_doc(w: &mut impl Write, d: &Doc) -> std::io::Result<()> {
    put_str(w, Some(&d.doc_id))?;
    put_str(w, d.source.as_deref())?;
    put_str(w, d.url.as_deref())?;
    put_str(w, d.title.as_deref())?;
    put_str(w, d.published.as_deref())?;
    put_str(w, Some(&d.text))?;
    put_str(w, d.lang.as_deref())?;
    put_str(w, Some(&d.input_file))?;
    put_str(w, d.author.as_deref())?;
    w.write_all(&d.input_record.to_le_bytes())?;
    w.write_all(&d.raw_bytes.to_le_bytes())
}

fn put_str(w: &mut impl Write, s: Option<&str>) -> std::io::Result<()> {
    match s {
        None => w.write_all(&NONE.to_le_bytes()),
        Some(s) => {
            w.write_all(&(s.len() as u32).to_le_bytes())?;
            w.write_all(s.as_bytes())
        }
    }
}

/// Reads documents back in the order they were written.
pub struct SpoolReader {
    from: Source,
    remaining: u64,
}

enum Source {
    Memory(std::vec::IntoIter<Doc>),
    File {
        path: PathBuf,
        dec: zstd::stream::read::Decoder<'static, BufReader<File>>,
    },
}

impl SpoolReader {
    /// Open a finished spool.
    pub fn open(spool: Spool) -> Result<SpoolReader, WriteError> {
        Ok(match spool {
            Spool::Memory(docs) => SpoolReader {
                remaining: docs.len() as u64,
                from: Source::Memory(docs.into_iter()),
            },
            Spool::File { path, count } => {
                let f = File::open(&path).map_err(|e| WriteError::io(&path, e))?;
                let dec =
                    zstd::stream::read::Decoder::new(f).map_err(|e| WriteError::io(&path, e))?;
                SpoolReader {
                    remaining: count,
                    from: Source::File { path, dec },
                }
            }
        })
    }

    /// Read up to `n` documents.
    pub fn next_batch(&mut self, n: usize) -> Result<Vec<Doc>, WriteError> {
        let take = (n as u64).min(self.remaining) as usize;
        self.remaining -= take as u64;
        match &mut self.from {
            Source::Memory(docs) => Ok(docs.by_ref().take(take).collect()),
            Source::File { path, dec } => {
                let mut out = Vec::with_capacity(take);
                for _ in 0..take {
                    out.push(read_doc(dec).map_err(|e| WriteError::io(path, e))?);
                }
                Ok(out)
            }
        }
    }
}

fn read_doc(r: &mut impl Read) -> std::io::Result<Doc> {
    let req = |s: Option<String>| s.unwrap_or_default();
    Ok(Doc {
        doc_id: req(get_str(r)?),
        source: get_str(r)?,
        url: get_str(r)?,
        title: get_str(r)?,
        published: get_str(r)?,
        text: req(get_str(r)?),
        lang: get_str(r)?,
        input_file: req(get_str(r)?),
        author: get_str(r)?,
        input_record: get_u64(r)?,
        raw_bytes: get_u64(r)?,
        html: None,
    })
}

fn get_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn get_str(r: &mut impl Read) -> std::io::Result<Option<String>> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    let n = u32::from_le_bytes(b);
    if n == NONE {
        return Ok(None);
    }
    let mut buf = vec![0u8; n as usize];
    r.read_exact(&mut buf)?;
    String::from_utf8(buf)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_documents() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.bin");
        let docs = vec![
            Doc {
                doc_id: "a".into(),
                text: "héllo".into(),
                title: Some("T".into()),
                input_file: "f".into(),
                input_record: 3,
                raw_bytes: 9,
                ..Doc::default()
            },
            Doc {
                doc_id: "b".into(),
                lang: Some("en".into()),
                ..Doc::default()
            },
        ];
        // Budget 0 spills at the first document; a large one never spills.
        for (budget, spills) in [(0, true), (1 << 20, false)] {
            let mut w = SpoolWriter::create(&p, budget).unwrap();
            for d in &docs {
                w.push(d.clone()).unwrap();
            }
            assert_eq!(w.count(), 2);
            assert_eq!(w.spilled(), spills);
            let spool = w.finish().unwrap();
            assert_eq!(p.exists(), spills);
            let mut r = SpoolReader::open(spool).unwrap();
            assert_eq!(r.next_batch(1).unwrap(), docs[..1]);
            assert_eq!(r.next_batch(10).unwrap(), docs[1..]);
            assert!(r.next_batch(10).unwrap().is_empty());
            let _ = std::fs::remove_file(&p);
        }
    }

    #[test]
    fn spills_mid_stream_and_keeps_order() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.bin");
        let docs: Vec<Doc> = (0..50)
            .map(|i| Doc {
                doc_id: format!("d{i}"),
                text: "word ".repeat(i * 10),
                ..Doc::default()
            })
            .collect();
        // Room for a few documents only: the rest go to the file after them.
        let mut w = SpoolWriter::create(&p, 3000).unwrap();
        for (i, d) in docs.iter().enumerate() {
            w.push(d.clone()).unwrap();
            if i == 0 {
                assert!(!w.spilled());
            }
        }
        assert!(w.spilled());
        let mut r = SpoolReader::open(w.finish().unwrap()).unwrap();
        let mut back = Vec::new();
        loop {
            let b = r.next_batch(7).unwrap();
            if b.is_empty() {
                break;
            }
            back.extend(b);
        }
        assert_eq!(back, docs);
    }
}

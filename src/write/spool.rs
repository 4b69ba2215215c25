//! Spool: cleaned documents parked on disk between the streaming pass (read → clean →
//! dedup signatures) and the output pass (dedup decisions → extract → write), so memory
//! holds only the dedup index, never the corpus. A simple length-prefixed binary record
//! format in a zstd (level 1) stream: written and read once by the same binary.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::WriteError;
use crate::doc::Doc;

const NONE: u32 = u32::MAX;

/// Appends documents to a spool file.
pub struct SpoolWriter {
    path: PathBuf,
    enc: zstd::stream::write::Encoder<'static, BufWriter<File>>,
    count: u64,
}

impl SpoolWriter {
    /// Create the spool file at `path`.
    pub fn create(path: &Path) -> Result<SpoolWriter, WriteError> {
        let f = File::create(path).map_err(|e| WriteError::io(path, e))?;
        let enc = zstd::stream::write::Encoder::new(BufWriter::with_capacity(1 << 20, f), 1)
            .map_err(|e| WriteError::io(path, e))?;
        Ok(SpoolWriter {
            path: path.to_path_buf(),
            enc,
            count: 0,
        })
    }

    /// Append one document.
    pub fn push(&mut self, d: &Doc) -> Result<(), WriteError> {
        let w = &mut self.enc;
        let res = (|| -> std::io::Result<()> {
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
        })();
        res.map_err(|e| WriteError::io(&self.path, e))?;
        self.count += 1;
        Ok(())
    }

    /// Documents written.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Flush and close.
    pub fn finish(self) -> Result<PathBuf, WriteError> {
        let mut inner = self
            .enc
            .finish()
            .map_err(|e| WriteError::io(&self.path, e))?;
        inner.flush().map_err(|e| WriteError::io(&self.path, e))?;
        Ok(self.path)
    }
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
    path: PathBuf,
    dec: zstd::stream::read::Decoder<'static, BufReader<File>>,
    remaining: u64,
}

impl SpoolReader {
    /// Open a spool holding `count` documents.
    pub fn open(path: &Path, count: u64) -> Result<SpoolReader, WriteError> {
        let f = File::open(path).map_err(|e| WriteError::io(path, e))?;
        let dec = zstd::stream::read::Decoder::new(f).map_err(|e| WriteError::io(path, e))?;
        Ok(SpoolReader {
            path: path.to_path_buf(),
            dec,
            remaining: count,
        })
    }

    /// Read up to `n` documents.
    pub fn next_batch(&mut self, n: usize) -> Result<Vec<Doc>, WriteError> {
        let take = (n as u64).min(self.remaining) as usize;
        let mut out = Vec::with_capacity(take);
        for _ in 0..take {
            out.push(self.read_doc().map_err(|e| WriteError::io(&self.path, e))?);
        }
        self.remaining -= take as u64;
        Ok(out)
    }

    fn read_doc(&mut self) -> std::io::Result<Doc> {
        let r = &mut self.dec;
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
        let mut w = SpoolWriter::create(&p).unwrap();
        for d in &docs {
            w.push(d).unwrap();
        }
        assert_eq!(w.count(), 2);
        w.finish().unwrap();
        let mut r = SpoolReader::open(&p, 2).unwrap();
        assert_eq!(r.next_batch(10).unwrap(), docs);
        assert!(r.next_batch(10).unwrap().is_empty());
    }
}

//! The container every state file shares, and the little-endian encoder/decoder used inside.
//!
//! Layout (version field per file kind, so each can evolve alone):
//! ```text
//! magic "NMSTATE\0" | kind [u8; 8] | version u32 | 0u32 | payload_len u64 | xxh3-64 of payload u64
//! payload
//! ```
//! A file is written to `<path>.tmp`, fsynced and renamed, so the real name only ever holds a
//! complete file. Reading checks magic, kind, version, length and checksum, and every failure
//! is a [`StateError`] naming the file: a damaged state is never silently reset.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::xxh3_64;

use super::StateError;

const MAGIC: &[u8; 8] = b"NMSTATE\0";
const HEADER_LEN: usize = 40;

/// Encode a payload into a container and write it atomically (tmp + fsync + rename).
pub(crate) fn write_file(
    path: &Path,
    kind: &[u8; 8],
    version: u32,
    payload: &[u8],
) -> Result<(), StateError> {
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(kind);
    bytes.extend_from_slice(&version.to_le_bytes());
    bytes.extend_from_slice(&0u32.to_le_bytes());
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&xxh3_64(payload).to_le_bytes());
    bytes.extend_from_slice(payload);
    write_atomic(path, &bytes)
}

/// Write `bytes` to `path` through `<path>.tmp` + fsync + rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let tmp = tmp_path(path);
    let write = || -> std::io::Result<()> {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()
    };
    write().map_err(|e| StateError::io(&tmp, e))?;
    fs::rename(&tmp, path).map_err(|e| StateError::io(path, e))?;
    sync_parent(path);
    Ok(())
}

/// `<path>.tmp`.
pub(crate) fn tmp_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".tmp");
    PathBuf::from(s)
}

/// Best-effort fsync of the folder holding `path`, so a rename survives a power cut.
pub(crate) fn sync_parent(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(f) = fs::File::open(dir) {
            let _ = f.sync_all();
        }
    }
}

/// Read a container, check it and return the payload.
pub(crate) fn read_file(path: &Path, kind: &[u8; 8], version: u32) -> Result<Vec<u8>, StateError> {
    let bytes = fs::read(path).map_err(|e| StateError::io(path, e))?;
    let corrupt = |reason: &str| StateError::corrupt(path, reason);
    if bytes.len() < HEADER_LEN {
        return Err(corrupt("file is truncated (shorter than its header)"));
    }
    if &bytes[..8] != MAGIC {
        return Err(corrupt("not a newsmill state file (bad magic bytes)"));
    }
    if &bytes[8..16] != kind {
        return Err(corrupt(&format!(
            "holds {:?} data, expected {:?}",
            String::from_utf8_lossy(&bytes[8..16]).trim_end_matches('\0'),
            String::from_utf8_lossy(kind).trim_end_matches('\0')
        )));
    }
    let mut d = Dec::new(&bytes[16..HEADER_LEN]);
    let found = d.u32().ok_or_else(|| corrupt("truncated header"))?;
    if found != version {
        return Err(StateError::Version {
            path: path.to_path_buf(),
            found,
            expected: version,
        });
    }
    d.u32();
    let len = d.u64().ok_or_else(|| corrupt("truncated header"))? as usize;
    let sum = d.u64().ok_or_else(|| corrupt("truncated header"))?;
    let payload = &bytes[HEADER_LEN..];
    if payload.len() != len {
        return Err(corrupt(&format!(
            "payload is {} bytes, header says {len} (truncated or appended)",
            payload.len()
        )));
    }
    if xxh3_64(payload) != sum {
        return Err(corrupt("checksum mismatch (file content is damaged)"));
    }
    Ok(payload.to_vec())
}

/// Little-endian encoder.
#[derive(Default)]
pub(crate) struct Enc {
    pub(crate) buf: Vec<u8>,
}

impl Enc {
    pub(crate) fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn str(&mut self, s: &str) {
        self.u32(s.len() as u32);
        self.buf.extend_from_slice(s.as_bytes());
    }
    pub(crate) fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.u8(1);
                self.str(s);
            }
            None => self.u8(0),
        }
    }
}

/// Little-endian decoder; every read is `None` past the end.
pub(crate) struct Dec<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Dec<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Dec { buf, pos: 0 }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take(4)?.try_into().ok().map(u32::from_le_bytes)
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.take(8)?.try_into().ok().map(u64::from_le_bytes)
    }
    pub(crate) fn f64(&mut self) -> Option<f64> {
        self.take(8)?.try_into().ok().map(f64::from_le_bytes)
    }
    pub(crate) fn str(&mut self) -> Option<String> {
        let n = self.u32()? as usize;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    pub(crate) fn opt_str(&mut self) -> Option<Option<String>> {
        match self.u8()? {
            0 => Some(None),
            1 => self.str().map(Some),
            _ => None,
        }
    }
    /// Whether every byte was consumed.
    pub(crate) fn done(&self) -> bool {
        self.pos == self.buf.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.bin");
        let mut e = Enc::default();
        e.str("héllo");
        e.opt_str(None);
        e.u64(7);
        write_file(&p, b"TESTKIND", 3, &e.buf).unwrap();
        let payload = read_file(&p, b"TESTKIND", 3).unwrap();
        let mut d = Dec::new(&payload);
        assert_eq!(d.str().as_deref(), Some("héllo"));
        assert_eq!(d.opt_str(), Some(None));
        assert_eq!(d.u64(), Some(7));
        assert!(d.done());

        let err = read_file(&p, b"TESTKIND", 4).unwrap_err().to_string();
        assert!(err.contains("version 3") && err.contains("x.bin"), "{err}");
        let err = read_file(&p, b"OTHERKND", 3).unwrap_err().to_string();
        assert!(err.contains("expected"), "{err}");
        let mut bytes = fs::read(&p).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        fs::write(&p, &bytes).unwrap();
        let err = read_file(&p, b"TESTKIND", 3).unwrap_err().to_string();
        assert!(err.contains("checksum") && err.contains("x.bin"), "{err}");
        fs::write(&p, &bytes[..last]).unwrap();
        let err = read_file(&p, b"TESTKIND", 3).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }
}

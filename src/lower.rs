//! ASCII lowercasing without a heap copy, for keyword tests on single words.

/// A word ASCII-lowercased on the stack (on the heap only past 32 bytes): the numeric rules
/// and the language detector's word list test many words against keyword sets, and a heap
/// copy per test was a measurable share of a run's allocations.
pub(crate) struct Lower {
    buf: [u8; 32],
    len: usize,
    long: Option<String>,
}

impl Lower {
    pub(crate) fn as_str(&self) -> &str {
        match &self.long {
            Some(s) => s,
            // SAFETY: `buf[..len]` is a `&str`'s bytes with only ASCII bytes replaced by other
            // ASCII bytes (see `ascii_lower`), so it is still valid UTF-8.
            None => unsafe { std::str::from_utf8_unchecked(&self.buf[..self.len]) },
        }
    }
}

impl std::ops::Deref for Lower {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<&str> for Lower {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// `str::to_ascii_lowercase` into a [`Lower`].
pub(crate) trait AsciiLower {
    fn ascii_lower(&self) -> Lower;
}

impl AsciiLower for str {
    fn ascii_lower(&self) -> Lower {
        let mut l = Lower {
            buf: [0; 32],
            len: self.len(),
            long: None,
        };
        if self.len() > l.buf.len() {
            l.long = Some(self.to_ascii_lowercase());
        } else {
            for (d, b) in l.buf.iter_mut().zip(self.bytes()) {
                *d = b.to_ascii_lowercase();
            }
        }
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_lowercase_matches_std() {
        for w in [
            "",
            "MLN",
            "Sept.",
            "Ärzte",
            "x".repeat(32).as_str(),
            &"AbC".repeat(20),
        ] {
            assert_eq!(w.ascii_lower().as_str(), w.to_ascii_lowercase(), "{w}");
        }
    }
}

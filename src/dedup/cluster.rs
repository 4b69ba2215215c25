//! Transitive clustering (union-find) and the choice of each cluster's kept member.
//!
//! Roots are always the smallest doc index in a set (the earliest added), so the structure
//! after a sequence of unions depends only on which pairs were joined, never on timing.

use super::config::KeepPolicy;

/// Sentinel for "no doc".
pub(crate) const NONE: u32 = u32::MAX;

/// Disjoint sets over doc indices (u32: 4 bytes per doc).
#[derive(Debug, Clone, Default)]
pub(crate) struct UnionFind {
    parent: Vec<u32>,
}

impl UnionFind {
    /// Adds a singleton set; returns its index.
    pub fn push(&mut self) -> u32 {
        let i = self.parent.len() as u32;
        self.parent.push(i);
        i
    }

    /// Adds a doc whose root is already known (loading a saved index); `root <= index`.
    pub fn push_with_root(&mut self, root: u32) {
        self.parent.push(root);
    }

    /// Root of `x`, halving the path on the way.
    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let grand = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = grand;
            x = grand;
        }
        x
    }

    /// Root of `x` without compressing (for `&self` callers).
    pub fn root_of(&self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            x = self.parent[x as usize];
        }
        x
    }

    /// Joins the sets of `a` and `b`; the smaller root wins so roots stay earliest-added.
    pub fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.parent.capacity() * 4
    }
}

/// Is candidate `a` (later in input order) a better keeper than current `b` under `policy`?
/// Ties keep `b`, the earlier doc, so the answer never depends on anything but input order.
pub(crate) fn prefers(policy: KeepPolicy, a: (u64, Option<&str>), b: (u64, Option<&str>)) -> bool {
    match policy {
        KeepPolicy::First => false,
        KeepPolicy::Longest => a.0 > b.0,
        KeepPolicy::Earliest => match (a.1, b.1) {
            (Some(x), Some(y)) => x < y,
            (Some(_), None) => true,
            _ => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_keeps_smallest_root() {
        let mut uf = UnionFind::default();
        for _ in 0..5 {
            uf.push();
        }
        uf.union(4, 3);
        uf.union(3, 1);
        assert_eq!(uf.find(4), 1);
        assert_eq!(uf.root_of(3), 1);
        assert_eq!(uf.find(0), 0);
        uf.union(0, 4);
        assert_eq!(uf.find(3), 0);
    }

    #[test]
    fn keep_policies() {
        let early = (10, Some("1987-03-01T00:00:00Z"));
        let late_long = (99, Some("1987-03-02T00:00:00Z"));
        assert!(!prefers(KeepPolicy::First, early, late_long));
        assert!(prefers(KeepPolicy::Longest, late_long, early));
        assert!(prefers(KeepPolicy::Earliest, early, late_long));
        assert!(!prefers(KeepPolicy::Earliest, (5, None), early));
        assert!(prefers(KeepPolicy::Earliest, early, (5, None)));
        assert!(!prefers(KeepPolicy::Longest, (10, None), (10, None)));
    }
}

//! Canonical form of a world: the context arena garbage-collected and
//! renumbered in a fixed order of first reference, so that two worlds that
//! behave the same from here on are equal (the exhaustive check
//! deduplicates states by it).

use crate::{ContextId, FutureState, Model, Ready, TOP_LEVEL};

impl Model {
    /// The same world with its context arena garbage-collected and numbered
    /// in a fixed order of first reference, so that two worlds that behave
    /// the same from here on are equal (used to deduplicate states).
    pub fn canonical(&self) -> Model {
        self.clone().into_canonical()
    }

    /// [`canonical`](Self::canonical), consuming the world (no copy).
    pub fn into_canonical(mut self) -> Model {
        let mut order: Vec<ContextId> = Vec::new();
        let mut visit = |id: ContextId| {
            if !order.contains(&id) {
                order.push(id);
            }
        };
        visit(TOP_LEVEL);
        visit(self.current);
        self.named.values().for_each(|&k| visit(k));
        for t in self.tasks.values() {
            visit(t.context);
            t.awaiters.iter().for_each(|r| visit(r.context));
        }
        for state in self.futures.values() {
            if let FutureState::Pending(rs) = state {
                rs.iter().for_each(|r| visit(r.context));
            }
        }
        for entry in &self.ready {
            if let Ready::Done { context, .. } | Ready::TaskWakeup { context, .. } = entry {
                visit(*context);
            }
        }
        let map = |id: ContextId| order.iter().position(|&o| o == id).unwrap_or(usize::MAX);
        let mut old = std::mem::take(&mut self.contexts);
        self.contexts = order
            .iter()
            .map(|&id| std::mem::take(&mut old[id]))
            .collect();
        self.current = map(self.current);
        self.named.values_mut().for_each(|k| *k = map(*k));
        for t in self.tasks.values_mut() {
            t.context = map(t.context);
            t.awaiters
                .iter_mut()
                .for_each(|r| r.context = map(r.context));
        }
        for state in self.futures.values_mut() {
            if let FutureState::Pending(rs) = state {
                rs.iter_mut().for_each(|r| r.context = map(r.context));
            }
        }
        for entry in self.ready.iter_mut() {
            if let Ready::Done { context, .. } | Ready::TaskWakeup { context, .. } = entry {
                *context = map(*context);
            }
        }
        self
    }
}

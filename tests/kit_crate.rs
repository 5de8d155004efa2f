//! The conformance kit on this crate through its trait: the harness that
//! other implementations call (`trace::kit::Kit`) run on
//! `CrateImplementation`, one test per vector (`spec/kit.md`, KIT-7,
//! KIT-8). `tests/conformance.rs` checks the same vectors through
//! `trace::replay`; this checks the harness itself.

use asyncio_future::trace::kit::{CrateImplementation, Kit};

fn main() {
    Kit::new(CrateImplementation::new).run_tests()
}

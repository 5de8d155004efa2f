//! The conformance kit on its second implementation: every vector in
//! `tests/vectors` replayed by the kit's generic replayer against the
//! reference model (`verification/model`, `ModelImplementation`), one test
//! per vector, as another implementation's own `cargo test` would run it
//! (`spec/kit.md`, KIT-1 to KIT-8). Nothing is declared a deviation.

use asyncio_future::trace::kit::Kit;
use asyncio_future_model::kit::ModelImplementation;

fn main() {
    Kit::new(ModelImplementation::new).run_tests()
}

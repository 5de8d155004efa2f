//! Nothing to link: this package exists for its benchmarks
//! (`compare.rs`, `workloads.rs` and `table.rs` over `shapes/`, `scaling/`), which need dependencies the
//! main crate's users should not build.

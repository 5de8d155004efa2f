//! Nothing to link: this package exists for its benchmarks
//! (`compare.rs`, `workloads.rs`, `scaling/`), which need dependencies the
//! main crate's users should not build.

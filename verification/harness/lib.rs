//! Nothing to link: this package exists for its tests (`tests/`), which
//! need dependencies the main crate's users should not build. See
//! `Cargo.toml` for what each test needs.

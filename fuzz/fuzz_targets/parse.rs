//! cargo-fuzz target `parse`: see `asyncio_future_fuzz::parse`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| asyncio_future_fuzz::parse(data));

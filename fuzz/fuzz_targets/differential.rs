//! cargo-fuzz target `differential`: see `asyncio_future_fuzz::differential`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| asyncio_future_fuzz::differential(data));

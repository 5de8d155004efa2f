//! cargo-fuzz target `replay`: see `asyncio_future_fuzz::replay`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| asyncio_future_fuzz::replay(data));

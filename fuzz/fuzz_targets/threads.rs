//! cargo-fuzz target `threads`: see `asyncio_future_fuzz::threads`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| asyncio_future_fuzz::threads(data));

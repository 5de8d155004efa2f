//! cargo-fuzz target `api_ops`: see `asyncio_future_fuzz::api_ops`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| asyncio_future_fuzz::api_ops(data));

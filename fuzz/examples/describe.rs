//! Prints the operations an `api_ops` input stands for:
//! `cargo run --example describe -- FILE`.
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).expect("a readable input");
        println!("{path}:");
        for op in asyncio_future_fuzz::api_ops::decode(&data) {
            println!("  {op:?}");
        }
    }
}

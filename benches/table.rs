//! W1–W5 timed by criterion on every implementation of `shapes/` (this
//! crate, tokio, futures, the floors, the asyncio-shaped sketch): the same
//! code `benches/callgrind.sh --all` counts instructions of, so the two
//! tables can be read side by side. One criterion iteration is one
//! operation (`iter_custom` times a run of `iters` operations, set-up
//! included, which the run lengths criterion picks amortise), so the
//! medians are ns per operation. All implementations run in one process,
//! one after another, per workload:
//! `cargo bench -p asyncio-future-benches --bench table [-- W4]`.

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};

mod shapes;

fn table(c: &mut Criterion) {
    for w in shapes::WORKLOADS {
        let mut g = c.benchmark_group(w);
        g.sampling_mode(SamplingMode::Flat);
        for imp in shapes::IMPLS {
            g.bench_function(imp, |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    shapes::run(imp, w, iters).expect("a known workload and implementation");
                    start.elapsed()
                })
            });
        }
        g.finish();
    }
}

criterion_group!(benches, table);
criterion_main!(benches);

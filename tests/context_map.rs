//! The context's persistent map checked against a plain `HashMap` model
//! through the public API: thousands of variables set, replaced and reset
//! (reset to "no value" removes an entry, which shrinks the trie), with
//! copies taken along the way that must keep their contents (spec rules
//! CTX-VAR-1, CTX-VAR-2, CTX-COPY-1).

use std::collections::HashMap;

use asyncio_future::{copy_context, Context, ContextVar, Token};

/// A small deterministic generator (xorshift), so a failure repeats.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn check(ctx: &Context, vars: &[ContextVar<u64>], model: &HashMap<usize, u64>) {
    assert_eq!(ctx.len(), model.len(), "CTX-VAR-1: len");
    for (i, v) in vars.iter().enumerate() {
        assert_eq!(ctx.get(v), model.get(&i).copied(), "CTX-VAR-1: var {i}");
    }
}

#[test]
fn sets_resets_and_copies_agree_with_a_model() {
    // CTX-VAR-1 CTX-VAR-2 CTX-COPY-1
    let vars: Vec<ContextVar<u64>> = (0..5_000)
        .map(|i| ContextVar::new(&format!("v{i}")))
        .collect();
    let ctx = Context::new();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut model: HashMap<usize, u64> = HashMap::new();
    // Tokens of the first set of a variable: resetting one removes it.
    let mut firsts: Vec<(usize, Token<u64>)> = Vec::new();
    let mut copies: Vec<(Context, HashMap<usize, u64>)> = Vec::new();
    ctx.run(|| {
        for step in 0..40_000u64 {
            let i = rng.below(vars.len());
            if rng.below(4) == 0 && !firsts.is_empty() {
                let (j, token) = firsts.swap_remove(rng.below(firsts.len()));
                vars[j].reset(&token).unwrap();
                model.remove(&j);
            } else {
                let token = vars[i].set(step);
                if model.insert(i, step).is_none() {
                    firsts.push((i, token));
                }
            }
            assert_eq!(vars[i].get(), model.get(&i).copied(), "CTX-VAR-1");
            if step % 4_000 == 0 {
                copies.push((copy_context(), model.clone()));
            }
        }
    })
    .unwrap();
    check(&ctx, &vars, &model);
    for (copy, seen) in &copies {
        check(copy, &vars, seen);
    }
    // Reset every variable still holding its first value: the map empties.
    ctx.run(|| {
        for (j, token) in firsts.drain(..) {
            vars[j].reset(&token).unwrap();
            model.remove(&j);
        }
    })
    .unwrap();
    check(&ctx, &vars, &model);
}

#[test]
fn removing_every_variable_in_either_order_empties_the_map() {
    // CTX-VAR-2: reset to unset, first to last and last to first.
    for reverse in [false, true] {
        let vars: Vec<ContextVar<u32>> = (0..3_000).map(|_| ContextVar::new("v")).collect();
        let ctx = Context::new();
        ctx.run(|| {
            let mut tokens: Vec<_> = vars.iter().map(|v| v.set(1)).collect();
            assert_eq!(copy_context().len(), vars.len());
            if reverse {
                tokens.reverse();
            }
            let order: Vec<usize> = if reverse {
                (0..vars.len()).rev().collect()
            } else {
                (0..vars.len()).collect()
            };
            for (k, (i, t)) in order.into_iter().zip(&tokens).enumerate() {
                vars[i].reset(t).unwrap();
                assert_eq!(vars[i].get(), None);
                assert_eq!(copy_context().len(), vars.len() - k - 1);
            }
            tokens.clear();
        })
        .unwrap();
        assert!(ctx.is_empty());
    }
}

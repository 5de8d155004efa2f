//! The write half in the model (FUT-RESOLVER-1, FUT-RESOLVER-2,
//! FUT-RESOLVER-3): `future_with_resolver fN` makes a PENDING future with a
//! live resolver; each resolver step uses it up. A completion through it is
//! the future's own completion when PENDING (`ok`) and otherwise hands the
//! payload back (`returned V`, `returned EK`) with nothing changed; dropping
//! it changes nothing.

use crate::{FutureState, Model, ModelError, Step};

impl Model {
    /// Runs one of the resolver's steps.
    pub(crate) fn resolver_step(&mut self, step: &Step) -> Result<String, ModelError> {
        match step {
            Step::FutureWithResolver(n) => {
                self.futures.insert(*n, FutureState::Pending(Vec::new()));
                self.resolvers.insert(*n);
                Ok("ok".to_owned())
            }
            Step::ResolverSetResult(f, v) => {
                self.use_resolver(*f)?;
                let done = self.complete(*f, FutureState::Result(*v))?;
                Ok(handed_back(done, v.to_string()))
            }
            Step::ResolverSetException(f, e) => {
                self.use_resolver(*f)?;
                let done = self.complete(*f, FutureState::Exception(*e))?;
                Ok(handed_back(done, format!("E{e}")))
            }
            Step::DropResolver(f) => {
                self.use_resolver(*f)?;
                Ok("ok".to_owned())
            }
            other => Err(ModelError::new(format!("{other:?} is not a resolver step"))),
        }
    }

    /// The resolver of `f` is moved by its one use.
    pub(crate) fn use_resolver(&mut self, f: u8) -> Result<(), ModelError> {
        if self.resolvers.remove(&f) {
            Ok(())
        } else {
            Err(ModelError::new(format!("f{f} has no resolver left to use")))
        }
    }
}

/// `ok` when the completion took, else the payload handed back.
fn handed_back(done: bool, payload: String) -> String {
    if done {
        "ok".to_owned()
    } else {
        format!("returned {payload}")
    }
}

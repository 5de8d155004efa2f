//! `contextvars.ContextVar` and its `Token`: a variable's value is looked
//! up in the current context and set by replacing the current map (spec
//! rules `CTX-VAR-1`, `CTX-VAR-2`).

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::rc::Rc;

use super::{current_id, current_snapshot, next_id, update_current};
use crate::error::RuntimeError;

/// `contextvars.ContextVar`: a variable whose value depends on the context
/// the code runs in.
///
/// Clones are the same variable.
#[doc = include_str!("../doc/context/context_var.md")]
pub struct ContextVar<T> {
    pub(super) id: u64,
    name: Rc<str>,
    default: Option<T>,
    _not_send: PhantomData<*const ()>,
}

impl<T> Clone for ContextVar<T>
where
    T: Clone,
{
    fn clone(&self) -> Self {
        ContextVar {
            id: self.id,
            name: self.name.clone(),
            default: self.default.clone(),
            _not_send: PhantomData,
        }
    }
}

impl<T: Clone + 'static> ContextVar<T> {
    /// A new variable with no default. [Example](ContextVar#examples).
    pub fn new(name: &str) -> Self {
        ContextVar {
            id: next_id(),
            name: Rc::from(name),
            default: None,
            _not_send: PhantomData,
        }
    }

    /// A new variable with a default, returned by `get` when unset. [Example](ContextVar#examples).
    pub fn with_default(name: &str, default: T) -> Self {
        ContextVar {
            default: Some(default),
            ..Self::new(name)
        }
    }

    /// The variable's name. [Example](ContextVar#examples).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `var.get()`: the value in the current context, else the default,
    /// else `None` (CPython raises `LookupError`). [Example](ContextVar#examples).
    pub fn get(&self) -> Option<T> {
        match current_snapshot().get(self.id) {
            Some(v) => v.downcast_ref::<T>().cloned(),
            None => self.default.clone(),
        }
    }

    /// `var.set(value)`: sets the value in the current context and returns a
    /// token that [`reset`](Self::reset) can undo. [Example](ContextVar#examples).
    pub fn set(&self, value: T) -> Token<T> {
        let old = current_snapshot().get(self.id);
        let new: Rc<dyn Any> = Rc::new(value);
        update_current(|s| s.with(self.id, Some(new)));
        Token {
            var_id: self.id,
            ctx_id: current_id(),
            old,
            used: Cell::new(false),
            _t: PhantomData,
        }
    }

    /// `var.reset(token)`: restores the value the variable had before the
    /// `set` that made `token`. Errors when the token was already used, was
    /// made by another variable, or in another context. [Example](ContextVar#examples).
    pub fn reset(&self, token: &Token<T>) -> Result<(), RuntimeError> {
        if token.used.get() {
            return Err(RuntimeError::new("<Token> has already been used once"));
        }
        if token.var_id != self.id {
            return Err(RuntimeError::new(
                "<Token> was created by a different ContextVar",
            ));
        }
        if token.ctx_id != current_id() {
            return Err(RuntimeError::new(
                "<Token> was created in a different Context",
            ));
        }
        token.used.set(true);
        let old = token.old.clone();
        update_current(|s| s.with(self.id, old));
        Ok(())
    }
}

impl<T> fmt::Debug for ContextVar<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<ContextVar name='{}'>", self.name)
    }
}

/// `contextvars.Token`: made by [`ContextVar::set`], consumed once by
/// [`ContextVar::reset`].
pub struct Token<T> {
    var_id: u64,
    ctx_id: u64,
    old: Option<Rc<dyn Any>>,
    used: Cell<bool>,
    _t: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Token<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<Token{} var={}>",
            if self.used.get() { " used" } else { "" },
            self.var_id
        )
    }
}

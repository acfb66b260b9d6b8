//! The paths storage had before the server was organised by feature, kept for the
//! binary's commands and tests: the SQLite [`Store`], its errors, and the types they
//! name. New code imports from the feature modules and `db`.

pub use crate::auth::{LoginPolicy, LoginSubject, NewToken, Permission, Role, Scope};
pub use crate::db::{Store, StoreError, StoreResult};

//! The row generator behind the data checks: rows for every table that satisfy its schema
//! as SQLite reports it, the same rows for the same seed. [`DataOptions`] are its settings
//! and [`DataOptions::fill`] runs it; [`GeneratedRows`] says what it inserted.
//!
//! Parents are filled before the tables that reference them ([`fill_order`]); each table
//! by a [`Filler`](filler::Filler) following its [`Plan`](plan::Plan), which reads the table
//! with pragmas ([`table`]) and gives each column values of its kind ([`column_kind`],
//! [`column_values`], [`timestamp`]). A `CHECK` that refuses a row is read from SQLite's
//! message and satisfied ([`check_constraint`]).

mod affinity;
mod check_constraint;
mod column_kind;
mod column_values;
mod fill_order;
mod filler;
pub(crate) mod generator;
pub(crate) mod implied;
mod options;
mod plan;
mod rng;
pub(crate) mod table;
mod timestamp;

pub use options::DataOptions;

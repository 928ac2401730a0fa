//! Test databases: [`TestDb`], one test's own database copied from the template, removed on
//! drop; its [`Builder`]; where it is placed ([`Keep`] says what stays); connections,
//! [`Snapshot`]s, application types [`Attached`] to it, and the rstest fixture.

mod attached;
mod builder;
mod database;
#[cfg(feature = "rstest")]
mod fixture;
mod keep;
mod snapshot;
mod storage;

pub use attached::Attached;
pub use builder::Builder;
pub use database::TestDb;
#[cfg(feature = "rstest")]
pub use fixture::test_db;
pub use keep::Keep;
pub use snapshot::Snapshot;
pub use storage::Storage;

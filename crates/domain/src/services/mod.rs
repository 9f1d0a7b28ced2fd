pub mod users;

pub use users::{AuthPolicy, Registration, UserService};

pub mod users;
pub mod videos;

pub use users::{AuthPolicy, Registration, UserService};
pub use videos::{JobPolicy, JobStep, VideoService};

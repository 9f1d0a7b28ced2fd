use std::sync::Arc;

use crate::error::Error;
use crate::ports::DatabaseProbe;

/// Whether this process can serve: the database answers.
pub struct HealthService {
    database: Arc<dyn DatabaseProbe>,
}

impl HealthService {
    pub fn new(database: Arc<dyn DatabaseProbe>) -> Self {
        Self { database }
    }

    #[tracing::instrument(name = "HealthService::check", skip_all)]
    pub async fn check(&self) -> Result<(), Error> {
        Ok(self.database.ping().await?)
    }
}

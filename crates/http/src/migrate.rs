//! `videotube migrate [--apply]`: converts a database the Node backend left (see
//! `videotube_infra::mongo::migrate`), with the server's own configuration. Without `--apply` it
//! only says what it would change.

use videotube_domain::BoxError;
use videotube_infra::mongo;

use crate::config::Settings;
use crate::startup::connect_database;

pub async fn run(settings: &Settings, apply: bool) -> Result<(), BoxError> {
    let database = &settings.database;
    let db = connect_database(database).await?;
    let progress = |line: &str| eprintln!("[migrate] {line}");
    let changes = mongo::migrate::migrate(&db, apply, &progress).await?;
    let pending: Vec<_> = changes
        .iter()
        .filter(|c| c.documents > 0 || !c.notes.is_empty())
        .collect();
    if apply {
        for change in &pending {
            println!(
                "{}: {}: {} documents",
                change.collection, change.what, change.documents
            );
        }
        mongo::prepare(&db).await?;
        if pending.is_empty() {
            println!(
                "Nothing to do: `{}` was already migrated; its indexes are in place.",
                database.name
            );
        } else {
            println!("Done; the indexes are built.");
        }
    } else if pending.is_empty() {
        println!("Nothing to do: `{}` is already migrated.", database.name);
    } else {
        println!("Would change (nothing is written without --apply):");
        for change in &pending {
            println!(
                "{}: {}: {} documents",
                change.collection, change.what, change.documents
            );
        }
    }
    Ok(())
}

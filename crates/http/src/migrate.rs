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
    let changed: Vec<_> = changes.iter().filter(|c| c.documents > 0).collect();
    if apply {
        mongo::prepare(&db).await?;
    }
    match (changed.is_empty(), apply) {
        (true, true) => println!(
            "Nothing to do: `{}` was already migrated; its indexes are in place.",
            database.name
        ),
        (true, false) => println!("Nothing to do: `{}` is already migrated.", database.name),
        (false, true) => println!("Changed:"),
        (false, false) => println!("Would change (nothing is written without --apply):"),
    }
    for change in &changed {
        println!(
            "{}: {}: {} documents",
            change.collection, change.what, change.documents
        );
    }
    if apply && !changed.is_empty() {
        println!("Done; the indexes are built.");
    }
    let notes: Vec<_> = changes
        .iter()
        .flat_map(|c| c.notes.iter().map(move |note| (c.collection, note)))
        .collect();
    if !notes.is_empty() {
        println!("Left alone, for a person to decide:");
        for (collection, note) in notes {
            println!("{collection}: {note}");
        }
    }
    Ok(())
}

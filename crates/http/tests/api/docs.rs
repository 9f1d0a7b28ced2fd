//! The API reference page (`/api/v1/docs`), opened in a real browser: headless Chromium, which
//! `scripts/test` installs when missing (`scripts/lib/packages.sh`) and names in `CHROMIUM`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;

fn chromium() -> String {
    std::env::var("CHROMIUM").unwrap_or_else(|_| {
        ["chromium", "chromium-browser"]
            .into_iter()
            .find(|name| {
                std::process::Command::new(name)
                    .arg("--version")
                    .output()
                    .is_ok()
            })
            .expect(
                "headless Chromium is needed: scripts/test installs it (scripts/lib/packages.sh)",
            )
            .to_owned()
    })
}

/// Headless Chromium in the profile `profile`, killed when dropped. Background networking is
/// off: this machine refuses Google's hosts.
pub fn chromium_command(profile: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(chromium());
    command
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .kill_on_drop(true);
    command
}

/// Runs headless Chromium on `url` with `extra` arguments, in a profile of its own, and gives
/// its standard output.
pub async fn headless(url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let run = chromium_command(profile.path())
        // Lets the page's scripts, and what they fetch, finish first.
        .arg("--virtual-time-budget=15000")
        .args(extra)
        .arg(url)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("Chromium finished within 90 s")
        .expect("Chromium started");
    assert!(
        output.status.success(),
        "Chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"))
}

/// The page lists every documented operation once Swagger UI, served by the binary itself
/// under its own content security policy, has run; a screenshot is left in `target/`.
#[tokio::test]
async fn the_api_reference_page_lists_every_operation_in_a_browser() {
    let app = spawn_app().await;
    let spec = crate::openapi::served_spec(&app).await;
    let documented: BTreeSet<String> = spec["paths"].as_object().unwrap().keys().cloned().collect();

    // Both forms of the address serve the page and its files resolve from either.
    for page in ["/docs", "/docs/"] {
        let res = app.client.get(app.url(page)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{page}");
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
    let missing = app
        .client
        .get(app.url("/docs/nothing.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(missing.json::<Value>().await.unwrap()["success"], false);

    let dom = headless(&app.url("/docs/"), &["--dump-dom"]).await;
    let listed: BTreeSet<String> = dom
        .split("class=\"opblock-summary-path\" data-path=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|path| path.replace("&amp;", "&"))
        .collect();
    assert_eq!(
        listed, documented,
        "every path of the description, as operations on the page"
    );

    let screenshot = target_dir().join("api-reference.png");
    let _ = std::fs::remove_file(&screenshot);
    headless(
        &app.url("/docs"),
        &[
            "--window-size=1280,2400",
            "--hide-scrollbars",
            &format!("--screenshot={}", screenshot.display()),
        ],
    )
    .await;
    let png = std::fs::read(&screenshot).expect("a screenshot was saved");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "{} bytes",
        png.len()
    );
}

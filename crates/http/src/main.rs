use std::collections::HashMap;
use std::process::ExitCode;

use videotube_http::config::Settings;
use videotube_http::{telemetry, Application};

#[actix_web::main]
async fn main() -> ExitCode {
    // A missing .env is normal; variables already set take precedence over it.
    let _ = dotenvy::dotenv();
    let env: HashMap<String, String> = std::env::vars().collect();
    let format = telemetry::LogFormat::from_env(&env);
    telemetry::init(*format.as_ref().unwrap_or(&telemetry::LogFormat::Pretty));
    if let Err(err) = format {
        tracing::error!("refusing to start: {err}");
        return ExitCode::FAILURE;
    }
    let settings = match Settings::load(&env) {
        Ok((profile, settings)) => {
            tracing::info!(?profile, "configuration loaded");
            settings
        }
        Err(err) => {
            tracing::error!("refusing to start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => serve(settings).await,
        ["migrate"] => migrate(&settings, false).await,
        ["migrate", "--apply"] => migrate(&settings, true).await,
        _ => {
            eprintln!("usage: videotube [migrate [--apply]]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(settings: &Settings, apply: bool) -> Result<(), String> {
    videotube_http::migrate::run(settings, apply)
        .await
        .map_err(|err| {
            format!(
                "migration failed: {}",
                videotube_http::api::CauseChain(err.as_ref())
            )
        })
}

async fn serve(settings: Settings) -> Result<(), String> {
    match Application::build(settings).await {
        Ok(app) => {
            let background = app.start_background_tasks();
            let (stop_server, stop_background) = (app.stopper(), background.stopper());
            actix_web::rt::spawn(async move {
                shutdown_signal().await;
                tracing::info!("shutting down: finishing requests in flight");
                // The worker takes no new job from now on, while requests finish.
                stop_background();
                stop_server.await;
            });
            let served = app.run_until_stopped().await;
            background.stop().await;
            served.map_err(|e| format!("server stopped: {e}"))
        }
        Err(err) => Err(format!(
            "server stopped: {}",
            videotube_http::api::CauseChain(&err)
        )),
    }
}

/// SIGINT (Ctrl-C) or SIGTERM (docker stop, systemd, Kubernetes).
#[cfg(unix)]
async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
}

#[cfg(not(unix))]
async fn shutdown_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

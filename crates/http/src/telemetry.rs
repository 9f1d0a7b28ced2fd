//! Logs: JSON lines for a log shipper or text for a person (`APP_LOG_FORMAT`), and one line per
//! request carrying its id, route pattern, status, latency, client address and user.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{Error, HttpMessage};
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpan, RootSpanBuilder};
use tracing_subscriber::EnvFilter;
use videotube_domain::Id;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line, fields and the request's span included.
    Json,
    /// Text for a person; coloured only on a terminal.
    Pretty,
}

impl LogFormat {
    /// `APP_LOG_FORMAT` (`json` or `pretty`); unset, JSON in production
    /// (`APP_ENVIRONMENT=production`) and text elsewhere.
    pub fn from_env(env: &HashMap<String, String>) -> Result<Self, String> {
        match env
            .get("APP_LOG_FORMAT")
            .map(|v| v.trim().to_ascii_lowercase())
        {
            Some(v) if v == "json" => Ok(LogFormat::Json),
            Some(v) if v == "pretty" => Ok(LogFormat::Pretty),
            Some(other) if !other.is_empty() => Err(format!(
                "APP_LOG_FORMAT must be json or pretty, not {other:?}"
            )),
            _ if env.get("APP_ENVIRONMENT").map(String::as_str) == Some("production") => {
                Ok(LogFormat::Json)
            }
            _ => Ok(LogFormat::Pretty),
        }
    }
}

/// Logs to stdout in `format`; `RUST_LOG` overrides the default level (info).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        // Every span in scope, the request's first: each line inside a request carries its id.
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(true)
            .init(),
        LogFormat::Pretty => builder.with_ansi(std::io::stdout().is_terminal()).init(),
    }
}

/// When the request arrived, for its latency.
struct Arrived(Instant);

/// The span every request runs in (`tracing-actix-web`'s root span), with what its log line
/// needs, and that line when it ends ("request finished"). The client address is the one
/// throttles use (`origin::client_ip`), not what a client writes in `X-Forwarded-For`.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        request.extensions_mut().insert(Arrived(Instant::now()));
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        let client_ip = crate::origin::client_ip(request.request())
            .map(|ip| ip.to_string())
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            route = Empty,
            status = Empty,
            latency_ms = Empty,
            client_ip = %client_ip,
            user_id = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, request) = match outcome {
            Ok(response) => (response.status(), Some(response.request())),
            Err(error) => (error.as_response_error().status_code(), None),
        };
        // Unmatched requests have no pattern: their path could be anything a client sent.
        let route = request
            .and_then(|r| r.match_pattern())
            .unwrap_or_else(|| "-".to_owned());
        let method = request.map_or_else(|| "-".to_owned(), |r| r.method().to_string());
        let latency = request.and_then(|r| r.extensions().get::<Arrived>().map(|a| a.0.elapsed()));
        let labels = [
            ("method", method),
            ("route", route.clone()),
            ("status", status.as_u16().to_string()),
        ];
        metrics::counter!("http_requests_total", &labels).increment(1);
        span.record("route", route.as_str());
        if let Some(latency) = latency {
            metrics::histogram!("http_request_duration_seconds", &labels)
                .record(latency.as_secs_f64());
            let millis = latency.as_secs_f64() * 1000.0;
            span.record("latency_ms", (millis * 10.0).round() / 10.0);
        }
        span.record("status", status.as_u16());
        span.in_scope(|| tracing::info!("request finished"));
    }
}

/// Names the signed-in user on the request's log line.
pub fn record_user(request: &actix_web::HttpRequest, user: Id) {
    if let Some(span) = request.extensions().get::<RootSpan>() {
        span.record("user_id", tracing::field::display(user));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn format(vars: &[(&str, &str)]) -> Result<LogFormat, String> {
        let env = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        LogFormat::from_env(&env)
    }

    #[test]
    fn json_in_production_text_elsewhere_unless_chosen() {
        assert_eq!(format(&[]), Ok(LogFormat::Pretty));
        let production = ("APP_ENVIRONMENT", "production");
        assert_eq!(format(&[production]), Ok(LogFormat::Json));
        assert_eq!(
            format(&[production, ("APP_LOG_FORMAT", "pretty")]),
            Ok(LogFormat::Pretty)
        );
        assert_eq!(format(&[("APP_LOG_FORMAT", "JSON")]), Ok(LogFormat::Json));
        assert!(format(&[("APP_LOG_FORMAT", "xml")]).is_err());
    }
}

//! Settings: embedded `config/*.yaml` (base, then the profile named by `APP_ENVIRONMENT`), then
//! `APP_*` variables, then the original backend's variable names so an existing `.env` carries over.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use config::{Config, Environment, File, FileFormat};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use videotube_infra::cloudinary::{parse_cloudinary_url, CloudinaryConfig, SignatureAlgorithm};

const BASE: &str = include_str!("../../../config/base.yaml");
const LOCAL: &str = include_str!("../../../config/local.yaml");
const PRODUCTION: &str = include_str!("../../../config/production.yaml");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    Local,
    Production,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub application: ApplicationSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub media: MediaSettings,
    pub cloudinary: CloudinarySettings,
    pub metrics: MetricsSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MetricsSettings {
    /// Where `/metrics` is served, apart from the API; empty: not served.
    pub address: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApplicationSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    /// Peers (addresses or CIDRs) whose `Forwarded`/`X-Forwarded-*` headers are believed.
    pub trusted_proxies: Vec<String>,
    pub cors_origins: Vec<String>,
    pub json_limit_bytes: usize,
    pub shutdown_timeout_seconds: u64,
    pub drain_delay_seconds: u64,
    pub head_timeout_seconds: u64,
    pub body_idle_timeout_seconds: u64,
    pub body_rate_grace_seconds: u64,
    pub body_min_bytes_per_second: u64,
    pub cookie_secure: bool,
    pub cookie_same_site: SameSitePolicy,
}

impl ApplicationSettings {
    /// The trusted proxies as networks (an address is a network of one); an entry that is
    /// neither is refused, naming it.
    pub fn trusted_proxy_nets(&self) -> Result<Vec<ipnet::IpNet>, SettingsError> {
        self.trusted_proxies
            .iter()
            .map(|entry| {
                entry
                    .parse::<ipnet::IpNet>()
                    .or_else(|_| entry.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                    .map_err(|_| SettingsError::Refused {
                        variable: "APP_APPLICATION__TRUSTED_PROXIES",
                        problem: format!(
                            "has `{entry}`, which is neither an IP address nor a CIDR"
                        ),
                    })
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SameSitePolicy {
    Lax,
    Strict,
    None,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// May hold credentials, hence secret.
    pub uri: SecretString,
    pub name: String,
    pub timeout_seconds: u64,
    /// The longest a database operation may run (`maxTimeMS` on reads); past it a 503.
    pub max_time_ms: u64,
    /// How often what no request needs any more is deleted (sessions, token and view records).
    pub sweep_seconds: u64,
}

impl DatabaseSettings {
    pub fn operation_limit(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.max_time_ms.max(1))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub access_token_secret: SecretString,
    #[serde(deserialize_with = "expiry")]
    pub access_token_expiry: Duration,
    pub refresh_token_secret: SecretString,
    #[serde(deserialize_with = "expiry")]
    pub refresh_token_expiry: Duration,
    pub refresh_reuse_grace_seconds: u64,
    pub public_reads: bool,
    pub session_recheck_seconds: u64,
    pub bcrypt_cost: u32,
    pub bcrypt_threads: usize,
    pub login_per_ip: Allowance,
    pub login_per_account: Allowance,
    pub register_per_ip: Allowance,
    pub refresh_per_ip: Allowance,
}

#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Allowance {
    pub burst: u32,
    pub refill_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MediaSettings {
    pub dir: PathBuf,
    pub upload_tmp_dir: PathBuf,
    pub image_max_bytes: u64,
    pub video_max_bytes: u64,
    pub document_max_bytes: u64,
    pub job_lease_seconds: u64,
    pub job_max_attempts: u32,
    pub job_backoff_seconds: u64,
    pub job_poll_seconds: u64,
    /// Whether this instance runs the media job worker.
    pub worker: bool,
    /// How long a signed link to a file of a video that is not public works.
    pub private_link_seconds: u64,
    /// The `ffmpeg` program (a name found in `PATH`, or a path; `ffprobe` is taken from the same
    /// place); empty: store videos unchecked, and require a thumbnail.
    pub ffmpeg: String,
    /// How long a resumable (tus) upload lives after its last piece arrived.
    pub resumable_expiry_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CloudinarySettings {
    pub url: SecretString,
    pub cloud_name: String,
    pub api_key: String,
    pub api_secret: SecretString,
    pub api_base: String,
    pub root_folder: String,
    pub signature_algorithm: SignatureAlgorithmSetting,
    pub chunk_threshold_bytes: u64,
    pub chunk_size_bytes: u64,
    pub timeout_seconds: u64,
    pub max_attempts: u32,
    /// Cloudinary's streaming profile for the HLS stream of every video; empty: none.
    pub streaming_profile: String,
    pub stream_poll_seconds: u64,
    pub stream_wait_minutes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureAlgorithmSetting {
    Sha1,
    Sha256,
}

impl CloudinarySettings {
    pub fn is_configured(&self) -> bool {
        !self.url.expose_secret().is_empty()
            || !self.cloud_name.is_empty()
            || !self.api_key.is_empty()
            || !self.api_secret.expose_secret().is_empty()
    }

    /// The store's configuration when Cloudinary is configured (`CLOUDINARY_URL` wins over the
    /// three separate variables), `None` when it is not, an error naming what is missing.
    pub fn store_config(&self) -> Result<Option<CloudinaryConfig>, SettingsError> {
        if !self.is_configured() {
            return Ok(None);
        }
        let url = self.url.expose_secret();
        let (cloud_name, api_key, api_secret) = if url.is_empty() {
            for (variable, value) in [
                ("CLOUDINARY_CLOUD_NAME", self.cloud_name.as_str()),
                ("CLOUDINARY_API_KEY", self.api_key.as_str()),
                ("CLOUDINARY_API_SECRET", self.api_secret.expose_secret()),
            ] {
                if value.is_empty() {
                    return Err(SettingsError::Refused {
                        variable,
                        problem: "is not set, but other Cloudinary settings are".into(),
                    });
                }
            }
            (
                self.cloud_name.clone(),
                self.api_key.clone(),
                self.api_secret.clone(),
            )
        } else {
            parse_cloudinary_url(url).ok_or(SettingsError::Refused {
                variable: "CLOUDINARY_URL",
                problem: "must look like cloudinary://<api_key>:<api_secret>@<cloud_name>".into(),
            })?
        };
        Ok(Some(CloudinaryConfig {
            cloud_name,
            api_key,
            api_secret,
            api_base: self.api_base.clone(),
            root_folder: self.root_folder.clone(),
            signature_algorithm: match self.signature_algorithm {
                SignatureAlgorithmSetting::Sha1 => SignatureAlgorithm::Sha1,
                SignatureAlgorithmSetting::Sha256 => SignatureAlgorithm::Sha256,
            },
            chunk_threshold: self.chunk_threshold_bytes,
            chunk_size: self.chunk_size_bytes.max(5 * 1024 * 1024),
            request_timeout: Duration::from_secs(self.timeout_seconds.max(1)),
            max_attempts: self.max_attempts.max(1),
            backoff: Duration::from_millis(500),
            streaming_profile: Some(self.streaming_profile.trim())
                .filter(|profile| !profile.is_empty())
                .map(str::to_owned),
        }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("APP_ENVIRONMENT must be `local` or `production`, not `{0}`")]
    UnknownProfile(String),
    #[error("invalid configuration: {0}")]
    Invalid(#[from] config::ConfigError),
    #[error("{variable} {problem}")]
    Refused {
        variable: &'static str,
        problem: String,
    },
}

/// An obviously weak secret: a short pattern repeated (`aaaa…`, `abcabc…`), or, by the frequency
/// of its characters, under 96 bits of entropy (32 random hex digits have about 115; 32 × `a`
/// has none). Not a strength meter: it catches what no generator would produce.
fn is_guessable(secret: &str) -> bool {
    let bytes = secret.as_bytes();
    let repeats = (1..=bytes.len() / 2).any(|period| {
        bytes
            .iter()
            .enumerate()
            .all(|(i, b)| *b == bytes[i % period])
    });
    let mut counts = std::collections::HashMap::new();
    for b in bytes {
        *counts.entry(b).or_insert(0usize) += 1;
    }
    let n = bytes.len() as f64;
    let bits: f64 = counts
        .values()
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2() * n
        })
        .sum();
    repeats || bits < 96.0
}

/// The original backend's variable names, and where each lands.
const LEGACY_VARIABLES: &[(&str, &str)] = &[
    ("PORT", "application.port"),
    ("PUBLIC_URL", "application.public_url"),
    ("COOKIE_SECURE", "application.cookie_secure"),
    ("COOKIE_SAME_SITE", "application.cookie_same_site"),
    ("MONGODB_URI", "database.uri"),
    ("DB_NAME", "database.name"),
    ("ACCESS_TOKEN_SECRET", "auth.access_token_secret"),
    ("ACCESS_TOKEN_EXPIRY", "auth.access_token_expiry"),
    ("REFRESH_TOKEN_SECRET", "auth.refresh_token_secret"),
    ("REFRESH_TOKEN_EXPIRY", "auth.refresh_token_expiry"),
    (
        "REFRESH_REUSE_GRACE_SECONDS",
        "auth.refresh_reuse_grace_seconds",
    ),
    ("MEDIA_DIR", "media.dir"),
    ("UPLOAD_TMP_DIR", "media.upload_tmp_dir"),
    ("CLOUDINARY_URL", "cloudinary.url"),
    ("CLOUDINARY_CLOUD_NAME", "cloudinary.cloud_name"),
    ("CLOUDINARY_API_KEY", "cloudinary.api_key"),
    ("CLOUDINARY_API_SECRET", "cloudinary.api_secret"),
];

impl Settings {
    /// Loads settings from the given environment (the process's, in `main`; a made-up one in tests).
    pub fn load(env: &HashMap<String, String>) -> Result<(Profile, Settings), SettingsError> {
        let profile = match env
            .get("APP_ENVIRONMENT")
            .map(|s| s.trim().to_lowercase())
            .as_deref()
        {
            None | Some("") | Some("local") => Profile::Local,
            Some("production") => Profile::Production,
            Some(other) => return Err(SettingsError::UnknownProfile(other.to_owned())),
        };
        let profile_file = match profile {
            Profile::Local => LOCAL,
            Profile::Production => PRODUCTION,
        };
        let mut builder = Config::builder()
            .add_source(File::from_str(BASE, FileFormat::Yaml))
            .add_source(File::from_str(profile_file, FileFormat::Yaml))
            .add_source(
                Environment::with_prefix("APP")
                    .prefix_separator("_")
                    .separator("__")
                    .try_parsing(true)
                    .source(Some(env.clone())),
            );
        for (variable, key) in LEGACY_VARIABLES {
            builder = builder.set_override_option(*key, env.get(*variable).cloned())?;
        }
        // Lists come comma-separated.
        for (variable, key) in [
            ("CORS_ORIGIN", "application.cors_origins"),
            (
                "APP_APPLICATION__TRUSTED_PROXIES",
                "application.trusted_proxies",
            ),
        ] {
            if let Some(value) = env.get(variable) {
                let list: Vec<String> = value
                    .split(',')
                    .map(|o| o.trim().to_owned())
                    .filter(|o| !o.is_empty())
                    .collect();
                builder = builder.set_override(key, list)?;
            }
        }
        let settings: Settings = builder.build()?.try_deserialize()?;
        settings.check(profile)?;
        Ok((profile, settings))
    }

    fn check(&self, profile: Profile) -> Result<(), SettingsError> {
        let secrets = [
            ("ACCESS_TOKEN_SECRET", &self.auth.access_token_secret),
            ("REFRESH_TOKEN_SECRET", &self.auth.refresh_token_secret),
        ];
        for (variable, secret) in secrets {
            let secret = secret.expose_secret();
            let problem = if secret.is_empty() {
                "is not set"
            } else if profile == Profile::Production && LOCAL.contains(secret) {
                "is still the development default"
            } else if profile == Profile::Production && secret.len() < 32 {
                "must be at least 32 characters long"
            } else if profile == Profile::Production && is_guessable(secret) {
                "is too easy to guess (a repetition, or too few different characters): use a random one, e.g. `openssl rand -base64 48`"
            } else {
                continue;
            };
            return Err(SettingsError::Refused {
                variable,
                problem: problem.into(),
            });
        }
        if self.auth.access_token_secret.expose_secret()
            == self.auth.refresh_token_secret.expose_secret()
        {
            return Err(SettingsError::Refused {
                variable: "REFRESH_TOKEN_SECRET",
                problem: "must differ from ACCESS_TOKEN_SECRET".into(),
            });
        }
        self.cloudinary.store_config()?;
        if !(4..=31).contains(&self.auth.bcrypt_cost) {
            return Err(SettingsError::Refused {
                variable: "APP_AUTH__BCRYPT_COST",
                problem: "must be between 4 and 31".into(),
            });
        }
        self.application.trusted_proxy_nets()?;
        for origin in &self.application.cors_origins {
            if origin != "*" && !is_origin(origin) {
                return Err(SettingsError::Refused {
                    variable: "CORS_ORIGIN",
                    problem: format!(
                        "has `{origin}`, which is not an origin such as https://app.example.com"
                    ),
                });
            }
        }
        Ok(())
    }
}

/// `scheme://host[:port]`, nothing after it: what a browser sends in `Origin`.
fn is_origin(origin: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https")
        && !rest.is_empty()
        && !rest.contains(['/', '?', '#', ' ', '*'])
}

/// Durations in the forms the original's `jsonwebtoken`/`ms` accepted: `15m`, `1d`, `10d`, `2h`,
/// `30s`, `1w`, `1 day`, or a bare number of seconds.
pub fn parse_duration(raw: &str) -> Option<Duration> {
    let raw = raw.trim();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    let number: u64 = number.parse().ok()?;
    let unit_seconds = match unit.trim().to_lowercase().as_str() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 604_800,
        _ => return None,
    };
    let seconds = number.checked_mul(unit_seconds)?;
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

fn expiry<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let raw = String::deserialize(deserializer)?;
    parse_duration(&raw).ok_or_else(|| {
        serde::de::Error::custom(format!("`{raw}` is not a duration such as 15m, 1d or 10d"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn durations_in_the_originals_forms() {
        assert_eq!(parse_duration("15m"), Some(Duration::from_secs(900)));
        assert_eq!(parse_duration("1d"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("10d"), Some(Duration::from_secs(864_000)));
        assert_eq!(parse_duration("2 hours"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration("3600"), Some(Duration::from_secs(3600)));
        for bad in ["", "d", "10x", "-5m", "0", "1.5h"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn local_runs_with_nothing_set() {
        let (profile, settings) = Settings::load(&env(&[])).unwrap();
        assert_eq!(profile, Profile::Local);
        assert_eq!(settings.application.port, 8000);
        assert_eq!(settings.database.name, "videotube");
        assert_eq!(settings.auth.access_token_expiry, Duration::from_secs(900));
        assert!(settings.cloudinary.store_config().unwrap().is_none());
    }

    #[test]
    fn original_variable_names_are_honoured() {
        let (_, settings) = Settings::load(&env(&[
            ("PORT", "9001"),
            ("MONGODB_URI", "mongodb://db.example:27017"),
            ("DB_NAME", "tube"),
            ("CORS_ORIGIN", "https://a.example, https://b.example"),
            ("ACCESS_TOKEN_EXPIRY", "1d"),
            ("REFRESH_TOKEN_EXPIRY", "10d"),
            ("MEDIA_DIR", "/srv/media"),
            ("CLOUDINARY_URL", "cloudinary://key:secret@demo"),
            ("APP_AUTH__BCRYPT_COST", "12"),
        ]))
        .unwrap();
        assert_eq!(settings.application.port, 9001);
        assert_eq!(
            settings.database.uri.expose_secret(),
            "mongodb://db.example:27017"
        );
        assert_eq!(settings.database.name, "tube");
        assert_eq!(
            settings.application.cors_origins,
            ["https://a.example", "https://b.example"]
        );
        assert_eq!(
            settings.auth.access_token_expiry,
            Duration::from_secs(86_400)
        );
        assert_eq!(settings.media.dir, PathBuf::from("/srv/media"));
        assert_eq!(settings.auth.bcrypt_cost, 12);
        let cloudinary = settings.cloudinary.store_config().unwrap().unwrap();
        assert_eq!(
            (cloudinary.cloud_name.as_str(), cloudinary.api_key.as_str()),
            ("demo", "key")
        );
    }

    fn refused_variable(pairs: &[(&str, &str)]) -> &'static str {
        match Settings::load(&env(pairs)) {
            Err(SettingsError::Refused { variable, .. }) => variable,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn production_refuses_missing_or_default_secrets() {
        let strong_a = "0dW8cJ3r+Qh1vKp5ZxT9mYb2LsNa7GfE4uRjIoPq";
        let strong_b = "c5f1e09a7b3d24e86f0a9c1b7d3e5f2a4c6b8d0e";
        for weak in [
            "a".repeat(32),
            "abc".repeat(12),
            "password".repeat(5),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab".to_owned(),
        ] {
            assert_eq!(
                refused_variable(&[
                    ("APP_ENVIRONMENT", "production"),
                    ("ACCESS_TOKEN_SECRET", &weak),
                    ("REFRESH_TOKEN_SECRET", strong_b)
                ]),
                "ACCESS_TOKEN_SECRET",
                "{weak}"
            );
        }
        let prod = ("APP_ENVIRONMENT", "production");
        assert_eq!(refused_variable(&[prod]), "ACCESS_TOKEN_SECRET");
        assert_eq!(
            refused_variable(&[prod, ("ACCESS_TOKEN_SECRET", strong_a)]),
            "REFRESH_TOKEN_SECRET"
        );
        assert_eq!(
            refused_variable(&[
                prod,
                (
                    "ACCESS_TOKEN_SECRET",
                    "local-development-access-secret-not-for-production"
                ),
                ("REFRESH_TOKEN_SECRET", strong_b),
            ]),
            "ACCESS_TOKEN_SECRET"
        );
        assert_eq!(
            refused_variable(&[
                prod,
                ("ACCESS_TOKEN_SECRET", "short"),
                ("REFRESH_TOKEN_SECRET", strong_b)
            ]),
            "ACCESS_TOKEN_SECRET"
        );
        let (profile, settings) = Settings::load(&env(&[
            prod,
            ("ACCESS_TOKEN_SECRET", strong_a),
            ("REFRESH_TOKEN_SECRET", strong_b),
        ]))
        .unwrap();
        assert_eq!(profile, Profile::Production);
        assert!(settings.application.cookie_secure);
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        assert_eq!(
            refused_variable(&[("CORS_ORIGIN", "example.com")]),
            "CORS_ORIGIN"
        );
        assert_eq!(
            refused_variable(&[("CORS_ORIGIN", "https://a.example/path")]),
            "CORS_ORIGIN"
        );
        assert!(matches!(
            Settings::load(&env(&[("ACCESS_TOKEN_EXPIRY", "soon")])),
            Err(SettingsError::Invalid(_))
        ));
        assert!(matches!(
            Settings::load(&env(&[("APP_ENVIRONMENT", "staging")])),
            Err(SettingsError::UnknownProfile(_))
        ));
    }
}

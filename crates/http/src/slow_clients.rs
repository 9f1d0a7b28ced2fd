//! Slow clients are cut off. Request heads have actix's `client_request_timeout`; bodies get this
//! guard, which fails the body stream when no byte arrives for `idle` or, after `grace`, when the
//! average rate falls below `min_bytes_per_second` (a slowloris trickle). The handler then answers
//! 408 and the connection closes, so a trickling client holds neither a worker nor a socket for
//! long. Nothing here limits how long a steady upload of a large video may take.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::HttpMessage;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

#[derive(Debug, Clone, Copy)]
pub struct BodyPolicy {
    pub idle: Duration,
    pub grace: Duration,
    pub min_bytes_per_second: u64,
}

/// The message bodies carry when the guard cuts them off; see `is_too_slow`.
const TOO_SLOW: &str = "the client sent its body too slowly";

/// Whether a body failed because the guard cut it off.
pub fn is_too_slow(err: &PayloadError) -> bool {
    matches!(err, PayloadError::Io(e) if e.kind() == io::ErrorKind::TimedOut && e.to_string() == TOO_SLOW)
}

pub async fn guard_bodies(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut req = req;
    let has_body = req.headers().contains_key(header::TRANSFER_ENCODING)
        || req
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length != "0");
    if let Some(policy) = req.app_data::<BodyPolicy>().copied().filter(|_| has_body) {
        let inner = req.take_payload();
        let guarded = GuardedBody::new(inner, policy);
        req.set_payload(Payload::Stream {
            payload: Box::pin(guarded),
        });
    }
    next.call(req).await
}

struct GuardedBody {
    inner: Payload,
    policy: BodyPolicy,
    started: Instant,
    received: u64,
    idle: Pin<Box<Sleep>>,
    done: bool,
}

impl GuardedBody {
    fn new(inner: Payload, policy: BodyPolicy) -> Self {
        Self {
            inner,
            policy,
            started: Instant::now(),
            received: 0,
            idle: Box::pin(tokio::time::sleep(policy.idle)),
            done: false,
        }
    }

    fn too_slow(&mut self) -> Poll<Option<Result<Bytes, PayloadError>>> {
        self.done = true;
        Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
            io::ErrorKind::TimedOut,
            TOO_SLOW,
        )))))
    }
}

impl Stream for GuardedBody {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        match Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                self.received += chunk.len() as u64;
                let now = Instant::now();
                let elapsed = now - self.started;
                if elapsed > self.policy.grace
                    && self.received < self.policy.min_bytes_per_second * elapsed.as_secs()
                {
                    return self.too_slow();
                }
                let idle = self.policy.idle;
                self.idle.as_mut().reset(now + idle);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(other) => {
                self.done = other.is_none();
                Poll::Ready(other)
            }
            Poll::Pending => match self.idle.as_mut().poll(cx) {
                Poll::Ready(()) => self.too_slow(),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

//! The envelope on the answers actix-http writes itself, before any request reaches the app: 400
//! for a request it cannot read (no or a bad `Host`, a URI too long for it, bytes that are not
//! HTTP), 431 for a head over its buffer, 408 when the head does not arrive in time. actix-http
//! writes those as a bare head (`content-length: 0`) and offers no hook, so each connection is
//! wrapped in `EnvelopedErrors`, which swaps such a head for one with the JSON envelope.
//!
//! A head is recognised only when one write is exactly it: a status line of those three, then
//! `content-length: 0`, `connection: close` and `date`, nothing else (no `content-type`: every
//! answer of the app has one). actix-http writes it alone, as the connection's last bytes. What
//! could look the same is the last piece of a response body that is byte for byte such a head,
//! which only a file made for it could be; then its own download would end differently. When an
//! error head follows another response in the same write (a client pipelining a bad request
//! behind a good one) it is left bare.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::http::StatusCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::api::error_body;
use crate::middleware::SECURITY_HEADERS;

/// A connection whose bare error heads from actix-http get the envelope.
pub struct EnvelopedErrors<T> {
    io: T,
    /// A replacement head and body, and how much of it is written.
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> EnvelopedErrors<T> {
    pub fn new(io: T) -> Self {
        EnvelopedErrors { io, pending: None }
    }
}

impl<T: AsyncWrite + Unpin> EnvelopedErrors<T> {
    /// Writes what is left of a replacement; ready once it is all written.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for EnvelopedErrors<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for EnvelopedErrors<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(replacement) = enveloped(buf) {
            // The head counts as written; the replacement goes out now and on the flush and
            // shutdown that follow it.
            this.pending = Some((replacement, 0));
            if let Poll::Ready(Err(err)) = this.poll_pending(cx) {
                return Poll::Ready(Err(err));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        Pin::new(&mut this.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.io).poll_shutdown(cx)
    }
}

/// The enveloped answer for `written`, when it is exactly one of actix-http's bare error heads.
fn enveloped(written: &[u8]) -> Option<Vec<u8>> {
    const LONGEST_BARE_HEAD: usize = 160;
    if written.len() > LONGEST_BARE_HEAD {
        return None;
    }
    let head = std::str::from_utf8(written)
        .ok()?
        .strip_suffix("\r\n\r\n")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let (version, rest) = status_line.split_once(' ')?;
    let code = rest.split(' ').next()?;
    let (status, message) = match (version, code) {
        ("HTTP/1.1" | "HTTP/1.0", "400") => (
            StatusCode::BAD_REQUEST,
            "Malformed request: no valid Host header, a URI too long, or not HTTP/1.x",
        ),
        ("HTTP/1.1" | "HTTP/1.0", "408") => (
            StatusCode::REQUEST_TIMEOUT,
            "The request head did not arrive in time",
        ),
        ("HTTP/1.1" | "HTTP/1.0", "431") => (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "The request head is too large",
        ),
        _ => return None,
    };
    let mut date = None;
    let (mut length_zero, mut closes) = (false, false);
    for line in lines {
        let (name, value) = line.split_once(": ")?;
        match name {
            "content-length" if value == "0" => length_zero = true,
            "connection" if value == "close" => closes = true,
            "date" => date = Some(value),
            _ => return None,
        }
    }
    if !(length_zero && closes) {
        return None;
    }
    let body = serde_json::to_vec(&error_body(status, message, &[])).ok()?;
    let mut answer = format!(
        "{status_line}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    for (name, value) in SECURITY_HEADERS {
        answer.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(date) = date {
        answer.push_str(&format!("date: {date}\r\n"));
    }
    answer.push_str("\r\n");
    let mut answer = answer.into_bytes();
    answer.extend_from_slice(&body);
    Some(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BARE_400: &[u8] = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\ndate: Sat, 28 Nov 2026 19:49:49 GMT\r\n\r\n";

    #[test]
    fn a_bare_error_head_gets_the_envelope() {
        let answer = String::from_utf8(enveloped(BARE_400).unwrap()).unwrap();
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(head.contains("content-type: application/json"));
        assert!(head.contains(&format!("content-length: {}", body.len())));
        assert!(head.contains("date: Sat, 28 Nov 2026 19:49:49 GMT"));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["statusCode"], 400);
        assert_eq!(body["success"], false);
    }

    #[test]
    fn anything_else_is_left_alone() {
        let with_type = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n";
        let kept_alive = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: x\r\n\r\n";
        let other_status =
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        let behind_a_response = [
            b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n".as_slice(),
            BARE_400,
        ]
        .concat();
        for written in [
            with_type.as_slice(),
            kept_alive,
            other_status,
            &behind_a_response,
            &BARE_400[..BARE_400.len() - 2],
        ] {
            assert_eq!(
                enveloped(written),
                None,
                "{}",
                String::from_utf8_lossy(written)
            );
        }
    }
}

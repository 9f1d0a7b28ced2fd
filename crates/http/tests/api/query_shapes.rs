//! Every command the server sends to the database passes the tests' database proxy; this reads
//! them off the wire (MongoDB's OP_MSG frames), reduces each query to its shape and, when the
//! proxy goes away, fails the test if a shape is not served by one of the declared indexes
//! (`videotube_infra::mongo::indexes`). `VIDEOTUBE_SHAPES_OUT=<file>` also appends every shape
//! and its index to that file (the README's "Indexes" table is made from it).

use std::collections::BTreeSet;
use std::io::Write;
use std::sync::{Arc, Mutex};

use videotube_infra::mongo::bson::{Bson, Document};
use videotube_infra::mongo::{QueryShape, INDEXES};

const OP_MSG: i32 = 2013;
const CHECKSUM_PRESENT: u32 = 1;

/// The shapes seen on one proxy, shared by its connections.
#[derive(Clone, Default)]
pub struct ShapeLog(Arc<Mutex<BTreeSet<QueryShape>>>);

impl ShapeLog {
    fn record(&self, command: &Document) {
        let shapes = QueryShape::of(command);
        if !shapes.is_empty() {
            self.0.lock().unwrap().extend(shapes);
        }
    }

    /// Panics (failing the test) when a recorded query is served by no declared index.
    pub fn check(&self) {
        let shapes = std::mem::take(&mut *self.0.lock().unwrap());
        if let Ok(path) = std::env::var("VIDEOTUBE_SHAPES_OUT") {
            let mut out = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            let lines: String = shapes
                .iter()
                .map(|s| {
                    format!(
                        "{}\t{}\n",
                        describe(s),
                        s.served_by(INDEXES).unwrap_or("NONE")
                    )
                })
                .collect();
            out.write_all(lines.as_bytes()).unwrap();
        }
        let unserved: Vec<String> = shapes
            .iter()
            .filter(|s| s.served_by(INDEXES).is_none())
            .map(describe)
            .collect();
        assert!(
            unserved.is_empty(),
            "queries no declared index serves (see videotube_infra::mongo::indexes):\n{}",
            unserved.join("\n")
        );
    }
}

fn describe(shape: &QueryShape) -> String {
    let join = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(", ");
    let sort: Vec<String> = shape
        .sort
        .iter()
        .map(|(field, direction)| {
            format!("{field} {}", if *direction < 0 { "desc" } else { "asc" })
        })
        .collect();
    format!(
        "{}\tequality: {}\trange: {}\tsort: {}\tfiltered: {}",
        shape.collection,
        join(&shape.equality),
        join(&shape.range),
        sort.join(", "),
        join(&shape.residual)
    )
}

/// Reassembles the client's side of one connection into commands.
pub struct WireReader {
    buffer: Vec<u8>,
    log: ShapeLog,
}

impl WireReader {
    pub fn new(log: ShapeLog) -> Self {
        Self {
            buffer: Vec::new(),
            log,
        }
    }

    pub fn feed(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
        while self.buffer.len() >= 4 {
            let length = i32_at(&self.buffer, 0) as usize;
            if self.buffer.len() < length {
                return;
            }
            let message: Vec<u8> = self.buffer.drain(..length).collect();
            if let Some(command) = command_of(&message) {
                self.log.record(&command);
            }
        }
    }
}

fn i32_at(bytes: &[u8], at: usize) -> i32 {
    i32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The command of an OP_MSG: its body document, with each document sequence (the driver sends
/// `updates`, `deletes` and `documents` so) put back in as an array.
fn command_of(message: &[u8]) -> Option<Document> {
    if message.len() < 21 || i32_at(message, 12) != OP_MSG {
        return None;
    }
    let flags = u32::from_le_bytes(message[16..20].try_into().unwrap());
    let end = message.len() - if flags & CHECKSUM_PRESENT != 0 { 4 } else { 0 };
    let mut at = 20;
    let mut body = None;
    let mut sequences = Vec::new();
    while at < end {
        let kind = message[at];
        at += 1;
        let size = i32_at(message, at) as usize;
        match kind {
            0 => body = Some(Document::from_reader(&message[at..at + size]).ok()?),
            1 => {
                let section = &message[at + 4..at + size];
                let name_end = section.iter().position(|b| *b == 0)?;
                let name = String::from_utf8_lossy(&section[..name_end]).into_owned();
                let mut docs = Vec::new();
                let mut doc_at = name_end + 1;
                while doc_at < section.len() {
                    let doc_size = i32_at(section, doc_at) as usize;
                    docs.push(Bson::Document(
                        Document::from_reader(&section[doc_at..doc_at + doc_size]).ok()?,
                    ));
                    doc_at += doc_size;
                }
                sequences.push((name, docs));
            }
            _ => return None,
        }
        at += size;
    }
    let mut body = body?;
    for (name, docs) in sequences {
        body.insert(name, docs);
    }
    Some(body)
}

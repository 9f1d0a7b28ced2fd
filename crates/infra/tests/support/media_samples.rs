// Tiny but well-formed video containers with a known duration, for tests that need real
// MP4, QuickTime and WebM headers. Included (`include!`/`#[path]`) where needed.

fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// `ftyp` + `moov`/`mvhd` with the given brand and a duration in milliseconds.
fn iso_media(brand: &[u8; 4], duration_ms: u32) -> Vec<u8> {
    iso_media_timed(brand, 1000, duration_ms)
}

/// An MP4 whose `mvhd` says `duration` units of `1/timescale` s, whatever those are.
pub fn mp4_timed(timescale: u32, duration: u32) -> Vec<u8> {
    iso_media_timed(b"isom", timescale, duration)
}

fn iso_media_timed(brand: &[u8; 4], timescale: u32, duration: u32) -> Vec<u8> {
    let mut ftyp = brand.to_vec();
    ftyp.extend_from_slice(&0x200u32.to_be_bytes());
    ftyp.extend_from_slice(brand);
    ftyp.extend_from_slice(b"mp41");
    let mut mvhd = vec![0u8; 4]; // version 0, flags
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // creation time
    mvhd.extend_from_slice(&0u32.to_be_bytes()); // modification time
    mvhd.extend_from_slice(&timescale.to_be_bytes());
    mvhd.extend_from_slice(&duration.to_be_bytes());
    mvhd.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate 1.0
    mvhd.extend_from_slice(&0x0100u16.to_be_bytes()); // volume 1.0
    mvhd.extend_from_slice(&[0u8; 10]); // reserved
    for m in [0x0001_0000u32, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000] {
        mvhd.extend_from_slice(&m.to_be_bytes()); // unity matrix
    }
    mvhd.extend_from_slice(&[0u8; 24]); // pre-defined
    mvhd.extend_from_slice(&2u32.to_be_bytes()); // next track id
    let mut out = mp4_box(b"ftyp", &ftyp);
    out.extend(mp4_box(b"moov", &mp4_box(b"mvhd", &mvhd)));
    out
}

pub fn mp4(duration_ms: u32) -> Vec<u8> {
    iso_media(b"isom", duration_ms)
}

pub fn quicktime(duration_ms: u32) -> Vec<u8> {
    iso_media(b"qt  ", duration_ms)
}

fn ebml(id: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    // An 8-byte size: 0x01 marker then 7 bytes of length.
    out.push(0x01);
    out.extend_from_slice(&(body.len() as u64).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

/// An EBML header (doctype `webm`) and a Segment whose Info gives the duration.
pub fn webm(duration_ms: f64) -> Vec<u8> {
    let mut header = ebml(&[0x42, 0x86], &[1]); // EBMLVersion
    header.extend(ebml(&[0x42, 0xF7], &[1])); // EBMLReadVersion
    header.extend(ebml(&[0x42, 0xF2], &[4])); // EBMLMaxIDLength
    header.extend(ebml(&[0x42, 0xF3], &[8])); // EBMLMaxSizeLength
    header.extend(ebml(&[0x42, 0x82], b"webm")); // DocType
    header.extend(ebml(&[0x42, 0x87], &[4])); // DocTypeVersion
    header.extend(ebml(&[0x42, 0x85], &[2])); // DocTypeReadVersion
    let mut info = ebml(&[0x2A, 0xD7, 0xB1], &1_000_000u32.to_be_bytes()); // TimecodeScale: 1 ms
    info.extend(ebml(&[0x44, 0x89], &duration_ms.to_be_bytes())); // Duration (float)
    info.extend(ebml(&[0x4D, 0x80], b"videotube tests")); // MuxingApp
    info.extend(ebml(&[0x57, 0x41], b"videotube tests")); // WritingApp
    let segment = ebml(&[0x15, 0x49, 0xA9, 0x66], &info);
    let mut out = ebml(&[0x1A, 0x45, 0xDF, 0xA3], &header);
    out.extend(ebml(&[0x18, 0x53, 0x80, 0x67], &segment));
    out
}

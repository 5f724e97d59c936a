//! How revisions are stored: a snapshot is the whole file, a delta the previous
//! revision's lines it keeps plus the bytes it adds; both deflated.
//!
//! A delta is a run of operations, each a LEB128 number `length << 1 | kind`:
//! kind 0 copies `length` bytes of the base from the offset that follows (another
//! number), kind 1 inserts the `length` bytes that follow. Lines are the unit of
//! comparison (saves change a few lines of a text file), bytes the unit of copying, so
//! any file round-trips exactly, line endings and all.

use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};

/// A diff taking longer than this (a file rewritten from end to end) settles for a
/// coarser delta; the bytes are exact either way.
const DIFF_BUDGET: Duration = Duration::from_millis(500);

const COPY: u64 = 0;
const INSERT: u64 = 1;

#[derive(Debug, PartialEq, Eq)]
pub enum DeltaError {
    /// The stored bytes do not decode: truncated, or not what was written.
    Corrupt(&'static str),
    /// Inflating would pass the given limit.
    TooLarge,
}

/// `bytes` deflated.
pub fn pack(bytes: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec(bytes, 6)
}

/// What [`pack`] made, refusing to grow beyond `limit` bytes.
pub fn unpack(packed: &[u8], limit: usize) -> Result<Vec<u8>, DeltaError> {
    miniz_oxide::inflate::decompress_to_vec_with_limit(packed, limit).map_err(|err| {
        match err.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => DeltaError::TooLarge,
            _ => DeltaError::Corrupt("the stored bytes do not inflate"),
        }
    })
}

/// The operations that turn `base` into `target`, not yet packed.
pub fn encode(base: &[u8], target: &[u8]) -> Vec<u8> {
    let old_lines = lines(base);
    let new_lines = lines(target);
    let old_offsets = offsets(&old_lines);
    let new_offsets = offsets(&new_lines);
    let deadline = Instant::now() + DIFF_BUDGET;
    let ops =
        capture_diff_slices_deadline(Algorithm::Myers, &old_lines, &new_lines, Some(deadline));
    let mut out = Vec::new();
    for op in ops {
        match op {
            DiffOp::Equal {
                old_index,
                new_index: _,
                len,
            } => {
                let start = old_offsets[old_index];
                let end = old_offsets[old_index + len];
                push_number(&mut out, ((end - start) as u64) << 1 | COPY);
                push_number(&mut out, start as u64);
            }
            DiffOp::Delete { .. } => {}
            DiffOp::Insert {
                new_index, new_len, ..
            }
            | DiffOp::Replace {
                new_index, new_len, ..
            } => {
                let bytes = &target[new_offsets[new_index]..new_offsets[new_index + new_len]];
                push_number(&mut out, (bytes.len() as u64) << 1 | INSERT);
                out.extend_from_slice(bytes);
            }
        }
    }
    out
}

/// `base` with `delta` applied, refusing results beyond `limit` bytes.
pub fn apply(base: &[u8], delta: &[u8], limit: usize) -> Result<Vec<u8>, DeltaError> {
    let mut out = Vec::new();
    let mut rest = delta;
    while !rest.is_empty() {
        let head = take_number(&mut rest)?;
        let length = usize::try_from(head >> 1).map_err(|_| DeltaError::Corrupt("a length"))?;
        if out.len().saturating_add(length) > limit {
            return Err(DeltaError::TooLarge);
        }
        if head & 1 == COPY {
            let start = usize::try_from(take_number(&mut rest)?)
                .map_err(|_| DeltaError::Corrupt("an offset"))?;
            let copied = start
                .checked_add(length)
                .and_then(|end| base.get(start..end))
                .ok_or(DeltaError::Corrupt("a copy reaches past its base"))?;
            out.extend_from_slice(copied);
        } else {
            if rest.len() < length {
                return Err(DeltaError::Corrupt("an insert is cut short"));
            }
            let (inserted, after) = rest.split_at(length);
            out.extend_from_slice(inserted);
            rest = after;
        }
    }
    Ok(out)
}

/// Lines with their endings; the last may have none.
fn lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|byte| *byte == b'\n').collect()
}

/// Where each line starts, and the end of the last.
fn offsets(lines: &[&[u8]]) -> Vec<usize> {
    let mut offsets = Vec::with_capacity(lines.len() + 1);
    let mut at = 0;
    offsets.push(0);
    for line in lines {
        at += line.len();
        offsets.push(at);
    }
    offsets
}

fn push_number(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn take_number(rest: &mut &[u8]) -> Result<u64, DeltaError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, after) = rest
            .split_first()
            .ok_or(DeltaError::Corrupt("a number is cut short"))?;
        *rest = after;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(DeltaError::Corrupt("a number is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(base: &[u8], target: &[u8]) -> usize {
        let delta = encode(base, target);
        assert_eq!(apply(base, &delta, usize::MAX).unwrap(), target);
        delta.len()
    }

    #[test]
    fn any_pair_of_files_round_trips() {
        round_trip(b"", b"");
        round_trip(b"", b"new\n");
        round_trip(b"old\n", b"");
        round_trip(b"a\nb\nc", b"a\nB\nc");
        round_trip(b"no newline at all", b"no newline at all, still");
        round_trip(b"crlf\r\nlines\r\n", b"crlf\r\nchanged\r\nlines\r\n");
        round_trip(&[0, 159, 146, 150, b'\n', 255], &[255, b'\n', 0, 159]);
    }

    #[test]
    fn a_small_edit_to_a_large_file_stores_a_small_delta() {
        let base: String = (0..20_000)
            .map(|n| format!("line {n} of the file\n"))
            .collect();
        let target = base.replacen("line 10000 of", "line ten thousand of", 1);
        let size = round_trip(base.as_bytes(), target.as_bytes());
        assert!(size < 100, "a one-line edit took {size} bytes");
    }

    #[test]
    fn damaged_deltas_never_give_back_the_saved_bytes() {
        // A cut delta fails, or gives other bytes, which the stored hash then catches.
        let delta = encode(b"one\ntwo\n", b"one\nthree\n");
        for cut in 0..delta.len() {
            let result = apply(b"one\ntwo\n", &delta[..cut], usize::MAX);
            assert_ne!(
                result.ok().as_deref(),
                Some(&b"one\nthree\n"[..]),
                "cut at {cut}"
            );
        }
        // A copy past the end of its base.
        let mut hostile = Vec::new();
        push_number(&mut hostile, 100 << 1 | COPY);
        push_number(&mut hostile, 0);
        assert!(matches!(
            apply(b"short", &hostile, usize::MAX),
            Err(DeltaError::Corrupt(_))
        ));
        // A result beyond the limit.
        let mut huge = Vec::new();
        push_number(&mut huge, 5 << 1 | COPY);
        push_number(&mut huge, 0);
        assert_eq!(apply(b"bytes", &huge, 4), Err(DeltaError::TooLarge));
    }

    #[test]
    fn packing_refuses_to_inflate_past_its_limit() {
        let packed = pack(&vec![b'a'; 1 << 20]);
        assert!(packed.len() < 10_000);
        assert_eq!(unpack(&packed, 1 << 10), Err(DeltaError::TooLarge));
        assert_eq!(unpack(&packed, 1 << 20).unwrap().len(), 1 << 20);
        assert!(matches!(
            unpack(b"not deflate at all", 1 << 20),
            Err(DeltaError::Corrupt(_))
        ));
    }
}

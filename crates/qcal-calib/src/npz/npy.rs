//! A small `.npy` (numpy array file, format versions 1.0-3.0) reader and writer.
//!
//! Supported dtypes: little-endian `<f4`, `<f8`, `<i4`, `<i8` and unicode strings `<U{n}`
//! (UTF-32LE, NUL-padded); C order only. Anything else is a clear error naming the array.

use crate::error::{CalibError, Result};

const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The data of one array, typed by its numpy dtype.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `<f4`
    F32(Vec<f32>),
    /// `<f8`
    F64(Vec<f64>),
    /// `<i4` or `<i8`, widened to i64.
    I64(Vec<i64>),
    /// `<U{n}` strings.
    Str(Vec<String>),
}

/// One array: its shape (C order) and data.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// Shape, outermost first; `[]` for a scalar.
    pub shape: Vec<usize>,
    /// Row-major data of `shape.iter().product()` elements.
    pub data: NpyData,
}

fn err(key: &str, msg: impl std::fmt::Display) -> CalibError {
    CalibError::Npz(format!("array `{key}`: {msg}"))
}

/// Parses the bytes of one `.npy` member named `key` (used in error messages).
pub fn parse(key: &str, bytes: &[u8]) -> Result<NpyArray> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err(err(key, "not a .npy array (bad magic)"));
    }
    let major = bytes[6];
    let (hlen, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(err(key, format!("unsupported .npy version {major}"))),
    };
    let header = start
        .checked_add(hlen)
        .and_then(|end| bytes.get(start..end))
        .ok_or_else(|| err(key, "truncated header"))?;
    let header = std::str::from_utf8(header).map_err(|_| err(key, "header is not text"))?;
    let descr = dict_value(header, "descr").ok_or_else(|| err(key, "header lacks 'descr'"))?;
    let fortran = dict_value(header, "fortran_order").unwrap_or("False");
    if fortran.trim() != "False" {
        return Err(err(
            key,
            "Fortran-order arrays are not supported (save in C order)",
        ));
    }
    let shape = parse_shape(dict_value(header, "shape").ok_or_else(|| err(key, "no 'shape'"))?)
        .ok_or_else(|| err(key, "malformed 'shape'"))?;
    let count = shape
        .iter()
        .try_fold(1usize, |n, &d| n.checked_mul(d))
        .ok_or_else(|| err(key, format!("shape {shape:?} has too many elements")))?;
    let body = &bytes[start + hlen..];
    let data = decode(
        key,
        descr.trim().trim_matches(|c| c == '\'' || c == '"'),
        body,
        count,
    )?;
    Ok(NpyArray { shape, data })
}

/// Finds `'key': value` in a Python dict literal and returns the raw value text.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("'{key}':");
    let at = header.find(&pat)? + pat.len();
    let rest = header[at..].trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}'])?
    };
    Some(&rest[..end])
}

fn parse_shape(text: &str) -> Option<Vec<usize>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse().ok())
        .collect()
}

/// Most items of a zero-width string array (`<U0`), whose size the data cannot bound.
const MAX_EMPTY_STRINGS: usize = 1 << 20;

fn decode(key: &str, descr: &str, body: &[u8], count: usize) -> Result<NpyData> {
    let need = |width: usize| -> Result<&[u8]> {
        count
            .checked_mul(width)
            .and_then(|n| body.get(..n))
            .ok_or_else(|| {
                err(
                    key,
                    format!("data truncated: {count} items of {width} bytes"),
                )
            })
    };
    let chunks = |width: usize| need(width).map(|b| b.chunks_exact(width));
    Ok(match descr {
        "<f4" => NpyData::F32(
            chunks(4)?
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        "<f8" => NpyData::F64(chunks(8)?.map(le_f64).collect()),
        "<i8" => NpyData::I64(chunks(8)?.map(|c| le_f64_bits(c) as i64).collect()),
        "<i4" => NpyData::I64(
            chunks(4)?
                .map(|c| i64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])))
                .collect(),
        ),
        d if d.starts_with("<U") => {
            let width: usize = d[2..]
                .parse()
                .ok()
                .filter(|w: &usize| w.checked_mul(4).is_some())
                .ok_or_else(|| err(key, format!("bad dtype {d}")))?;
            let items = need(4 * width)?;
            let mut out = Vec::with_capacity(count.min(items.len()));
            for item in items.chunks_exact(4 * width.max(1)) {
                out.push(decode_utf32(key, item)?);
            }
            if width == 0 {
                // Zero-width strings take no bytes, so the count is bounded here instead.
                if count > MAX_EMPTY_STRINGS {
                    return Err(err(key, format!("{count} empty strings")));
                }
                out = vec![String::new(); count];
            }
            NpyData::Str(out)
        }
        d => {
            return Err(err(
                key,
                format!("unsupported dtype {d} (expected <f4, <f8, <i4, <i8 or <U..)"),
            ));
        }
    })
}

fn le_f64_bits(c: &[u8]) -> u64 {
    u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

fn le_f64(c: &[u8]) -> f64 {
    f64::from_bits(le_f64_bits(c))
}

fn decode_utf32(key: &str, item: &[u8]) -> Result<String> {
    let mut s = String::new();
    for c in item.chunks_exact(4) {
        let code = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        if code == 0 {
            break;
        }
        s.push(char::from_u32(code).ok_or_else(|| err(key, "invalid unicode code point"))?);
    }
    Ok(s)
}

/// Serialises an array as a version-1.0 `.npy` (header padded to a multiple of 64 bytes).
pub fn write(array: &NpyArray) -> Vec<u8> {
    let (descr, body) = match &array.data {
        NpyData::F32(v) => (
            "<f4".to_string(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        NpyData::F64(v) => (
            "<f8".to_string(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        NpyData::I64(v) => (
            "<i8".to_string(),
            v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        ),
        NpyData::Str(v) => encode_strings(v),
    };
    let shape = match array.shape.as_slice() {
        [one] => format!("({one},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let unpadded = MAGIC.len() + 4 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + body.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[1, 0]);
    // Header length fits in u16: it is a short dict literal plus < 64 bytes of padding.
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(&body);
    out
}

fn encode_strings(v: &[String]) -> (String, Vec<u8>) {
    let width = v
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0)
        .max(1);
    let mut body = Vec::with_capacity(v.len() * width * 4);
    for s in v {
        let n = s.chars().count();
        for c in s.chars() {
            body.extend_from_slice(&(c as u32).to_le_bytes());
        }
        body.extend(std::iter::repeat_n(0u8, (width - n) * 4));
    }
    (format!("<U{width}"), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_dtype() {
        let cases = [
            NpyArray {
                shape: vec![2, 3],
                data: NpyData::F32(vec![1.0, -2.5, 3.0, 0.0, 1e-30, 7.0]),
            },
            NpyArray {
                shape: vec![2],
                data: NpyData::F64(vec![0.1, f64::MAX]),
            },
            NpyArray {
                shape: vec![3],
                data: NpyData::I64(vec![0, -1, i64::MAX]),
            },
            NpyArray {
                shape: vec![3],
                data: NpyData::Str(vec!["positive".into(), "négatif".into(), "".into()]),
            },
        ];
        for a in cases {
            let bytes = write(&a);
            assert_eq!((bytes.len() - a_len(&a)) % 64, 0);
            assert_eq!(parse("x", &bytes).unwrap(), a);
        }
    }

    fn a_len(a: &NpyArray) -> usize {
        match &a.data {
            NpyData::F32(v) => v.len() * 4,
            NpyData::F64(v) => v.len() * 8,
            NpyData::I64(v) => v.len() * 8,
            NpyData::Str(v) => v.len() * 4 * v.iter().map(|s| s.chars().count()).max().unwrap_or(1),
        }
    }

    #[test]
    fn rejects_fortran_and_unknown_dtypes() {
        let a = NpyArray {
            shape: vec![1],
            data: NpyData::F64(vec![1.0]),
        };
        let good = write(&a);
        let swap = |from: &str, to: &str| {
            let at = good
                .windows(from.len())
                .position(|w| w == from.as_bytes())
                .unwrap();
            let mut b = good.clone();
            b[at..at + to.len()].copy_from_slice(to.as_bytes());
            b
        };
        let e = parse("probs", &swap("'<f8'", "'>f8'"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("probs") && e.contains(">f8"), "{e}");
        let e = parse("p", &swap("False", "True ")).unwrap_err().to_string();
        assert!(e.contains("Fortran"), "{e}");
        assert!(parse("p", b"garbage").is_err());
    }
}

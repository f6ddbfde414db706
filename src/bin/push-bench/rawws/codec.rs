//! RFC 6455 framing for the lean client: parsing a header in place, masking, encoding.
//!
//! Kept apart from the socket code so the byte rules can be unit-tested without a server.

use super::MAX_FRAME;

/// What the start of the read buffer holds.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Header {
    /// Not a whole frame yet; `need` bytes would hold at least what is known of it.
    Incomplete { need: usize },
    Complete {
        fin: bool,
        opcode: u8,
        header_len: usize,
        len: usize,
        mask: Option<[u8; 4]>,
    },
}

pub(super) fn parse_header(avail: &[u8]) -> Result<Header, String> {
    if avail.len() < 2 {
        return Ok(Header::Incomplete { need: 2 });
    }
    let fin = avail[0] & 0x80 != 0;
    let opcode = avail[0] & 0x0f;
    let masked = avail[1] & 0x80 != 0;
    let (len, mut header_len) = match avail[1] & 0x7f {
        126 => {
            if avail.len() < 4 {
                return Ok(Header::Incomplete { need: 4 });
            }
            (u64::from(u16::from_be_bytes([avail[2], avail[3]])), 4)
        }
        127 => {
            if avail.len() < 10 {
                return Ok(Header::Incomplete { need: 10 });
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&avail[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        n => (u64::from(n), 2),
    };
    if len > MAX_FRAME as u64 {
        return Err(format!("frame of {len} bytes"));
    }
    let len = len as usize;
    let mask = if masked {
        // Servers must not mask; unmask anyway rather than misread.
        if avail.len() < header_len + 4 {
            return Ok(Header::Incomplete { need: header_len + 4 });
        }
        let mut m = [0u8; 4];
        m.copy_from_slice(&avail[header_len..header_len + 4]);
        header_len += 4;
        Some(m)
    } else {
        None
    };
    if avail.len() < header_len + len {
        return Ok(Header::Incomplete {
            need: header_len + len,
        });
    }
    Ok(Header::Complete {
        fin,
        opcode,
        header_len,
        len,
        mask,
    })
}

pub(super) fn apply_mask(bytes: &mut [u8], mask: [u8; 4]) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b ^= mask[i % 4];
    }
}

/// One final frame with `opcode`, masked with `mask`.
pub(super) fn encode_frame(opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 14);
    frame.push(0x80 | opcode);
    match payload.len() {
        n if n < 126 => frame.push(0x80 | n as u8),
        n if n <= 0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    let start = frame.len();
    frame.extend_from_slice(payload);
    apply_mask(&mut frame[start..], mask);
    frame
}

/// `code reason` of a close frame's payload.
pub fn close_reason(payload: &[u8]) -> String {
    if payload.len() >= 2 {
        let code = u16::from_be_bytes([payload[0], payload[1]]);
        format!("close {code} {}", String::from_utf8_lossy(&payload[2..]))
    } else {
        "close without code".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rawws::{OP_BINARY, OP_TEXT};

    fn complete(bytes: &[u8]) -> (bool, u8, Vec<u8>) {
        match parse_header(bytes).unwrap() {
            Header::Complete {
                fin,
                opcode,
                header_len,
                len,
                mask,
            } => {
                let mut p = bytes[header_len..header_len + len].to_vec();
                if let Some(m) = mask {
                    apply_mask(&mut p, m);
                }
                (fin, opcode, p)
            }
            other => panic!("incomplete: {other:?}"),
        }
    }

    #[test]
    fn an_unmasked_server_text_frame_parses() {
        let mut f = vec![0x81, 5];
        f.extend_from_slice(b"hello");
        assert_eq!(complete(&f), (true, OP_TEXT, b"hello".to_vec()));
    }

    #[test]
    fn partial_frames_say_how_much_they_need() {
        assert_eq!(parse_header(&[0x81]).unwrap(), Header::Incomplete { need: 2 });
        assert_eq!(
            parse_header(&[0x81, 5, b'h']).unwrap(),
            Header::Incomplete { need: 7 }
        );
        assert_eq!(
            parse_header(&[0x81, 126, 1]).unwrap(),
            Header::Incomplete { need: 4 }
        );
        assert_eq!(
            parse_header(&[0x81, 127, 0, 0]).unwrap(),
            Header::Incomplete { need: 10 }
        );
        assert_eq!(
            parse_header(&[0x81, 126, 1, 0]).unwrap(),
            Header::Incomplete { need: 260 }
        );
    }

    #[test]
    fn extended_lengths_parse() {
        let payload = vec![b'x'; 300];
        let mut f = vec![0x81, 126, 1, 44];
        f.extend_from_slice(&payload);
        assert_eq!(complete(&f).2.len(), 300);
        let payload = vec![b'y'; 70_000];
        let mut f = vec![0x82, 127];
        f.extend_from_slice(&70_000u64.to_be_bytes());
        f.extend_from_slice(&payload);
        assert_eq!(complete(&f), (true, OP_BINARY, payload));
    }

    #[test]
    fn oversized_frames_are_errors() {
        let mut f = vec![0x81, 127];
        f.extend_from_slice(&(MAX_FRAME as u64 + 1).to_be_bytes());
        assert!(parse_header(&f).is_err());
    }

    #[test]
    fn client_frames_are_masked_and_round_trip() {
        for len in [0usize, 5, 125, 126, 65_535, 65_536] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let f = encode_frame(OP_TEXT, &payload, [1, 2, 3, 4]);
            assert_ne!(f[1] & 0x80, 0, "mask bit");
            assert_eq!(complete(&f), (true, OP_TEXT, payload));
        }
    }

    #[test]
    fn close_reasons_carry_the_code() {
        let mut p = 4100u16.to_be_bytes().to_vec();
        p.extend_from_slice(b"too slow");
        assert_eq!(close_reason(&p), "close 4100 too slow");
        assert_eq!(close_reason(&[]), "close without code");
    }
}

//! RFC 6455 conformance, case by case after the Autobahn|Testsuite fuzzing client (sections 1–7
//! and 9; its ids are in the comments), over raw frames. The server speaks Pusher JSON, not echo:
//! a text message is shown to arrive whole by `pusher:ping` getting `pusher:pong`, and binary
//! messages get a `pusher:error` (the connection stays open). The results table is in
//! bench/notes.md, "RFC 6455 conformance (raw-frame cases)".

mod common;
mod raw_ws;

use common::{start_server, KEY};
use raw_ws::*;
use webman_push::server::PushServer;

async fn open() -> (PushServer, RawWs) {
    let server = start_server(serde_json::json!({}));
    let ws = RawWs::open(server.websocket_addr(), KEY).await;
    (server, ws)
}

/// Sends `bytes` on a fresh connection and returns the close code the server answers with.
async fn close_code_for(bytes: &[u8]) -> u16 {
    let (_server, mut ws) = open().await;
    ws.send(bytes).await;
    ws.close_code().await
}

async fn pong_for_text_of(len: usize) {
    let (_server, mut ws) = open().await;
    ws.send_text(&pusher_ping(len)).await;
    assert_eq!(ws.next_text().await, PUSHER_PONG);
}

// 1.x framing

#[tokio::test]
async fn text_with_a_7_bit_length_of_125_arrives() {
    pong_for_text_of(125).await;
}

#[tokio::test]
async fn text_with_a_16_bit_length_of_126_arrives() {
    pong_for_text_of(126).await;
}

#[tokio::test]
async fn text_with_a_16_bit_length_of_65535_arrives() {
    pong_for_text_of(65535).await;
}

#[tokio::test]
async fn text_with_a_64_bit_length_of_65536_arrives() {
    pong_for_text_of(65536).await;
}

#[tokio::test]
async fn an_empty_text_message_gets_a_pusher_error() {
    let (_server, mut ws) = open().await;
    ws.send(&whole(TEXT, b"")).await;
    assert!(ws.next_text().await.contains("pusher:error"));
    ws.still_works().await;
}

#[tokio::test]
async fn a_frame_written_in_997_byte_chops_arrives() {
    let (_server, mut ws) = open().await;
    ws.send_in_chops(&whole(TEXT, pusher_ping(65535).as_bytes()), 997)
        .await;
    assert_eq!(ws.next_text().await, PUSHER_PONG);
}

#[tokio::test]
async fn a_binary_message_gets_a_pusher_error_and_the_connection_stays() {
    let (_server, mut ws) = open().await;
    ws.send(&whole(BINARY, &[0xfe; 300])).await;
    assert!(ws.next_text().await.contains("Binary frames are not supported"));
    ws.still_works().await;
}

// 2.x pings and pongs

#[tokio::test]
async fn a_ping_without_payload_gets_an_empty_pong() {
    let (_server, mut ws) = open().await;
    ws.send(&whole(PING, b"")).await;
    let pong = ws.next_frame().await.unwrap();
    assert_eq!((pong.opcode, pong.payload), (PONG, vec![]));
}

#[tokio::test]
async fn a_ping_of_125_bytes_gets_a_pong_with_the_same_payload() {
    let (_server, mut ws) = open().await;
    let payload: Vec<u8> = (0..125u8).map(|i| i.wrapping_mul(7)).collect();
    ws.send(&whole(PING, &payload)).await;
    let pong = ws.next_frame().await.unwrap();
    assert_eq!((pong.opcode, pong.payload), (PONG, payload));
}

#[tokio::test]
async fn a_ping_written_a_byte_at_a_time_gets_its_pong() {
    let (_server, mut ws) = open().await;
    ws.send_in_chops(&whole(PING, b"chopped"), 1).await;
    assert_eq!(ws.next_frame().await.unwrap().payload, b"chopped");
}

#[tokio::test]
async fn a_ping_of_126_bytes_closes_with_1002() {
    assert_eq!(close_code_for(&whole(PING, &[b'x'; 126])).await, 1002);
}

#[tokio::test]
async fn an_unsolicited_pong_is_ignored() {
    let (_server, mut ws) = open().await;
    ws.send(&whole(PONG, b"unsolicited")).await;
    ws.still_works().await;
}

#[tokio::test]
async fn ten_pings_get_ten_pongs_in_order() {
    let (_server, mut ws) = open().await;
    for i in 0..10u8 {
        ws.send(&whole(PING, &[i])).await;
    }
    for i in 0..10u8 {
        assert_eq!(ws.next_frame().await.unwrap().payload, [i]);
    }
}

// 3.x reserved bits

#[tokio::test]
async fn rsv1_on_a_text_frame_closes_with_1002() {
    assert_eq!(
        close_code_for(&frame(true, 0b100, TEXT, pusher_ping(40).as_bytes())).await,
        1002
    );
}

#[tokio::test]
async fn rsv2_after_a_good_message_closes_with_1002_after_its_answer() {
    let (_server, mut ws) = open().await;
    ws.send_text(&pusher_ping(40)).await;
    ws.send(&frame(true, 0b010, TEXT, pusher_ping(40).as_bytes()))
        .await;
    assert_eq!(ws.next_text().await, PUSHER_PONG);
    assert_eq!(ws.close_code().await, 1002);
}

#[tokio::test]
async fn rsv3_on_a_binary_frame_closes_with_1002() {
    assert_eq!(close_code_for(&frame(true, 0b001, BINARY, b"x")).await, 1002);
}

#[tokio::test]
async fn reserved_bits_on_a_ping_close_with_1002() {
    assert_eq!(close_code_for(&frame(true, 0b110, PING, b"x")).await, 1002);
}

#[tokio::test]
async fn reserved_bits_on_a_close_frame_close_with_1002() {
    assert_eq!(
        close_code_for(&frame(true, 0b111, CLOSE, &close_payload(1000, b""))).await,
        1002
    );
}

// 4.x opcodes

#[tokio::test]
async fn reserved_data_opcodes_3_to_7_close_with_1002() {
    for opcode in 3..=7 {
        assert_eq!(
            close_code_for(&whole(opcode, b"x")).await,
            1002,
            "opcode {opcode}"
        );
    }
}

#[tokio::test]
async fn reserved_control_opcodes_11_to_15_close_with_1002() {
    for opcode in 11..=15 {
        assert_eq!(
            close_code_for(&whole(opcode, b"x")).await,
            1002,
            "opcode {opcode}"
        );
    }
}

#[tokio::test]
async fn an_unmasked_client_frame_closes_with_1002() {
    assert_eq!(
        close_code_for(&unmasked(TEXT, pusher_ping(40).as_bytes())).await,
        1002
    );
}

// 5.x fragmentation

#[tokio::test]
async fn a_fragmented_ping_closes_with_1002() {
    let mut bytes = frame(false, 0, PING, b"frag");
    bytes.extend(frame(true, 0, CONTINUATION, b"ment"));
    assert_eq!(close_code_for(&bytes).await, 1002);
}

#[tokio::test]
async fn a_fragmented_pong_closes_with_1002() {
    let mut bytes = frame(false, 0, PONG, b"frag");
    bytes.extend(frame(true, 0, CONTINUATION, b"ment"));
    assert_eq!(close_code_for(&bytes).await, 1002);
}

#[tokio::test]
async fn text_in_two_fragments_is_reassembled() {
    let (_server, mut ws) = open().await;
    let text = pusher_ping(60);
    ws.send(&frame(false, 0, TEXT, &text.as_bytes()[..30])).await;
    ws.send(&frame(true, 0, CONTINUATION, &text.as_bytes()[30..]))
        .await;
    assert_eq!(ws.next_text().await, PUSHER_PONG);
}

#[tokio::test]
async fn text_in_one_byte_fragments_is_reassembled() {
    let (_server, mut ws) = open().await;
    let text = pusher_ping(40);
    let mut bytes = frame(false, 0, TEXT, &text.as_bytes()[..1]);
    for (i, b) in text.bytes().enumerate().skip(1) {
        bytes.extend(frame(i == text.len() - 1, 0, CONTINUATION, &[b]));
    }
    ws.send(&bytes).await;
    assert_eq!(ws.next_text().await, PUSHER_PONG);
}

#[tokio::test]
async fn a_ping_between_fragments_is_answered_before_the_message() {
    let (_server, mut ws) = open().await;
    let text = pusher_ping(40);
    let mut bytes = frame(false, 0, TEXT, &text.as_bytes()[..20]);
    bytes.extend(whole(PING, b"between"));
    bytes.extend(frame(true, 0, CONTINUATION, &text.as_bytes()[20..]));
    ws.send(&bytes).await;
    let pong = ws.next_frame().await.unwrap();
    assert_eq!((pong.opcode, pong.payload.as_slice()), (PONG, &b"between"[..]));
    assert_eq!(ws.next_text().await, PUSHER_PONG);
}

#[tokio::test]
async fn a_final_continuation_without_a_start_closes_with_1002() {
    assert_eq!(close_code_for(&frame(true, 0, CONTINUATION, b"x")).await, 1002);
}

#[tokio::test]
async fn a_continuation_without_a_start_closes_with_1002() {
    assert_eq!(close_code_for(&frame(false, 0, CONTINUATION, b"x")).await, 1002);
}

#[tokio::test]
async fn a_new_text_message_inside_a_fragmented_one_closes_with_1002() {
    let mut bytes = frame(false, 0, TEXT, b"{\"event\":");
    bytes.extend(whole(TEXT, pusher_ping(40).as_bytes()));
    assert_eq!(close_code_for(&bytes).await, 1002);
}

// 6.x UTF-8

#[tokio::test]
async fn valid_multibyte_utf8_is_accepted() {
    let (_server, mut ws) = open().await;
    ws.send_text(r#"{"event":"pusher:ping","data":{"p":"κόσμε 𝄞 ﷽"}}"#)
        .await;
    assert_eq!(ws.next_text().await, PUSHER_PONG);
}

#[tokio::test]
async fn valid_utf8_split_inside_characters_across_fragments_is_accepted() {
    let (_server, mut ws) = open().await;
    let text = r#"{"event":"pusher:ping","data":{"p":"κόσμε𝄞"}}"#.as_bytes();
    // Cut inside the 4-byte 𝄞 and inside the 2-byte κ.
    let cut_a = text.len() - 6;
    let cut_b = 37;
    let mut bytes = frame(false, 0, TEXT, &text[..cut_b]);
    bytes.extend(frame(false, 0, CONTINUATION, &text[cut_b..cut_a]));
    bytes.extend(frame(true, 0, CONTINUATION, &text[cut_a..]));
    ws.send(&bytes).await;
    assert_eq!(ws.next_text().await, PUSHER_PONG);
}

#[tokio::test]
async fn invalid_utf8_sequences_close_with_1007() {
    let bad: [&[u8]; 6] = [
        b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited", // a surrogate
        b"\xc0\xaf",                                                       // overlong '/'
        b"\xf4\x90\x80\x80",                                               // above U+10FFFF
        b"\x80",                                                           // lone continuation
        b"\xfe\xff",                                                       // never valid
        b"ok \xe2\x82",                                                    // cut off at the end
    ];
    for bytes in bad {
        assert_eq!(close_code_for(&whole(TEXT, bytes)).await, 1007, "{bytes:x?}");
    }
}

#[tokio::test]
async fn invalid_utf8_in_a_first_fragment_closes_with_1007_before_the_message_ends() {
    assert_eq!(
        close_code_for(&frame(false, 0, TEXT, b"{\"p\":\"\xed\xa0\x80")).await,
        1007
    );
}

#[tokio::test]
async fn invalid_utf8_made_by_joining_fragments_closes_with_1007() {
    let mut bytes = frame(false, 0, TEXT, b"\xce");
    bytes.extend(frame(true, 0, CONTINUATION, b"\x41"));
    assert_eq!(close_code_for(&bytes).await, 1007);
}

// 7.x closing

#[tokio::test]
async fn a_close_with_a_code_is_echoed_and_the_server_closes_tcp() {
    let (_server, mut ws) = open().await;
    ws.send(&whole(CLOSE, &close_payload(1000, b"bye"))).await;
    assert_eq!(ws.closed().await, close_payload(1000, b"bye"));
}

#[tokio::test]
async fn an_empty_close_gets_an_empty_close() {
    let (_server, mut ws) = open().await;
    ws.send(&whole(CLOSE, b"")).await;
    assert_eq!(ws.closed().await, b"");
}

#[tokio::test]
async fn a_close_with_a_123_byte_reason_is_echoed() {
    let (_server, mut ws) = open().await;
    ws.send(&whole(CLOSE, &close_payload(1000, &[b'r'; 123]))).await;
    assert_eq!(ws.closed().await, close_payload(1000, &[b'r'; 123]));
}

#[tokio::test]
async fn frames_after_the_client_close_get_no_answer() {
    let (_server, mut ws) = open().await;
    let mut bytes = whole(CLOSE, &close_payload(1000, b""));
    bytes.extend(whole(PING, b"late"));
    bytes.extend(whole(TEXT, pusher_ping(40).as_bytes()));
    ws.send(&bytes).await;
    // `closed` fails on any frame but the close, and on anything after it.
    assert_eq!(ws.closed().await, close_payload(1000, b""));
}

#[tokio::test]
async fn a_close_between_fragments_is_echoed() {
    let (_server, mut ws) = open().await;
    let mut bytes = frame(false, 0, TEXT, b"{\"event\":");
    bytes.extend(whole(CLOSE, &close_payload(1000, b"")));
    ws.send(&bytes).await;
    assert_eq!(ws.close_code().await, 1000);
}

#[tokio::test]
async fn a_close_with_a_1_byte_payload_closes_with_1002() {
    assert_eq!(close_code_for(&whole(CLOSE, b"\x03")).await, 1002);
}

#[tokio::test]
async fn a_close_with_a_124_byte_reason_is_too_big_and_closes_with_1002() {
    assert_eq!(
        close_code_for(&whole(CLOSE, &close_payload(1000, &[b'r'; 124]))).await,
        1002
    );
}

#[tokio::test]
async fn a_close_reason_that_is_not_utf8_closes_with_1007() {
    assert_eq!(
        close_code_for(&whole(CLOSE, &close_payload(1000, b"\xce\xba\xed\xa0\x80"))).await,
        1007
    );
}

#[tokio::test]
async fn valid_close_codes_are_echoed() {
    for code in [
        1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 3000, 3999, 4000, 4999,
    ] {
        assert_eq!(
            close_code_for(&whole(CLOSE, &close_payload(code, b""))).await,
            code
        );
    }
}

#[tokio::test]
async fn close_codes_no_endpoint_may_send_close_with_1002() {
    for code in [
        0, 999, 1004, 1005, 1006, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
    ] {
        let got = close_code_for(&whole(CLOSE, &close_payload(code, b""))).await;
        assert_eq!(got, 1002, "code {code}");
    }
}

// 9.x limits (max_message_size: 64 KiB by default)

#[tokio::test]
async fn a_message_over_max_message_size_closes_with_1009() {
    assert_eq!(
        close_code_for(&whole(TEXT, pusher_ping(65537).as_bytes())).await,
        1009
    );
}

#[tokio::test]
async fn fragments_adding_up_to_more_than_max_message_size_close_with_1009() {
    let text = pusher_ping(65537);
    let mut bytes = frame(false, 0, TEXT, &text.as_bytes()[..40000]);
    bytes.extend(frame(true, 0, CONTINUATION, &text.as_bytes()[40000..]));
    assert_eq!(close_code_for(&bytes).await, 1009);
}

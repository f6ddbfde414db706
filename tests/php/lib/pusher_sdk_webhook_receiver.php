<?php
/**
 * A webhook receiver as the official pusher-http-php SDK writes one, for `php -S 127.0.0.1:<port> <this file>`:
 * headers from getallheaders() (which keeps the names' casing from the wire) and body from php://input, then
 * the SDK's check, written from its public behaviour: `$headers['X-Pusher-Key']` and
 * `$headers['X-Pusher-Signature']` looked up case-sensitively, key compared with the app key, signature with
 * hash_hmac('sha256', $body, $secret). Each request appends one line to $RECEIVER_LOG: "valid <body>" or
 * "invalid signature: got <signature>" (the SDK's exception message). Key and secret come from
 * $RECEIVER_KEY / $RECEIVER_SECRET.
 */

$headers = getallheaders();
$body = file_get_contents('php://input');
$key = $headers['X-Pusher-Key'] ?? null;
$signature = $headers['X-Pusher-Signature'] ?? null;
$valid = $key === getenv('RECEIVER_KEY') && hash_hmac('sha256', $body, getenv('RECEIVER_SECRET')) === $signature;
$line = $valid ? "valid $body" : 'invalid signature: got ' . var_export($signature, true);
file_put_contents(getenv('RECEIVER_LOG'), $line . "\n", FILE_APPEND | LOCK_EX);
http_response_code($valid ? 200 : 401);
return true;

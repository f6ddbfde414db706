<?php
/**
 * What webman/push's PHP Api computes for channel auth, written out with PHP's own functions:
 * the HMAC-SHA256 of "socket_id:channel[:custom_data]" in a json_encode'd object (default flags,
 * so "/" becomes "\/" and non-ASCII becomes \uXXXX). Custom data counts only when truthy.
 */

function reference_socket_auth(string $key, string $secret, $channel, $socket_id, $custom_data = null): string
{
    $signed = $socket_id . ':' . $channel;
    if ($custom_data) {
        $signed .= ':' . $custom_data;
    }
    $out = ['auth' => $key . ':' . hash_hmac('sha256', $signed, $secret)];
    if ($custom_data) {
        $out['channel_data'] = $custom_data;
    }
    return json_encode($out);
}

function reference_presence_auth(string $key, string $secret, $channel, $socket_id, $user_id, $user_info = null): string
{
    $user = ['user_id' => $user_id];
    if ($user_info) {
        $user['user_info'] = $user_info;
    }
    return reference_socket_auth($key, $secret, $channel, $socket_id, json_encode($user));
}

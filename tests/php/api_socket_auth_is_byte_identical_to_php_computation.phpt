--TEST--
socketAuth output is byte-identical to webman/push's PHP computation, custom data with "/", "é" and emoji included
--FILE--
<?php
require __DIR__ . '/lib/reference_auth.php';
const KEY = 'app-key-123';
const SECRET = 'app-secret-456';
$api = new Webman\Push\Api('http://127.0.0.1:3232', KEY, SECRET);
$cases = [
    ['private-user-1', '1.5', null],
    ['private-a_b-c=d@e,f.g;h', '123456.7890123', null],
    ['presence-room', '1.5', '{"user_id":"a/b","user_info":{"name":"é 🎉"}}'],
    ['presence-room', '1.5', 'plain custom data with / and é and 🎉'],
    ['private-x', '42.42', '{"user_id":1}'],
];
foreach ($cases as $i => [$channel, $socketId, $custom]) {
    $got = $api->socketAuth($channel, $socketId, $custom);
    $want = reference_socket_auth(KEY, SECRET, $channel, $socketId, $custom);
    echo $i, ': ', $got === $want ? 'identical' : "DIFFERENT\n  got  $got\n  want $want", "\n";
}
// The escaping itself: what the browser receives for case 3.
echo $api->socketAuth('presence-room', '1.5', '{"user_id":"a/b","user_info":{"name":"é 🎉"}}'), "\n";
?>
--EXPECT--
0: identical
1: identical
2: identical
3: identical
4: identical
{"auth":"app-key-123:7f07ab2569728f128f544e1fc1db459a53a966024ad105c5cc824784cf5dda9a","channel_data":"{\"user_id\":\"a\/b\",\"user_info\":{\"name\":\"\u00e9 \ud83c\udf89\"}}"}

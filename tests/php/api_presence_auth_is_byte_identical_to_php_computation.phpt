--TEST--
presenceAuth output is byte-identical to webman/push's PHP computation for string and int user ids and unicode user info
--FILE--
<?php
require __DIR__ . '/lib/reference_auth.php';
const KEY = 'app-key-123';
const SECRET = 'app-secret-456';
$api = new Webman\Push\Api('http://127.0.0.1:3232', KEY, SECRET);
$cases = [
    ['presence-room', '1.5', 100, ['name' => 'Tom']],
    ['presence-room', '1.5', '100', ['name' => 'Tom']],
    ['presence-room', '1.5', 'user/1', ['name' => 'Zoë', 'url' => 'https://example.com/a/b']],
    ['presence-chat', '7.77', 7, ['emoji' => '🎉👍', 'nested' => ['list' => [1, 2.5, true, null]]]],
    ['presence-chat', '7.77', 'é', 'just a string'],
];
foreach ($cases as $i => [$channel, $socketId, $userId, $userInfo]) {
    $got = $api->presenceAuth($channel, $socketId, $userId, $userInfo);
    $want = reference_presence_auth(KEY, SECRET, $channel, $socketId, $userId, $userInfo);
    echo $i, ': ', $got === $want ? 'identical' : "DIFFERENT\n  got  $got\n  want $want", "\n";
}
// An int user id stays a JSON number; a numeric string stays a string.
echo json_decode($api->presenceAuth('presence-room', '1.5', 100, ['name' => 'Tom']), true)['channel_data'], "\n";
echo json_decode($api->presenceAuth('presence-room', '1.5', '100', ['name' => 'Tom']), true)['channel_data'], "\n";
?>
--EXPECT--
0: identical
1: identical
2: identical
3: identical
4: identical
{"user_id":100,"user_info":{"name":"Tom"}}
{"user_id":"100","user_info":{"name":"Tom"}}

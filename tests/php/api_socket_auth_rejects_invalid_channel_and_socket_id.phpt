--TEST--
socketAuth and presenceAuth throw PushException for an invalid channel name or socket id
--FILE--
<?php
$api = new Webman\Push\Api('http://127.0.0.1:3232', 'app-key-123', 'app-secret-456');
$calls = [
    'channel with a space' => fn() => $api->socketAuth('private-a b', '1.5'),
    'channel with a slash' => fn() => $api->socketAuth('private-a/b', '1.5'),
    'channel with é' => fn() => $api->socketAuth('private-é', '1.5'),
    'empty channel' => fn() => $api->socketAuth('', '1.5'),
    'socket id without dot' => fn() => $api->socketAuth('private-a', '15'),
    'socket id with letters' => fn() => $api->socketAuth('private-a', '1.5x'),
    'socket id with a trailing newline' => fn() => $api->socketAuth('private-a', "1.5\n"),
    'empty socket id' => fn() => $api->socketAuth('private-a', ''),
    'presence with bad channel' => fn() => $api->presenceAuth('presence-a:b', '1.5', 1, ['n' => 1]),
    'presence with bad socket id' => fn() => $api->presenceAuth('presence-a', '1..5', 1, ['n' => 1]),
];
foreach ($calls as $what => $call) {
    try {
        $call();
        echo "$what: accepted\n";
    } catch (Webman\Push\PushException $e) {
        echo "$what: ", $e->getMessage(), "\n";
    }
}
?>
--EXPECT--
channel with a space: Invalid channel name private-a b
channel with a slash: Invalid channel name private-a/b
channel with é: Invalid channel name private-é
empty channel: Invalid channel name 
socket id without dot: Invalid socket ID 15
socket id with letters: Invalid socket ID 1.5x
socket id with a trailing newline: Invalid socket ID 1.5

empty socket id: Invalid socket ID 
presence with bad channel: Invalid channel name presence-a:b
presence with bad socket id: Invalid socket ID 1..5

--TEST--
socketAuth ignores falsy custom data ("0", "", null, false): it signs socket_id:channel and adds no channel_data
--FILE--
<?php
$api = new Webman\Push\Api('http://127.0.0.1:3232', 'app-key-123', 'app-secret-456');
$plain = $api->socketAuth('private-user-1', '1.5');
echo $plain, "\n";
foreach (['0', '', null, false] as $falsy) {
    echo var_export($falsy, true), ': ', $api->socketAuth('private-user-1', '1.5', $falsy) === $plain ? 'same as none' : 'DIFFERENT', "\n";
}
?>
--EXPECT--
{"auth":"app-key-123:9595320f4e548deded08e106fbf62dc872a05b15e1f6f66aa9f504336c3219cf"}
'0': same as none
'': same as none
NULL: same as none
false: same as none

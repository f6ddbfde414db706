--TEST--
presenceAuth leaves user_info out of channel_data when it is falsy (null, "", "0", [], 0, false)
--FILE--
<?php
require __DIR__ . '/lib/reference_auth.php';
$api = new Webman\Push\Api('http://127.0.0.1:3232', 'app-key-123', 'app-secret-456');
echo $api->presenceAuth('presence-room', '1.5', 100), "\n";
foreach ([null, '', '0', [], 0, false] as $falsy) {
    $got = $api->presenceAuth('presence-room', '1.5', 100, $falsy);
    $want = reference_presence_auth('app-key-123', 'app-secret-456', 'presence-room', '1.5', 100, $falsy);
    echo var_export($falsy, true), ': ', $got === $want ? 'identical' : "DIFFERENT $got", "\n";
}
?>
--EXPECT--
{"auth":"app-key-123:ddb219f5dff780652f691be74a6acd5750b34d01c72b0cff7cf63f300b49617d","channel_data":"{\"user_id\":100}"}
NULL: identical
'': identical
'0': identical
array (
): identical
0: identical
false: identical

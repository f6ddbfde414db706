--TEST--
socketAuth and presenceAuth reproduce the signatures of Pusher's documented auth examples
--FILE--
<?php
$api = new Webman\Push\Api('http://127.0.0.1:3232', '278d425bdf160c739803', '7ad3773142a6692b25b8');
echo $api->socketAuth('private-foobar', '1234.1234'), "\n";
echo $api->presenceAuth('presence-foobar', '1234.1234', 10, ['name' => 'Mr. Pusher']), "\n";
echo $api->presenceAuth('presence-foobar', '1234.1234', 10, ['name' => 'Mr. Channels']), "\n";
?>
--EXPECT--
{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"}
{"auth":"278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c","channel_data":"{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Pusher\"}}"}
{"auth":"278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80","channel_data":"{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Channels\"}}"}

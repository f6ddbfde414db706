--TEST--
The webman_push extension is loaded and declares Server, Api and PushException (a subclass of Exception)
--FILE--
<?php
var_dump(extension_loaded('webman_push'));
var_dump(class_exists('Webman\Push\Server'));
var_dump(class_exists('Webman\Push\Api'));
var_dump(class_exists('Webman\Push\PushException'));
var_dump(is_subclass_of('Webman\Push\PushException', 'Exception'));
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)

--TEST--
PushException can be constructed and thrown by PHP code, like webman/push's userland class
--FILE--
<?php
// webman/push declares `class PushException extends \Exception {}`: application code may
// `throw new PushException(...)` itself, e.g. in its auth route.
try {
    throw new Webman\Push\PushException('forbidden channel', 403);
} catch (Exception $e) {
    var_dump(get_class($e), $e->getMessage(), $e->getCode());
}
?>
--EXPECT--
string(25) "Webman\Push\PushException"
string(17) "forbidden channel"
int(403)

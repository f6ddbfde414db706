--TEST--
Api exposes webman/push's public methods with the same parameter names and optional parameters
--FILE--
<?php
// Named arguments in user code depend on these exact names (PHP 8); $options is our addition.
foreach (['__construct', 'trigger', 'socketAuth', 'presenceAuth'] as $name) {
    $m = new ReflectionMethod('Webman\Push\Api', $name);
    $params = [];
    foreach ($m->getParameters() as $p) {
        $s = '$' . $p->getName();
        if ($p->isOptional()) {
            $s .= ' = ' . var_export($p->isDefaultValueAvailable() ? $p->getDefaultValue() : null, true);
        }
        $params[] = $s;
    }
    echo ($m->isPublic() ? 'public ' : 'non-public ') . ($m->isStatic() ? 'static ' : '')
        . $name . '(' . implode(', ', $params) . ")\n";
}
?>
--EXPECT--
public __construct($api_address, $app_key, $app_secret, $options = NULL)
public trigger($channels, $event, $data, $socket_id = NULL)
public socketAuth($channel, $socket_id, $custom_data = NULL)
public presenceAuth($channel, $socket_id, $user_id, $user_info = NULL)

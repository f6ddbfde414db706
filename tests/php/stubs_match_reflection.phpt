--TEST--
php/stubs/webman_push.stub.php declares exactly the extension's classes, methods, parameters (names, optionality, defaults, types) and return types
--FILE--
<?php
// The stub cannot be included as it is: its classes exist already (the extension declares them). Its code is
// evaluated in another namespace and both sides are compared through Reflection, so the test fails as soon as
// the extension gains, loses or changes a method the stub does not show (or the other way round).
const STUB_NS = 'WebmanPushStubCheck';
$stubFile = dirname(__DIR__, 2) . '/php/stubs/webman_push.stub.php';
$code = file_get_contents($stubFile);
$count = 0;
$code = preg_replace('/^namespace\s+Webman\\\\Push\s*;/m', 'namespace ' . STUB_NS . ';', $code, -1, $count);
if ($count !== 1) {
    exit("the stub must have exactly one `namespace Webman\\Push;` line, found $count\n");
}
eval('?>' . $code);

function stub_name(string $class): string
{
    return str_starts_with($class, 'Webman\\Push\\') ? STUB_NS . '\\' . substr($class, strlen('Webman\\Push\\')) : $class;
}

function type_of(?ReflectionType $t): string
{
    return $t === null ? '(none)' : (string)$t;
}

/** One line per method: everything a caller or an IDE sees of it. */
function describe(ReflectionMethod $m): string
{
    $mods = implode(' ', Reflection::getModifierNames($m->getModifiers()));
    $params = [];
    foreach ($m->getParameters() as $p) {
        $s = type_of($p->getType()) . ' ' . ($p->isPassedByReference() ? '&' : '') . ($p->isVariadic() ? '...' : '')
            . '$' . $p->getName();
        if ($p->isOptional()) {
            $s .= ' = ' . ($p->isDefaultValueAvailable() ? var_export($p->getDefaultValue(), true) : '(no default)');
        }
        $params[] = $s;
    }
    $return = $m->hasReturnType() ? type_of($m->getReturnType())
        : ($m->hasTentativeReturnType() ? 'tentative ' . type_of($m->getTentativeReturnType()) : '(none)');
    return "$mods {$m->getName()}(" . implode(', ', $params) . "): $return";
}

/** @return array<string, string> method name => description, for the methods the class declares itself. */
function own_methods(ReflectionClass $c): array
{
    $out = [];
    foreach ($c->getMethods() as $m) {
        if ($m->getDeclaringClass()->getName() === $c->getName()) {
            $out[strtolower($m->getName())] = describe($m);
        }
    }
    ksort($out);
    return $out;
}

$extClasses = (new ReflectionExtension('webman_push'))->getClassNames();
$stubClasses = [];
foreach (get_declared_classes() as $c) {
    if (str_starts_with($c, STUB_NS . '\\')) {
        $stubClasses[] = 'Webman\\Push\\' . substr($c, strlen(STUB_NS) + 1);
    }
}
sort($extClasses);
sort($stubClasses);

$problems = [];
foreach (array_diff($extClasses, $stubClasses) as $c) {
    $problems[] = "class $c is in the extension, not in the stub";
}
foreach (array_diff($stubClasses, $extClasses) as $c) {
    $problems[] = "class $c is in the stub, not in the extension";
}

$methodsCompared = 0;
foreach (array_intersect($extClasses, $stubClasses) as $class) {
    $ext = new ReflectionClass($class);
    $stub = new ReflectionClass(stub_name($class));
    $extParent = $ext->getParentClass() ? $ext->getParentClass()->getName() : '(none)';
    $stubParent = $stub->getParentClass() ? $stub->getParentClass()->getName() : '(none)';
    if (stub_name($extParent) !== $stubParent) {
        $problems[] = "$class: extension extends $extParent, stub extends $stubParent";
    }
    $extFlags = [$ext->isFinal(), $ext->isAbstract(), $ext->isInterface()];
    $stubFlags = [$stub->isFinal(), $stub->isAbstract(), $stub->isInterface()];
    if ($extFlags !== $stubFlags) {
        $problems[] = "$class: final/abstract/interface differ";
    }
    $extMethods = own_methods($ext);
    $stubMethods = own_methods($stub);
    foreach ($extMethods as $key => $description) {
        $name = $ext->getMethod($key)->getName();
        if (!isset($stubMethods[$key])) {
            $problems[] = "$class: the extension has $description, the stub does not";
        } elseif ($stubMethods[$key] !== $description) {
            $problems[] = "$class::$name() differs:\n    extension: $description\n    stub:      {$stubMethods[$key]}";
        } else {
            $methodsCompared++;
        }
    }
    foreach (array_diff_key($stubMethods, $extMethods) as $description) {
        $problems[] = "$class: the stub has $description, the extension does not";
    }
    if ($ext->getConstants() != $stub->getConstants()) {
        $problems[] = "$class: constants differ";
    }
}

echo 'classes: ', implode(', ', $extClasses), "\n";
echo 'methods compared equal: ', $methodsCompared > 20 ? 'more than 20' : $methodsCompared, "\n";
echo $problems ? implode("\n", $problems) . "\n" : "no differences\n";
?>
--EXPECT--
classes: Webman\Push\Api, Webman\Push\PushException, Webman\Push\Server
methods compared equal: more than 20
no differences

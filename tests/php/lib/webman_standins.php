<?php
/**
 * Stand-ins for the few pieces of webman that config/plugin/webman/push/route.php uses, so the tests can load the
 * real route.php without webman (webman comes from Packagist, which is not reachable here). They are written from
 * the public APIs of walkor/webman-framework 1.x and walkor/workerman 4.x (no code copied) and keep their
 * signatures and the behaviour route.php depends on:
 *
 *   Webman\Route                        get/post/any/add($path, $callback) collect routes (returning a route object)
 *   support\Request                     Workerman's request, parsed from the raw HTTP buffer:
 *                                       post($name = null, $default = null): form bodies through parse_str, bodies
 *                                         whose Content-Type contains the word "json" through json_decode (Workerman);
 *                                       header($name = null, $default = null): lowercase names; rawBody(); cookie();
 *                                       session(): the session named by the PHPSID cookie (webman's session name)
 *   Workerman\Protocols\Http\Session    get($name, $default = null), set(), delete(), has(), all(), flush(), getId();
 *                                       kept in files under base_path()/runtime/sessions like webman's default
 *                                       FileSessionHandler, so a PHP built-in server sees what a test stored
 *   support\Response                    Workerman's Response(status, headers, body): withHeader(), withStatus(),
 *                                       withBody(), withFile() (404 when the file is missing), webman's file()
 *                                       (304 on a matching If-Modified-Since)
 *   response($body = '', $status = 200, $headers = []), config($key = null, $default = null), base_path($path = ''),
 *   request()
 *
 * Dispatch is webman's: the route's callback gets the request; a returned non-Response becomes a 200 response with
 * the value as text; what the callback echoes goes to the worker's stdout, not into the response; an unknown
 * route (or a known path with another method) is a 404; an uncaught exception is a 500. On the wire, a response
 * without Content-Type gets Workerman's `text/html;charset=utf-8`; a file response without one gets the type
 * of its extension (js → application/javascript). As in webman's bootstrap, PHP notices, warnings and deprecations
 * are thrown as ErrorException (while loading route.php: webman does not start; in a request: a 500).
 *
 * Two ways to use it:
 *   - in the test process:   webman_boot(webman_app_config([...]), $basePath);
 *                            $r = webman_request('POST', '/plugin/webman/push/auth', $headers, $body);
 *                            // ['status' => int, 'headers' => [name => value], 'body' => string, 'stdout' => string]
 *   - as the main webman HTTP server, over real HTTP: $http = webman_http_start($appConfig, $basePath) runs
 *     `php -S 127.0.0.1:<port> webman_standins.php` (this file is then the router script); each request it
 *     handled is one entry of webman_http_log($http) (method, path, status, body and what the route echoed);
 *     webman_http_stop($http) ends it.
 */

namespace Workerman\Protocols\Http {

    /** A session: its data lives in base_path()/runtime/sessions/ses_<id> (serialized), written on every change. */
    class Session
    {
        protected string $sessionId;
        protected array $data = [];

        public function __construct(string $session_id)
        {
            if (!preg_match('/^[a-zA-Z0-9]+$/', $session_id)) {
                throw new \InvalidArgumentException("invalid session id $session_id");
            }
            $this->sessionId = $session_id;
            $file = static::file($session_id);
            if (is_file($file)) {
                $data = unserialize((string)file_get_contents($file));
                $this->data = is_array($data) ? $data : [];
            }
        }

        public function getId(): string
        {
            return $this->sessionId;
        }

        public function get($name, $default = null)
        {
            return $this->data[$name] ?? $default;
        }

        public function set($name, $value): void
        {
            $this->data[$name] = $value;
            $this->save();
        }

        public function delete($name): void
        {
            unset($this->data[$name]);
            $this->save();
        }

        public function has($name): bool
        {
            return isset($this->data[$name]);
        }

        public function all(): array
        {
            return $this->data;
        }

        public function flush(): void
        {
            $this->data = [];
            $this->save();
        }

        public function save(): void
        {
            $file = static::file($this->sessionId);
            if (!is_dir(dirname($file))) {
                mkdir(dirname($file), 0777, true);
            }
            file_put_contents($file, serialize($this->data), LOCK_EX);
        }

        protected static function file(string $session_id): string
        {
            return base_path() . "/runtime/sessions/ses_$session_id";
        }
    }

    /** Workerman's HTTP request, built from the raw request buffer (head, blank line, body). */
    class Request
    {
        public $session = null;
        protected string $buffer;
        protected array $data = [];
        protected ?string $sid = null;

        public function __construct(string $buffer)
        {
            $this->buffer = $buffer;
        }

        public function method(): string
        {
            return explode(' ', (string)strstr($this->buffer, "\r\n", true), 3)[0];
        }

        public function uri(): string
        {
            return explode(' ', (string)strstr($this->buffer, "\r\n", true), 3)[1] ?? '/';
        }

        public function path(): string
        {
            return (string)parse_url($this->uri(), PHP_URL_PATH);
        }

        public function queryString(): string
        {
            return (string)parse_url($this->uri(), PHP_URL_QUERY);
        }

        public function get($name = null, $default = null)
        {
            if (!isset($this->data['get'])) {
                $this->data['get'] = [];
                parse_str($this->queryString(), $this->data['get']);
            }
            return $name === null ? $this->data['get'] : ($this->data['get'][$name] ?? $default);
        }

        public function post($name = null, $default = null)
        {
            if (!isset($this->data['post'])) {
                $this->data['post'] = [];
                $body = $this->rawBody();
                if ($body !== '') {
                    // Multipart bodies are not needed by route.php and not parsed here.
                    if (preg_match('/\bjson\b/i', (string)$this->header('content-type', ''))) {
                        $this->data['post'] = (array)json_decode($body, true);
                    } else {
                        parse_str($body, $this->data['post']);
                    }
                }
            }
            return $name === null ? $this->data['post'] : ($this->data['post'][$name] ?? $default);
        }

        public function header($name = null, $default = null)
        {
            if (!isset($this->data['headers'])) {
                $this->data['headers'] = [];
                $lines = explode("\r\n", $this->rawHead());
                array_shift($lines);
                foreach ($lines as $line) {
                    [$key, $value] = str_contains($line, ':') ? explode(':', $line, 2) : [$line, ''];
                    $key = strtolower($key);
                    $value = ltrim($value);
                    // A repeated header: the values joined with commas.
                    $this->data['headers'][$key] = isset($this->data['headers'][$key])
                        ? $this->data['headers'][$key] . ",$value" : $value;
                }
            }
            if ($name === null) {
                return $this->data['headers'];
            }
            return $this->data['headers'][strtolower($name)] ?? $default;
        }

        public function cookie($name = null, $default = null)
        {
            if (!isset($this->data['cookie'])) {
                $this->data['cookie'] = [];
                parse_str(preg_replace('/; ?/', '&', (string)$this->header('cookie', '')), $this->data['cookie']);
            }
            return $name === null ? $this->data['cookie'] : ($this->data['cookie'][$name] ?? $default);
        }

        public function host($without_port = false)
        {
            $host = $this->header('host');
            if ($host && $without_port && ($pos = strpos($host, ':'))) {
                return substr($host, 0, $pos);
            }
            return $host;
        }

        /** The session named by the PHPSID cookie; a request without one gets a new, empty session. */
        public function session()
        {
            if ($this->session === null) {
                $this->session = new Session($this->sessionId());
            }
            return $this->session;
        }

        public function sessionId($session_id = null)
        {
            if ($session_id !== null) {
                $this->sid = $session_id;
            }
            if ($this->sid === null) {
                $sid = $this->cookie(\webman_session_name());
                // Workerman would also send the new id in a Set-Cookie header; no test needs it.
                $this->sid = ($sid === '' || $sid === null) ? bin2hex(random_bytes(16)) : $sid;
            }
            return $this->sid;
        }

        public function rawHead(): string
        {
            return (string)strstr($this->buffer, "\r\n\r\n", true);
        }

        public function rawBody(): string
        {
            return (string)substr($this->buffer, strpos($this->buffer, "\r\n\r\n") + 4);
        }

        public function rawBuffer(): string
        {
            return $this->buffer;
        }
    }

    /** Workerman's HTTP response. */
    class Response
    {
        public $file = null;
        protected $_header;
        protected $_status;
        protected $_reason = null;
        protected $_body;

        public function __construct($status = 200, $headers = [], $body = '')
        {
            $this->_status = $status;
            $this->_header = $headers;
            $this->_body = (string)$body;
        }

        public function header($name, $value)
        {
            $this->_header[$name] = $value;
            return $this;
        }

        public function withHeader($name, $value)
        {
            return $this->header($name, $value);
        }

        public function withHeaders($headers)
        {
            $this->_header = array_merge_recursive($this->_header, $headers);
            return $this;
        }

        public function withoutHeader($name)
        {
            unset($this->_header[$name]);
            return $this;
        }

        public function getHeader($name)
        {
            return $this->_header[$name] ?? null;
        }

        public function getHeaders()
        {
            return $this->_header;
        }

        public function withStatus($code, $reason_phrase = null)
        {
            $this->_status = $code;
            $this->_reason = $reason_phrase;
            return $this;
        }

        public function getStatusCode()
        {
            return $this->_status;
        }

        public function withBody($body)
        {
            $this->_body = (string)$body;
            return $this;
        }

        public function rawBody()
        {
            return $this->_body;
        }

        public function withFile($file, $offset = 0, $length = 0)
        {
            if (!is_file($file)) {
                return $this->withStatus(404)->withBody('<h3>404 Not Found</h3>');
            }
            $this->file = ['file' => $file, 'offset' => $offset, 'length' => $length];
            return $this;
        }
    }
}

namespace Webman\Http {

    class Request extends \Workerman\Protocols\Http\Request
    {
    }

    class Response extends \Workerman\Protocols\Http\Response
    {
        /** webman's file(): 304 when If-Modified-Since names the file's mtime, else withFile(). */
        public function file($file)
        {
            $since = \Webman\App::request()?->header('if-modified-since');
            if ($since !== null && ($mtime = @filemtime($file)) && $since === gmdate('D, d M Y H:i:s', $mtime) . ' GMT') {
                return $this->withStatus(304);
            }
            return $this->withFile($file);
        }
    }
}

namespace support {

    class Request extends \Webman\Http\Request
    {
    }

    class Response extends \Webman\Http\Response
    {
    }
}

namespace Webman\Route {

    /** What Webman\Route::add() returns: one route (method list, path, callback). */
    class Route
    {
        public function __construct(protected array $methods, protected string $path, protected $callback)
        {
        }

        public function getMethods(): array
        {
            return $this->methods;
        }

        public function getPath(): string
        {
            return $this->path;
        }

        public function getCallback()
        {
            return $this->callback;
        }

        public function name(string $name): self
        {
            return $this;
        }

        public function middleware($middleware): self
        {
            return $this;
        }
    }
}

namespace Webman {

    use Webman\Route\Route as RouteObject;

    class Route
    {
        /** @var RouteObject[] */
        protected static array $allRoutes = [];

        public static function get(string $path, $callback): RouteObject
        {
            return static::add('GET', $path, $callback);
        }

        public static function post(string $path, $callback): RouteObject
        {
            return static::add('POST', $path, $callback);
        }

        public static function put(string $path, $callback): RouteObject
        {
            return static::add('PUT', $path, $callback);
        }

        public static function delete(string $path, $callback): RouteObject
        {
            return static::add('DELETE', $path, $callback);
        }

        public static function any(string $path, $callback): RouteObject
        {
            return static::add(['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'], $path, $callback);
        }

        public static function add($methods, string $path, $callback): RouteObject
        {
            $route = new RouteObject(array_map('strtoupper', (array)$methods), $path, $callback);
            static::$allRoutes[] = $route;
            return $route;
        }

        /** @return RouteObject[] */
        public static function getRoutes(): array
        {
            return static::$allRoutes;
        }

        // ---- stand-in only ----

        public static function reset(): void
        {
            static::$allRoutes = [];
        }

        /** The route for this method and path (the last one added wins, as a later add replaces it), or null. */
        public static function match(string $method, string $path): ?RouteObject
        {
            $found = null;
            foreach (static::$allRoutes as $route) {
                if ($route->getPath() === $path && in_array(strtoupper($method), $route->getMethods(), true)) {
                    $found = $route;
                }
            }
            return $found;
        }
    }

    class App
    {
        public static ?\support\Request $request = null;

        public static function request(): ?\support\Request
        {
            return static::$request;
        }
    }
}

namespace {

    use support\Request;
    use support\Response;
    use Webman\App;
    use Webman\Route;
    use Workerman\Protocols\Http\Session;

    /** The loaded config, as webman's Config holds it: ['plugin' => ['webman' => ['push' => ['app' => [...]]]]]. */
    $GLOBALS['webman_standins'] = ['config' => [], 'base_path' => null];

    function config(?string $key = null, $default = null)
    {
        $value = $GLOBALS['webman_standins']['config'];
        if ($key === null) {
            return $value;
        }
        foreach (explode('.', $key) as $part) {
            if (!is_array($value) || !array_key_exists($part, $value)) {
                return $default;
            }
            $value = $value[$part];
        }
        return $value;
    }

    function base_path($path = ''): string
    {
        $base = $GLOBALS['webman_standins']['base_path'];
        if ($base === null) {
            throw new RuntimeException('webman_boot() was not called');
        }
        return $path === '' || $path === null ? $base : $base . DIRECTORY_SEPARATOR . ltrim($path, DIRECTORY_SEPARATOR);
    }

    function response($body = '', $status = 200, $headers = array())
    {
        return new Response($status, $headers, $body);
    }

    function request()
    {
        return App::request();
    }

    function webman_session_name(): string
    {
        return 'PHPSID';
    }

    /** The repository root. */
    function webman_package_root(): string
    {
        return dirname(__DIR__, 3);
    }

    /** A new empty directory for base_path(), removed when the test script ends. */
    function webman_temp_dir(): string
    {
        $dir = sys_get_temp_dir() . '/webman-push-route-' . getmypid() . '-' . bin2hex(random_bytes(4));
        mkdir($dir, 0777, true);
        // Removed after every other shutdown function (a built-in server writing into it has been stopped then).
        register_shutdown_function('register_shutdown_function', static function () use ($dir) {
            $it = new RecursiveIteratorIterator(
                new RecursiveDirectoryIterator($dir, FilesystemIterator::SKIP_DOTS),
                RecursiveIteratorIterator::CHILD_FIRST
            );
            foreach ($it as $file) {
                $file->isDir() && !$file->isLink() ? rmdir($file->getPathname()) : unlink($file->getPathname());
            }
            rmdir($dir);
        });
        return $dir;
    }

    /** The shipped config/plugin/webman/push/app.php with $overrides on top. */
    function webman_app_config(array $overrides = []): array
    {
        return $overrides + (require webman_package_root() . '/config/plugin/webman/push/app.php');
    }

    /**
     * Loads $app as config('plugin.webman.push.app'), sets base_path() and loads the shipped route.php afresh.
     * Like webman's bootstrap (with the skeleton's 'error_reporting' => E_ALL), every PHP notice, warning or
     * deprecation from then on is thrown as an ErrorException: while loading routes it stops the worker, while
     * handling a request it becomes a 500.
     */
    function webman_boot(array $app, string $base_path): void
    {
        $GLOBALS['webman_standins']['config'] = ['plugin' => ['webman' => ['push' => ['app' => $app]]]];
        $GLOBALS['webman_standins']['base_path'] = rtrim($base_path, '/');
        error_reporting(E_ALL);
        set_error_handler(static function (int $level, string $message, string $file = '', int $line = 0) {
            if (error_reporting() & $level) {
                throw new ErrorException($message, 0, $level, $file, $line);
            }
            return false;
        });
        Route::reset();
        (static function () {
            require webman_package_root() . '/config/plugin/webman/push/route.php';
        })();
    }

    /**
     * Signs a user in the way an app's login code would: a session holding push_user = $user.
     * Returns the Cookie header value that names the session.
     */
    function webman_login(array $user): string
    {
        $session = new Session(bin2hex(random_bytes(16)));
        $session->set('push_user', $user);
        return webman_session_name() . '=' . $session->getId();
    }

    /**
     * Sends one request to the loaded routes, as webman would handle it.
     * Returns ['status' => int, 'headers' => [name => value as sent], 'body' => string, 'stdout' => echoed text].
     */
    function webman_request(string $method, string $uri, array $headers = [], string $body = ''): array
    {
        $head = "$method $uri HTTP/1.1\r\nHost: 127.0.0.1:8787\r\n";
        foreach ($headers as $name => $value) {
            $head .= "$name: $value\r\n";
        }
        if ($body !== '' || $method === 'POST') {
            $head .= 'Content-Length: ' . strlen($body) . "\r\n";
        }
        return webman_dispatch($head . "\r\n" . $body);
    }

    /** Dispatches one raw HTTP request buffer (see webman_request()). */
    function webman_dispatch(string $buffer): array
    {
        $request = new Request($buffer);
        App::$request = $request;
        $route = Route::match($request->method(), $request->path());
        ob_start();
        try {
            if ($route === null) {
                $response = new Response(404, [], '<h1>404 Not Found</h1>');
            } else {
                $response = ($route->getCallback())($request);
                if (!$response instanceof Response) {
                    $response = new Response(200, [], webman_stringify($response));
                }
            }
        } catch (Throwable $e) {
            $response = new Response(500, [], get_class($e) . ': ' . $e->getMessage());
        } finally {
            $stdout = (string)ob_get_clean();
            App::$request = null;
        }
        return webman_wire($response) + ['stdout' => $stdout];
    }

    /** webman's conversion of a callback's non-Response return value to the response body. */
    function webman_stringify($data): string
    {
        return match (gettype($data)) {
            'boolean' => $data ? 'true' : 'false',
            'NULL' => 'NULL',
            'array' => 'Array',
            'object' => method_exists($data, '__toString') ? (string)$data : 'Object',
            default => (string)$data,
        };
    }

    /** Status, headers and body as Workerman puts a Response on the wire. */
    function webman_wire(Response $response): array
    {
        $headers = $response->getHeaders();
        if ($response->file !== null) {
            $file = $response->file['file'];
            if (!isset($headers['Content-Type'])) {
                $types = ['js' => 'application/javascript', 'html' => 'text/html', 'css' => 'text/css',
                    'json' => 'application/json', 'txt' => 'text/plain'];
                $headers['Content-Type'] = $types[pathinfo($file, PATHINFO_EXTENSION)] ?? 'application/octet-stream';
            }
            if (!isset($headers['Last-Modified']) && ($mtime = filemtime($file))) {
                $headers['Last-Modified'] = gmdate('D, d M Y H:i:s', $mtime) . ' GMT';
            }
            return ['status' => $response->getStatusCode(), 'headers' => $headers, 'body' => (string)file_get_contents($file)];
        }
        if (!isset($headers['Content-Type'])) {
            $headers['Content-Type'] = 'text/html;charset=utf-8';
        }
        return ['status' => $response->getStatusCode(), 'headers' => $headers, 'body' => $response->rawBody()];
    }

    // ---------------------------------------------------------------------------------------------
    // The same routes over real HTTP: PHP's built-in server with this file as its router script.
    // ---------------------------------------------------------------------------------------------

    /**
     * Starts `php -S 127.0.0.1:<free port>` with this file as router, serving route.php with config $app and
     * base_path() $base_path, the webman_push extension loaded (route.php's auth route needs Webman\Push\Api).
     * Returns a handle: ['port' => int, 'url' => 'http://127.0.0.1:<port>', 'log' => file, 'proc' => resource].
     */
    function webman_http_start(array $app, string $base_path): array
    {
        if (!function_exists('free_port')) {
            require_once __DIR__ . '/push.php';
        }
        if (!is_dir($base_path)) {
            mkdir($base_path, 0777, true);
        }
        // The same config and base_path() in this process, so webman_login() stores sessions where the server reads them.
        webman_boot($app, $base_path);
        $log = $base_path . '/webman-http.log';
        $config = $base_path . '/webman-http-app.json';
        file_put_contents($config, json_encode($app));
        for ($attempt = 0; $attempt < 3; $attempt++) {
            $port = free_port();
            $env = getenv() + [];
            $env['WEBMAN_STANDINS_APP'] = $config;
            $env['WEBMAN_STANDINS_BASE_PATH'] = $base_path;
            $env['WEBMAN_STANDINS_LOG'] = $log;
            unset($env['PHP_CLI_SERVER_WORKERS']);
            $proc = proc_open(
                [PHP_BINARY, '-d', 'extension=' . extension_path(), '-d', 'display_errors=stderr',
                    '-S', "127.0.0.1:$port", __FILE__],
                [0 => ['file', '/dev/null', 'r'], 1 => ['file', "$base_path/webman-http.out", 'a'],
                    2 => ['file', "$base_path/webman-http.out", 'a']],
                $pipes,
                $base_path,
                $env
            );
            $deadline = microtime(true) + 10;
            while (microtime(true) < $deadline && proc_get_status($proc)['running']) {
                if (port_accepts($port)) {
                    $http = ['port' => $port, 'url' => "http://127.0.0.1:$port", 'log' => $log, 'proc' => $proc];
                    // Also when the test dies half-way: a running child would make PHP wait for it at exit.
                    register_shutdown_function('webman_http_stop', $http);
                    return $http;
                }
                usleep(20000);
            }
            // The port was taken in between (or the server did not come up): try another one.
            proc_terminate($proc);
            proc_close($proc);
        }
        throw new RuntimeException('PHP built-in server did not start: ' . @file_get_contents("$base_path/webman-http.out"));
    }

    function webman_http_stop(array $http): void
    {
        if (is_resource($http['proc'])) {
            proc_terminate($http['proc']);
            proc_close($http['proc']);
        }
    }

    /** The requests the built-in server handled so far: [['method', 'path', 'status', 'body', 'stdout'], ...]. */
    function webman_http_log(array $http): array
    {
        $entries = [];
        foreach (@file($http['log'], FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES) ?: [] as $line) {
            $entries[] = json_decode($line, true);
        }
        return $entries;
    }

    /** Waits (at most $timeout seconds) until $done(log entries) is true; returns the entries either way. */
    function webman_http_wait_log(array $http, callable $done, float $timeout = 10.0): array
    {
        $deadline = microtime(true) + $timeout;
        do {
            $entries = webman_http_log($http);
            if ($done($entries)) {
                return $entries;
            }
            usleep(20000);
        } while (microtime(true) < $deadline);
        return $entries;
    }

    /**
     * One HTTP request to the built-in server. Returns ['status' => int, 'headers' => [lowercase name => value],
     * 'body' => string].
     */
    function webman_http_request(array $http, string $method, string $path, array $headers = [], string $body = ''): array
    {
        $lines = [];
        foreach ($headers as $name => $value) {
            $lines[] = "$name: $value";
        }
        $context = stream_context_create(['http' => [
            'method' => $method, 'header' => implode("\r\n", $lines), 'content' => $body,
            'ignore_errors' => true, 'timeout' => 10, 'protocol_version' => 1.0,
        ]]);
        $answer = @file_get_contents($http['url'] . $path, false, $context);
        if ($answer === false) {
            throw new RuntimeException("no answer from the built-in server for $method $path");
        }
        $status = 0;
        $out = [];
        foreach ($http_response_header as $i => $line) {
            if ($i === 0) {
                $status = (int)explode(' ', $line)[1];
            } elseif (str_contains($line, ':')) {
                [$name, $value] = explode(':', $line, 2);
                $out[strtolower($name)] = trim($value);
            }
        }
        return ['status' => $status, 'headers' => $out, 'body' => $answer];
    }

    if (PHP_SAPI === 'cli-server' && getenv('WEBMAN_STANDINS_APP')) {
        webman_boot(json_decode((string)file_get_contents(getenv('WEBMAN_STANDINS_APP')), true), getenv('WEBMAN_STANDINS_BASE_PATH'));
        $head = $_SERVER['REQUEST_METHOD'] . ' ' . $_SERVER['REQUEST_URI'] . " HTTP/1.1\r\n";
        foreach (getallheaders() as $name => $value) {
            $head .= "$name: $value\r\n";
        }
        $result = webman_dispatch($head . "\r\n" . file_get_contents('php://input'));
        file_put_contents(getenv('WEBMAN_STANDINS_LOG'), json_encode([
            'method' => $_SERVER['REQUEST_METHOD'],
            'path' => parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH),
            'status' => $result['status'],
            'body' => $result['body'],
            'stdout' => $result['stdout'],
        ], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) . "\n", FILE_APPEND | LOCK_EX);
        http_response_code($result['status']);
        foreach ($result['headers'] as $name => $value) {
            foreach ((array)$value as $item) {
                header("$name: $item", false);
            }
        }
        echo $result['body'];
        return true;
    }
}

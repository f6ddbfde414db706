<?php
/**
 * A small raw WebSocket client (RFC 6455) for the PHP tests: it talks to the server the way a
 * browser does, over a plain TCP socket to 127.0.0.1, with no library in between.
 *
 * Every read has a deadline, so a test can never hang on a silent server: a read that times out
 * returns null and the test's expected output tells what was missing.
 */

final class WsClient
{
    public const OP_CONT = 0x0;
    public const OP_TEXT = 0x1;
    public const OP_BINARY = 0x2;
    public const OP_CLOSE = 0x8;
    public const OP_PING = 0x9;
    public const OP_PONG = 0xA;

    /** HTTP status line of the handshake answer, e.g. "HTTP/1.1 101 Switching Protocols". */
    public string $statusLine = '';
    /** HTTP status code of the handshake answer (101 when upgraded). */
    public int $status = 0;
    /** Close code of the server's close frame (null until one arrived; 1005 when it had none). */
    public ?int $closeCode = null;
    public string $closeReason = '';
    /** True once the server closed the TCP connection. */
    public bool $eof = false;

    /** @var resource */
    private $sock;
    private string $buf = '';

    private function __construct($sock)
    {
        $this->sock = $sock;
    }

    /**
     * Opens a TCP connection and performs the HTTP upgrade. Returns the client even when the
     * server refused the upgrade: check ->status. Throws RuntimeException when the TCP connection
     * cannot be made or no answer arrives within $timeout seconds.
     */
    public static function connect(int $port, string $path, float $timeout = 5.0, string $host = '127.0.0.1'): self
    {
        $errno = 0;
        $errstr = '';
        $sock = @stream_socket_client("tcp://$host:$port", $errno, $errstr, $timeout);
        if ($sock === false) {
            throw new RuntimeException("cannot connect to $host:$port: $errstr ($errno)");
        }
        stream_set_blocking($sock, false);
        $client = new self($sock);
        $key = base64_encode(random_bytes(16));
        $request = "GET $path HTTP/1.1\r\n"
            . "Host: $host:$port\r\n"
            . "Upgrade: websocket\r\n"
            . "Connection: Upgrade\r\n"
            . "Sec-WebSocket-Key: $key\r\n"
            . "Sec-WebSocket-Version: 13\r\n"
            . "Origin: http://$host\r\n"
            . "\r\n";
        $client->writeAll($request, $timeout);
        $head = $client->readUntil("\r\n\r\n", $timeout);
        if ($head === null) {
            throw new RuntimeException('no handshake answer within ' . $timeout . ' s');
        }
        $lines = explode("\r\n", $head);
        $client->statusLine = $lines[0];
        if (preg_match('#^HTTP/1\.[01] (\d{3})#', $lines[0], $m)) {
            $client->status = (int)$m[1];
        }
        if ($client->status === 101) {
            $accept = null;
            foreach (array_slice($lines, 1) as $line) {
                if (stripos($line, 'Sec-WebSocket-Accept:') === 0) {
                    $accept = trim(substr($line, strlen('Sec-WebSocket-Accept:')));
                }
            }
            $expected = base64_encode(sha1($key . '258EAFA5-E914-47DA-95CA-C5AB0DC85B11', true));
            if ($accept !== $expected) {
                throw new RuntimeException("bad Sec-WebSocket-Accept: got " . var_export($accept, true) . ", expected $expected");
            }
        }
        return $client;
    }

    /** Sends one masked text frame. */
    public function send(string $text): void
    {
        $this->sendFrame(self::OP_TEXT, $text);
    }

    /** Sends a value as JSON text (slashes and unicode unescaped, as browsers' JSON.stringify). */
    public function sendJson($value): void
    {
        $this->send(json_encode($value, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE));
    }

    /** Sends one masked frame (clients must mask every frame). */
    public function sendFrame(int $opcode, string $payload, bool $fin = true): void
    {
        $len = strlen($payload);
        $head = chr(($fin ? 0x80 : 0) | $opcode);
        if ($len < 126) {
            $head .= chr(0x80 | $len);
        } elseif ($len < 65536) {
            $head .= chr(0x80 | 126) . pack('n', $len);
        } else {
            $head .= chr(0x80 | 127) . pack('J', $len);
        }
        $mask = random_bytes(4);
        $masked = $payload ^ str_repeat($mask, intdiv($len, 4) + 1);
        $this->writeAll($head . $mask . substr($masked, 0, $len), 5.0);
    }

    /**
     * Reads one whole frame: ['opcode' => int, 'payload' => string, 'fin' => bool].
     * Returns null when nothing complete arrived within $timeout seconds or the connection ended.
     */
    public function readFrame(float $timeout = 5.0): ?array
    {
        $deadline = microtime(true) + $timeout;
        $head = $this->readExactly(2, $deadline);
        if ($head === null) {
            return null;
        }
        $b0 = ord($head[0]);
        $b1 = ord($head[1]);
        $len = $b1 & 0x7F;
        if ($len === 126) {
            $ext = $this->readExactly(2, $deadline);
            if ($ext === null) {
                return null;
            }
            $len = unpack('n', $ext)[1];
        } elseif ($len === 127) {
            $ext = $this->readExactly(8, $deadline);
            if ($ext === null) {
                return null;
            }
            $len = unpack('J', $ext)[1];
        }
        $mask = null;
        if ($b1 & 0x80) {
            // Servers must not mask; read the key anyway so the stream stays in sync.
            $mask = $this->readExactly(4, $deadline);
            if ($mask === null) {
                return null;
            }
        }
        $payload = $len > 0 ? $this->readExactly($len, $deadline) : '';
        if ($payload === null) {
            return null;
        }
        if ($mask !== null) {
            $payload = substr($payload ^ str_repeat($mask, intdiv($len, 4) + 1), 0, $len);
        }
        $frame = ['opcode' => $b0 & 0x0F, 'payload' => $payload, 'fin' => (bool)($b0 & 0x80), 'masked' => $mask !== null];
        if ($frame['opcode'] === self::OP_CLOSE) {
            $this->closeCode = strlen($payload) >= 2 ? unpack('n', substr($payload, 0, 2))[1] : 1005;
            $this->closeReason = (string)substr($payload, 2);
        }
        return $frame;
    }

    /**
     * Reads the next text message (reassembling fragments and answering pings).
     * Returns null on timeout, on a close frame (see ->closeCode) or when the connection ended.
     */
    public function readMessage(float $timeout = 5.0): ?string
    {
        $deadline = microtime(true) + $timeout;
        $message = null;
        while (true) {
            $frame = $this->readFrame(max(0.0, $deadline - microtime(true)));
            if ($frame === null) {
                return null;
            }
            switch ($frame['opcode']) {
                case self::OP_PING:
                    $this->sendFrame(self::OP_PONG, $frame['payload']);
                    continue 2;
                case self::OP_PONG:
                    continue 2;
                case self::OP_CLOSE:
                    return null;
                case self::OP_TEXT:
                case self::OP_BINARY:
                    $message = $frame['payload'];
                    break;
                case self::OP_CONT:
                    $message = ($message ?? '') . $frame['payload'];
                    break;
            }
            if ($frame['fin']) {
                return $message;
            }
        }
    }

    /** Reads the next text message and decodes it as a JSON object (null on timeout/close). */
    public function readJson(float $timeout = 5.0): ?array
    {
        $message = $this->readMessage($timeout);
        if ($message === null) {
            return null;
        }
        $decoded = json_decode($message, true);
        if (!is_array($decoded)) {
            throw new RuntimeException('not a JSON object: ' . $message);
        }
        return $decoded;
    }

    /** Waits for the server's close frame (skipping other frames); returns its code or null. */
    public function readClose(float $timeout = 5.0): ?int
    {
        $deadline = microtime(true) + $timeout;
        while ($this->closeCode === null) {
            $frame = $this->readFrame(max(0.0, $deadline - microtime(true)));
            if ($frame === null) {
                break;
            }
        }
        return $this->closeCode;
    }

    /** Sends a close frame with $code and closes the socket. */
    public function close(int $code = 1000): void
    {
        if (is_resource($this->sock)) {
            try {
                $this->sendFrame(self::OP_CLOSE, pack('n', $code));
            } catch (RuntimeException $e) {
                // Already closed by the server: nothing to tell it.
            }
            fclose($this->sock);
        }
    }

    public function __destruct()
    {
        if (is_resource($this->sock)) {
            fclose($this->sock);
        }
    }

    private function writeAll(string $data, float $timeout): void
    {
        $deadline = microtime(true) + $timeout;
        while ($data !== '') {
            $w = [$this->sock];
            $r = $e = null;
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                throw new RuntimeException('write timed out');
            }
            if (@stream_select($r, $w, $e, (int)$left, (int)(fmod($left, 1) * 1e6)) < 1) {
                continue;
            }
            $n = @fwrite($this->sock, $data);
            if ($n === false || ($n === 0 && feof($this->sock))) {
                throw new RuntimeException('write failed: connection closed');
            }
            $data = (string)substr($data, $n);
        }
    }

    /** Reads more bytes into the buffer; false on timeout or end of stream. */
    private function fill(float $deadline): bool
    {
        if ($this->eof) {
            return false;
        }
        $left = $deadline - microtime(true);
        if ($left < 0) {
            return false;
        }
        $r = [$this->sock];
        $w = $e = null;
        if (@stream_select($r, $w, $e, (int)$left, (int)(fmod($left, 1) * 1e6)) < 1) {
            return false;
        }
        $chunk = @fread($this->sock, 65536);
        if ($chunk === false || $chunk === '') {
            if (feof($this->sock)) {
                $this->eof = true;
                return false;
            }
            return true;
        }
        $this->buf .= $chunk;
        return true;
    }

    private function readExactly(int $n, float $deadline): ?string
    {
        while (strlen($this->buf) < $n) {
            if (!$this->fill($deadline)) {
                return null;
            }
        }
        $out = substr($this->buf, 0, $n);
        $this->buf = (string)substr($this->buf, $n);
        return $out;
    }

    private function readUntil(string $marker, float $timeout): ?string
    {
        $deadline = microtime(true) + $timeout;
        while (($pos = strpos($this->buf, $marker)) === false) {
            if (!$this->fill($deadline)) {
                return null;
            }
        }
        $out = substr($this->buf, 0, $pos);
        $this->buf = (string)substr($this->buf, $pos + strlen($marker));
        return $out;
    }
}

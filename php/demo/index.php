<?php
$config = require __DIR__ . '/config.php';
$client = [
    'key'    => $config['app_key'],
    'wsPort' => (int)parse_url($config['websocket'], PHP_URL_PORT),
];
?>
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>webman-push demo</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/demo.css">
</head>
<body>
<main>
  <header>
    <h1>webman-push demo</h1>
    <p>
      Connection: <span id="state" class="badge">connecting</span>
      <span id="socket-id"></span>
      · private-demo: <span id="private" class="badge">not subscribed</span>
    </p>
  </header>

  <section class="card">
    <p>This page listens on channel <code>demo</code> for event <code>message</code>.
      Sending calls <code>(new Webman\Push\Api(...))->trigger('demo', 'message', [...])</code> in PHP;
      every open tab shows the message at once.</p>
    <form id="send-form">
      <input id="text" name="text" maxlength="200" placeholder="Type a message" autocomplete="off" required>
      <button type="submit">Send</button>
    </form>
    <button id="burst" type="button" class="secondary">Send from PHP every second for 5 s</button>
    <p id="status" class="status" role="status"></p>
  </section>

  <section class="card">
    <h2>Messages <small>(newest first)</small></h2>
    <ol id="messages" reversed></ol>
    <p id="empty" class="muted">No messages yet.</p>
  </section>
</main>
<script>window.DEMO = <?= json_encode($client, JSON_UNESCAPED_SLASHES) ?>;</script>
<script src="/pusher.min.js"></script>
<script src="/demo.js"></script>
</body>
</html>

<?php
require __DIR__ . '/visitor.php';
$config = require __DIR__ . '/config.php';
$client = [
    'key'     => $config['app_key'],
    'wsPort'  => (int)parse_url($config['websocket'], PHP_URL_PORT),
    'visitor' => demo_visitor_id($config), // sets the visitor cookie before push.js asks auth.php
];
?>
<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>webman-push demo chat</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/demo.css">
</head>
<body>
<main>
  <header class="top">
    <h1>webman-push chat</h1>
    <span id="state" class="badge">connecting</span>
    <form id="name-form" class="name">
      <label for="name">Your name</label>
      <input id="name" maxlength="32" autocomplete="nickname" required>
    </form>
  </header>

  <div class="layout">
    <section class="card chat">
      <h2>Channel <code>demo</code> <small>public · sent by <code>send.php</code> with <code>Api::trigger()</code></small></h2>
      <ol id="messages" class="messages"></ol>
      <p id="empty" class="muted">No messages yet. Open this page in a second browser (or a private window) and chat.</p>
      <p id="typing" class="typing" aria-live="polite"></p>
      <form id="send-form" class="send">
        <input id="text" maxlength="200" placeholder="Type a message" autocomplete="off" required>
        <button type="submit">Send</button>
      </form>
      <button id="burst" type="button" class="secondary">Send from PHP every second for 5 s</button>
      <p id="status" class="status" role="status"></p>
    </section>

    <aside class="card online">
      <h2>Online <span id="online-count" class="badge">0</span></h2>
      <ul id="online"></ul>
      <p class="muted small">Channel <code>presence-demo</code>: members signed by <code>auth.php</code>
        (<code>Api::presenceAuth()</code>), one per visitor. Typing sends <code>client-typing</code>.</p>
    </aside>
  </div>
</main>
<script>window.DEMO = <?= json_encode($client, JSON_UNESCAPED_SLASHES) ?>;</script>
<script src="/push.js"></script>
<script src="/demo.js"></script>
</body>
</html>

// The demo page: a pusher-js client connected to the webman-push server.
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };

  var pusher = new Pusher(window.DEMO.key, {
    wsHost: window.location.hostname,
    wsPort: window.DEMO.wsPort,
    forceTLS: false,
    enabledTransports: ['ws'],
    disableStats: true,
    cluster: 'mt1', // required by pusher-js, unused with wsHost
    channelAuthorization: { endpoint: '/auth.php', transport: 'ajax' }
  });

  pusher.connection.bind('state_change', function (s) {
    $('state').textContent = s.current;
    $('state').className = 'badge ' + s.current;
    $('socket-id').textContent = s.current === 'connected' ? '(socket_id ' + pusher.connection.socket_id + ')' : '';
  });

  // Public channel: anyone may listen.
  pusher.subscribe('demo').bind('message', function (data) {
    var li = document.createElement('li');
    var time = document.createElement('time');
    time.textContent = data.time || '';
    var text = document.createElement('span');
    text.className = 'text';
    text.textContent = data.text;
    var from = document.createElement('span');
    from.className = 'from';
    from.textContent = data.from || '';
    li.append(time, text, from);
    $('messages').prepend(li);
    $('empty').hidden = true;
  });

  // Private channel: subscribing asks /auth.php for a signature first.
  var priv = pusher.subscribe('private-demo');
  priv.bind('pusher:subscription_succeeded', function () {
    $('private').textContent = 'subscribed';
    $('private').className = 'badge connected';
  });
  priv.bind('pusher:subscription_error', function (e) {
    $('private').textContent = 'auth failed (' + (e.status || e.type || 'error') + ')';
    $('private').className = 'badge failed';
  });

  function post(url, body) {
    return fetch(url, { method: 'POST', body: body }).then(function (r) {
      return r.json().catch(function () { return { ok: false, error: 'HTTP ' + r.status }; });
    });
  }
  function status(text) { $('status').textContent = text; }

  $('send-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('text').value.trim();
    if (!text) return;
    post('/send.php', new URLSearchParams({ text: text })).then(function (r) {
      status(r.ok ? 'Sent.' : 'Not sent: ' + r.error);
      if (r.ok) $('text').value = '';
    }, function () { status('Not sent: web server unreachable'); });
  });

  $('burst').addEventListener('click', function () {
    var button = this;
    button.disabled = true;
    status('PHP is sending 5 messages, one per second…');
    post('/burst.php').then(function (r) {
      status(r.ok ? 'PHP sent 5 messages.' : 'PHP sent ' + (r.sent || 0) + ' of 5 messages.');
    }, function () { status('Web server unreachable'); }).then(function () { button.disabled = false; });
  });
})();

// The demo chat page, on php/push.js (the global Push) connected to the webman-push server:
//   demo           public channel: chat messages, published in PHP by send.php (Api::trigger)
//   presence-demo  presence channel: who is online (auth.php signs each visitor with Api::presenceAuth),
//                  and client-typing client events for the "… is typing" line
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var DEMO = window.DEMO;
  var NAME_KEY = 'webman-push-demo:name';
  var TYPING_EVERY = 2000;   // ms: at most one client-typing per 2 s (the server allows 10 client events/s)
  var TYPING_SHOWN = 3000;   // ms: how long "… is typing" stays without a new client-typing

  function status(text) { $('status').textContent = text; }

  // ------------------------------------------------------------------ your name (kept in localStorage)
  function loadName() {
    try { return localStorage.getItem(NAME_KEY); } catch (e) { return null; }
  }
  function saveName(value) {
    try { localStorage.setItem(NAME_KEY, value); } catch (e) { /* private mode: this page only */ }
  }
  var name = (loadName() || '').trim() || 'Guest-' + (1000 + Math.floor(Math.random() * 9000));
  saveName(name);
  $('name').value = name;

  // ------------------------------------------------------------------ the connection
  var push = new Push({
    url: 'ws://' + location.hostname + ':' + DEMO.wsPort,
    app_key: DEMO.key,
    // auth.php gets channel_name, socket_id and this name (the visitor id comes from its cookie).
    auth: { url: '/auth.php', params: function () { return { name: name }; } }
  });

  push.connection.on('state_change', function (s) {
    $('state').textContent = s.current;
    $('state').className = 'badge ' + s.current;
    if (s.current !== 'connected') renderOnline(); // the member list is rebuilt on reconnection
  });
  push.on('error', function (e) {
    console.warn('push:', e.type, e.message);
    if (e.type === 'AuthError') status('Could not join ' + e.channel + ': ' + e.message);
  });

  // ------------------------------------------------------------------ messages (public channel "demo")
  push.subscribe('demo').on('message', function (m) {
    var li = document.createElement('li');
    if (m.user_id && m.user_id === DEMO.visitor) li.className = 'mine';
    var who = document.createElement('strong');
    who.textContent = m.name || 'Someone';
    var text = document.createElement('span');
    text.className = 'text';
    text.textContent = m.text;
    var time = document.createElement('time');
    time.textContent = m.time || '';
    li.append(who, text, time);
    var list = $('messages');
    list.append(li);
    list.scrollTop = list.scrollHeight;
    $('empty').hidden = true;
    if (m.user_id) stopTyping(m.user_id); // they sent what they were typing
  });

  // ------------------------------------------------------------------ who is online (presence-demo)
  var presence; // the channel object: a new one after a change of name
  function joinPresence() {
    presence = push.subscribe('presence-demo');
    presence.on('pusher:subscription_succeeded', renderOnline);
    presence.on('pusher:member_added', renderOnline);
    presence.on('pusher:member_removed', function (member) {
      stopTyping(member.id);
      renderOnline();
    });
    presence.on('client-typing', onTyping);
  }

  function memberName(member) {
    return (member && member.info && member.info.name) || 'Guest';
  }

  function renderOnline() {
    var members = [];
    if (presence && presence.subscribed) presence.members.each(function (m) { members.push(m); });
    members.sort(function (a, b) { return memberName(a).localeCompare(memberName(b)); });
    var list = $('online');
    list.textContent = '';
    members.forEach(function (m) {
      var li = document.createElement('li');
      li.textContent = memberName(m);
      if (m.id === presence.members.myID) {
        li.className = 'me';
        var you = document.createElement('small');
        you.textContent = ' (you)';
        li.append(you);
      }
      list.append(li);
    });
    $('online-count').textContent = String(members.length);
  }

  // ------------------------------------------------------------------ typing indicator (client events)
  // Throttled: the first keystroke sends at once; keystrokes within the next 2 s send once more at
  // the end of those 2 s, if the input is not empty by then (sending a message empties it).
  var lastTypingSent = 0;
  var typingTimer = null;
  function sendTyping() {
    typingTimer = null;
    if (!$('text').value.trim() || !presence.subscribed) return;
    var wait = lastTypingSent + TYPING_EVERY - Date.now();
    if (wait > 0) {
      typingTimer = setTimeout(sendTyping, wait);
      return;
    }
    lastTypingSent = Date.now();
    presence.trigger('client-typing', {});
  }
  $('text').addEventListener('input', function () {
    if (!typingTimer) sendTyping();
  });

  var typing = {}; // user id → {name, timer}
  function onTyping(data, meta) {
    var id = meta && meta.user_id; // set by the server: who sent it, not what the sender claims
    if (!id || id === presence.members.myID) return; // another tab of this visitor
    stopTyping(id, true);
    typing[id] = {
      name: memberName(presence.members.get(id)),
      timer: setTimeout(function () { stopTyping(id); }, TYPING_SHOWN)
    };
    renderTyping();
  }
  function stopTyping(id, quiet) {
    if (!typing[id]) return;
    clearTimeout(typing[id].timer);
    delete typing[id];
    if (!quiet) renderTyping();
  }
  function renderTyping() {
    var names = Object.keys(typing).map(function (id) { return typing[id].name; }).sort();
    $('typing').textContent =
      names.length === 0 ? '' :
      names.length === 1 ? names[0] + ' is typing…' :
      names.length <= 3 ? names.slice(0, -1).join(', ') + ' and ' + names[names.length - 1] + ' are typing…' :
      'Several people are typing…';
  }

  joinPresence();

  // ------------------------------------------------------------------ forms
  $('name-form').addEventListener('submit', function (e) {
    e.preventDefault();
    $('name').blur(); // → change
  });
  $('name').addEventListener('change', function () {
    var value = this.value.trim();
    if (!value || value === name) { this.value = name; return; }
    name = value;
    saveName(name);
    // user_info is fixed when a member joins: join again so the others see the new name.
    push.unsubscribe('presence-demo');
    joinPresence();
    renderOnline();
  });

  function post(url, fields) {
    return fetch(url, { method: 'POST', body: new URLSearchParams(fields || {}) }).then(function (r) {
      return r.json().catch(function () { return { ok: false, error: 'HTTP ' + r.status }; });
    });
  }

  $('send-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('text').value.trim();
    if (!text) return;
    post('/send.php', { name: name, text: text }).then(function (r) {
      status(r.ok ? '' : 'Not sent: ' + r.error);
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

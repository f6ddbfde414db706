/*
 * webman-push client core: Push, Connection, Channel, PresenceChannel, Members, Dispatcher.
 *
 * Platform-neutral: everything that touches a socket, HTTP or the network status goes through the
 * `platform` object that an adapter supplies (platform-browser.js, platform-task.js):
 *
 *   platform.name                       'browser' | 'uniapp' | 'miniprogram'
 *   platform.open(url, handlers)        opens a WebSocket; handlers = {onopen(), onmessage(text),
 *                                       onclose(code, reason), onerror(err)}; returns {send(text), close(code, reason)}
 *   platform.request({url, headers, body, withCredentials})
 *                                       HTTP POST of a form-encoded body; Promise<{status, body}> where body
 *                                       is the response text or an already parsed object
 *   platform.onOnline(callback)         optional: call back when the network comes back
 *
 * build.mjs wraps this file and one adapter into the shipped push.js, push-vue.js, push-uniapp.js and
 * push-miniprogram.js. Keep it ES5 (no classes, arrows or let) so it runs in old WebViews and
 * mini-program engines without a transpiler.
 */
function createPush(platform) {
    'use strict';

    var VERSION = '__VERSION__';
    var root = typeof globalThis !== 'undefined' ? globalThis
        : typeof self !== 'undefined' ? self
            : typeof window !== 'undefined' ? window : {};
    var PING_FRAME = '{"event":"pusher:ping","data":{}}';
    var PONG_FRAME = '{"event":"pusher:pong","data":{}}';
    var MAX_QUEUED_CLIENT_EVENTS = 100;

    function logError() {
        if (typeof console !== 'undefined' && console.error) {
            console.error.apply(console, ['[push]'].concat(Array.prototype.slice.call(arguments)));
        }
    }

    function hasOwn(object, key) {
        return Object.prototype.hasOwnProperty.call(object, key);
    }

    function startsWith(text, prefix) {
        return typeof text === 'string' && text.slice(0, prefix.length) === prefix;
    }

    // Server frames carry `data` as a JSON string (pusher:error as an object); a string that is not
    // JSON is passed through unchanged, as pusher-js does.
    function decodeData(data) {
        if (typeof data !== 'string') {
            return data;
        }
        try {
            return JSON.parse(data);
        } catch (e) {
            return data;
        }
    }

    // ---------------------------------------------------------------- Dispatcher

    /**
     * Event emitter shared by Push, Connection and Channel. A callback that throws never breaks
     * the emitter (nor the socket handler that called it): the exception goes to onCallbackError.
     */
    function Dispatcher(onCallbackError) {
        this._callbacks = {};
        this._globalCallbacks = [];
        this._onCallbackError = onCallbackError;
    }

    Dispatcher.prototype.on = function (event, callback, context) {
        if (typeof callback !== 'function') {
            throw new TypeError('on(' + event + ', callback): callback must be a function');
        }
        var key = '_' + event;
        (this._callbacks[key] || (this._callbacks[key] = [])).push({fn: callback, context: context});
        return this;
    };

    /** off() removes everything; off(event), off(event, cb), off(null, cb), off(null, null, ctx) narrow it. */
    Dispatcher.prototype.off = function (event, callback, context) {
        if (event == null && !callback && !context) {
            this._callbacks = {};
            return this;
        }
        var keys = event == null ? Object.keys(this._callbacks) : ['_' + event];
        for (var i = 0; i < keys.length; i++) {
            var list = this._callbacks[keys[i]];
            if (!list) {
                continue;
            }
            var kept = [];
            if (callback || context) {
                for (var j = 0; j < list.length; j++) {
                    var matches = (!callback || list[j].fn === callback) && (!context || list[j].context === context);
                    if (!matches) {
                        kept.push(list[j]);
                    }
                }
            }
            if (kept.length) {
                this._callbacks[keys[i]] = kept;
            } else {
                delete this._callbacks[keys[i]];
            }
        }
        return this;
    };

    /** Called for every event with (eventName, data, metadata). */
    Dispatcher.prototype.on_global = function (callback) {
        if (typeof callback !== 'function') {
            throw new TypeError('on_global(callback): callback must be a function');
        }
        this._globalCallbacks.push(callback);
        return this;
    };

    Dispatcher.prototype.off_global = function (callback) {
        var kept = [];
        for (var i = 0; i < this._globalCallbacks.length; i++) {
            if (callback && this._globalCallbacks[i] !== callback) {
                kept.push(this._globalCallbacks[i]);
            }
        }
        this._globalCallbacks = kept;
        return this;
    };

    Dispatcher.prototype.hasListeners = function (event) {
        var list = this._callbacks['_' + event];
        return !!(list && list.length);
    };

    Dispatcher.prototype.emit = function (event) {
        var args = Array.prototype.slice.call(arguments, 1);
        var i;
        var globals = this._globalCallbacks.slice();
        for (i = 0; i < globals.length; i++) {
            this._invoke(globals[i], root, [event].concat(args), event);
        }
        var list = this._callbacks['_' + event];
        if (list) {
            list = list.slice();
            for (i = 0; i < list.length; i++) {
                this._invoke(list[i].fn, list[i].context || root, args, event);
            }
        }
        return this;
    };

    Dispatcher.prototype._invoke = function (fn, context, args, event) {
        try {
            fn.apply(context, args);
        } catch (e) {
            if (this._onCallbackError) {
                this._onCallbackError(e, event, this);
            } else {
                logError('callback for "' + event + '" threw', e);
            }
        }
    };

    // pusher-js spelling, so code written for it reads naturally.
    Dispatcher.prototype.bind = Dispatcher.prototype.on;
    Dispatcher.prototype.unbind = Dispatcher.prototype.off;
    Dispatcher.prototype.bind_global = Dispatcher.prototype.on_global;
    Dispatcher.prototype.unbind_global = Dispatcher.prototype.off_global;

    function inherit(Child, Parent) {
        Child.prototype = Object.create(Parent.prototype);
        Child.prototype.constructor = Child;
    }

    // ---------------------------------------------------------------- back-off

    /** Exponential back-off with jitter: a random delay in [d/2, d], d = min(max, base * 2^attempt). */
    function backoffDelay(attempt, base, max) {
        var d = Math.min(max, base * Math.pow(2, Math.min(attempt, 30)));
        return Math.round(d / 2 + Math.random() * d / 2);
    }

    // ---------------------------------------------------------------- Connection

    /**
     * One logical connection that survives socket replacements. States (as the original push.js):
     * 'initialized' → 'connecting' → 'connected' → 'disconnected' (→ 'connecting' while waiting to
     * reconnect). Emits 'state_change' {previous, current} and the new state's name.
     */
    function Connection(push, options) {
        Dispatcher.call(this, push._callbackError);
        this.push = push;
        this.options = options;
        this.state = 'initialized';
        this.socket_id = null;
        this.doNotConnect = 0;
        this.socket = null;
        this._token = null;
        this._attempts = 0;
        this._lastErrorCode = null;
        this._timers = {reconnect: 0, connect: 0, ping: 0, pong: 0};
    }
    inherit(Connection, Dispatcher);

    Connection.prototype.url = function () {
        var base = String(this.options.url).replace(/\/+$/, '');
        return base + '/app/' + encodeURIComponent(this.options.app_key) +
            '?protocol=7&client=webman-push-js&version=' + VERSION + '&flash=false';
    };

    Connection.prototype._setState = function (state) {
        var previous = this.state;
        if (previous === state) {
            return;
        }
        this.state = state;
        this.emit('state_change', {previous: previous, current: state});
        this.emit(state);
    };

    Connection.prototype._clearTimer = function (name) {
        if (this._timers[name]) {
            clearTimeout(this._timers[name]);
            this._timers[name] = 0;
        }
    };

    Connection.prototype._setTimer = function (name, ms, fn) {
        this._clearTimer(name);
        var self = this;
        this._timers[name] = setTimeout(function () {
            self._timers[name] = 0;
            fn.call(self);
        }, ms);
    };

    /** (Re)connect now. Also undoes disconnect() and a refused connection. */
    Connection.prototype.connect = function () {
        this.doNotConnect = 0;
        if (this.socket && (this.state === 'connected' || this.state === 'connecting')) {
            return;
        }
        this._clearTimer('reconnect');
        this._open();
    };

    /** Close for good: no reconnection until connect() is called. */
    Connection.prototype.disconnect = function () {
        this.doNotConnect = 1;
        this._clearTimer('reconnect');
        this._drop();
        this.push._onSocketLost();
        this._setState('disconnected');
    };

    // Kept from the original push.js, where close() is what disconnect() calls.
    Connection.prototype.close = Connection.prototype.disconnect;

    Connection.prototype.send = function (text) {
        if (this.state !== 'connected' || !this.socket) {
            return false;
        }
        try {
            this.socket.send(text);
            return true;
        } catch (e) {
            this.emit('error', {type: 'WebSocketError', error: e, message: String(e && e.message || e)});
            return false;
        }
    };

    Connection.prototype._open = function () {
        this._drop();
        var self = this;
        var token = {};
        this._token = token;
        this._lastErrorCode = null;
        this._setState('connecting');
        var handlers = {
            onopen: function () {
                // Nothing to do: the connection counts as established on pusher:connection_established.
            },
            onmessage: function (text) {
                if (self._token === token) {
                    self._onMessage(text);
                }
            },
            onclose: function (code, reason) {
                if (self._token === token) {
                    self._onClose(code, reason);
                }
            },
            onerror: function (error) {
                if (self._token === token) {
                    self.emit('error', {type: 'WebSocketError', error: error,
                        message: String(error && (error.message || error.errMsg) || 'WebSocket error')});
                    self._onClose(1006, 'WebSocket error');
                }
            }
        };
        var socket;
        try {
            socket = platform.open(this.url(), handlers);
        } catch (e) {
            handlers.onerror(e);
            return;
        }
        if (this._token !== token) {
            // The platform reported a failure synchronously and we already moved on.
            try { socket && socket.close(1000, ''); } catch (e) { /* ignore */ }
            return;
        }
        this.socket = socket;
        this._setTimer('connect', this.options.connectTimeout, function () {
            this._onClose(null, 'no pusher:connection_established within ' + this.options.connectTimeout + ' ms');
        });
    };

    /** Forget the current socket (its late callbacks are ignored) and stop its timers. */
    Connection.prototype._drop = function () {
        this._clearTimer('connect');
        this._clearTimer('ping');
        this._clearTimer('pong');
        this._token = null;
        var socket = this.socket;
        this.socket = null;
        if (socket) {
            try {
                socket.close(1000, '');
            } catch (e) { /* already closed */ }
        }
    };

    Connection.prototype._onClose = function (code, reason) {
        this._drop();
        this.push._onSocketLost();
        this._setState('disconnected');
        if (typeof code === 'number' && code >= 4000 && code <= 4099) {
            // Pusher protocol: 4000-4099 means "do not reconnect unchanged" (unknown app key, disabled app, over quota).
            this._clearTimer('reconnect');
            if (this._lastErrorCode !== code) {
                this.push._emitError({type: 'ConnectionRefused', code: code,
                    message: reason || 'connection refused by the server (close code ' + code + ')'});
            }
            return;
        }
        if (!this.doNotConnect) {
            this._scheduleReconnect(code);
        }
    };

    Connection.prototype._scheduleReconnect = function (code) {
        var delay;
        if (typeof code === 'number' && code >= 4200 && code <= 4299 && this._attempts === 0) {
            delay = Math.floor(Math.random() * 250); // "reconnect immediately", spread a little
        } else {
            delay = backoffDelay(this._attempts, this.options.reconnectDelay, this.options.maxReconnectDelay);
            if (typeof code === 'number' && code >= 4100 && code <= 4199) {
                delay = Math.max(delay, 1000);
            }
        }
        this._attempts++;
        this._setState('connecting');
        this._setTimer('reconnect', delay, this._open);
    };

    /** The network came back: skip the rest of the back-off. */
    Connection.prototype._onOnline = function () {
        if (this._timers.reconnect && !this.doNotConnect) {
            this._clearTimer('reconnect');
            this._attempts = 0;
            this._open();
        }
    };

    Connection.prototype._startHeartbeat = function () {
        this._clearTimer('pong');
        this._setTimer('ping', this.options.heartbeat, function () {
            if (this.state !== 'connected') {
                return;
            }
            this.send(PING_FRAME);
            this._setTimer('pong', this.options.pingTimeout, function () {
                this._onClose(null, 'no reply to pusher:ping within ' + this.options.pingTimeout + ' ms');
            });
        });
    };

    Connection.prototype._onMessage = function (text) {
        if (this._timers.pong) {
            // Any frame proves the link is alive; the next ping comes `heartbeat` ms from now.
            this._startHeartbeat();
        }
        var message;
        try {
            message = JSON.parse(text);
        } catch (e) {
            message = null;
        }
        if (!message || typeof message !== 'object' || typeof message.event !== 'string') {
            this.push._emitError({type: 'ParseError', message: 'unexpected frame from the server', data: text});
            return;
        }
        var event = message.event;
        if (event === 'pusher:connection_established') {
            var info = decodeData(message.data) || {};
            this._clearTimer('connect');
            this._attempts = 0;
            this.socket_id = info.socket_id;
            this._setState('connected');
            if (this.state === 'connected') {
                this._startHeartbeat();
                this.push._subscribeAll();
            }
            return;
        }
        if (event === 'pusher:ping') {
            this.send(PONG_FRAME);
            return;
        }
        if (event === 'pusher:pong') {
            return;
        }
        if (event === 'pusher:error') {
            var error = decodeData(message.data);
            if (!error || typeof error !== 'object') {
                error = {code: null, message: String(error)};
            }
            var code = error.code == null ? null : error.code;
            this._lastErrorCode = code;
            this.push._emitError({type: 'PusherError', code: code, message: error.message, data: error});
            return;
        }
        this.push._dispatch(event, message.channel, decodeData(message.data), message);
    };

    // ---------------------------------------------------------------- Channel

    function Channel(name, push) {
        Dispatcher.call(this, push._callbackError);
        this.name = name;
        this.channelName = name; // the original push.js's property name
        this.push = push;
        this.connection = push.connection;
        this.subscribed = false;
        this.subscriptionPending = false;
        this.subscriptionCount = null;
        this.queue = [];
        this._socketId = null; // the socket a pusher:subscribe was (or is being) sent on
    }
    inherit(Channel, Dispatcher);

    Channel.prototype.requiresAuth = function () {
        return startsWith(this.name, 'private-') || startsWith(this.name, 'presence-');
    };

    Channel.prototype._isCurrent = function (socketId) {
        var connection = this.connection;
        return this._socketId === socketId && connection.socket_id === socketId &&
            connection.state === 'connected' && this.push.channels[this.name] === this;
    };

    /** Sends pusher:subscribe (after authorising private/presence channels) once per socket. */
    Channel.prototype._subscribe = function () {
        var connection = this.connection;
        if (connection.state !== 'connected' || this.push.channels[this.name] !== this) {
            return;
        }
        var socketId = connection.socket_id;
        if (this._socketId === socketId) {
            return;
        }
        this._socketId = socketId;
        this.subscriptionPending = true;
        if (!this.requiresAuth()) {
            connection.send(JSON.stringify({event: 'pusher:subscribe', data: {channel: this.name}}));
            return;
        }
        var self = this;
        this.push._authorize(this.name, socketId).then(function (auth) {
            if (!self._isCurrent(socketId)) {
                return;
            }
            var data = {};
            for (var key in auth) {
                if (hasOwn(auth, key)) {
                    data[key] = auth[key];
                }
            }
            data.channel = self.name;
            self._onAuthorized(auth);
            connection.send(JSON.stringify({event: 'pusher:subscribe', data: data}));
        }, function (failure) {
            if (self._socketId !== socketId) {
                return;
            }
            self._socketId = null; // retried on the next (re)connection
            self.subscriptionPending = false;
            var error = {
                type: 'AuthError',
                channel: self.name,
                status: failure && failure.status != null ? failure.status : 0,
                error: String(failure && failure.message || failure),
                message: 'Unable to authorise channel ' + self.name + ': ' + String(failure && failure.message || failure)
            };
            self.emit('pusher:subscription_error', error);
            self.push._emitError(error);
        });
    };

    Channel.prototype._onAuthorized = function () {};

    /** The socket went away: subscribe again on the next one. */
    Channel.prototype._onSocketLost = function () {
        this.subscribed = false;
        this.subscriptionPending = false;
        this._socketId = null;
    };

    Channel.prototype._handleInternal = function (event, data) {
        if (event === 'subscription_succeeded') {
            this.subscribed = true;
            this.subscriptionPending = false;
            this._flush();
            this.emit('pusher:subscription_succeeded', data);
        } else if (event === 'subscription_count') {
            this.subscriptionCount = data && data.subscription_count;
            this.emit('pusher:subscription_count', data);
        }
    };

    /**
     * Sends a client event (name must start with 'client-'). Events triggered before the
     * subscription succeeded are queued and sent once it has; returns false if the queue is full.
     */
    Channel.prototype.trigger = function (event, data) {
        if (!startsWith(event, 'client-')) {
            throw new Error("Event '" + event + "' should start with 'client-'");
        }
        var frame = JSON.stringify({event: event, data: data === undefined ? {} : data, channel: this.name});
        if (this.queue.length >= MAX_QUEUED_CLIENT_EVENTS) {
            this.push._emitError({type: 'QueueFull', channel: this.name, event: event,
                message: 'client event ' + event + ' dropped: ' + MAX_QUEUED_CLIENT_EVENTS +
                    ' events already wait for the subscription to ' + this.name});
            return false;
        }
        this.queue.push(frame);
        this._flush();
        return true;
    };

    Channel.prototype._flush = function () {
        while (this.subscribed && this.connection.state === 'connected' && this.queue.length) {
            if (!this.connection.send(this.queue[0])) {
                return;
            }
            this.queue.shift();
        }
    };

    Channel.prototype.unsubscribe = function () {
        this.push.unsubscribe(this.name);
    };

    // ---------------------------------------------------------------- presence

    /** The members of a presence channel: members (id → info), count, myID, me, each(), get(). */
    function Members() {
        this.reset();
    }

    Members.prototype.reset = function () {
        this.members = {};
        this.count = 0;
        this.myID = null;
        this.me = null;
    };

    Members.prototype.get = function (id) {
        id = String(id);
        return hasOwn(this.members, id) ? {id: id, info: this.members[id]} : null;
    };

    /** Calls callback({id, info}) for every member. */
    Members.prototype.each = function (callback) {
        for (var id in this.members) {
            if (hasOwn(this.members, id)) {
                callback({id: id, info: this.members[id]});
            }
        }
    };

    Members.prototype._onSubscribed = function (data) {
        var presence = (data && data.presence) || {};
        var hash = presence.hash || {};
        var ids = presence.ids || [];
        this.members = {};
        var id;
        for (id in hash) {
            if (hasOwn(hash, id)) {
                this.members[String(id)] = hash[id];
            }
        }
        for (var i = 0; i < ids.length; i++) {
            id = String(ids[i]);
            if (!hasOwn(this.members, id)) {
                this.members[id] = null;
            }
        }
        this.count = typeof presence.count === 'number' ? presence.count : Object.keys(this.members).length;
        this.me = this.myID == null ? null : this.get(this.myID);
    };

    Members.prototype._add = function (data) {
        if (!data || data.user_id == null) {
            return null;
        }
        var id = String(data.user_id);
        var isNew = !hasOwn(this.members, id);
        this.members[id] = data.user_info === undefined ? null : data.user_info;
        if (!isNew) {
            return null;
        }
        this.count++;
        return this.get(id);
    };

    Members.prototype._remove = function (data) {
        if (!data || data.user_id == null) {
            return null;
        }
        var member = this.get(data.user_id);
        if (member) {
            delete this.members[member.id];
            this.count--;
        }
        return member;
    };

    function PresenceChannel(name, push) {
        Channel.call(this, name, push);
        this.members = new Members();
    }
    inherit(PresenceChannel, Channel);

    PresenceChannel.prototype._onAuthorized = function (auth) {
        var channelData = decodeData(auth.channel_data);
        if (channelData && channelData.user_id != null) {
            this.members.myID = String(channelData.user_id);
        }
    };

    PresenceChannel.prototype._onSocketLost = function () {
        Channel.prototype._onSocketLost.call(this);
        this.members.reset();
    };

    PresenceChannel.prototype._handleInternal = function (event, data) {
        var member;
        if (event === 'subscription_succeeded') {
            this.members._onSubscribed(data);
            this.subscribed = true;
            this.subscriptionPending = false;
            this._flush();
            this.emit('pusher:subscription_succeeded', this.members);
        } else if (event === 'member_added') {
            member = this.members._add(data);
            if (member) {
                this.emit('pusher:member_added', member);
            }
        } else if (event === 'member_removed') {
            member = this.members._remove(data);
            if (member) {
                this.emit('pusher:member_removed', member);
            }
        } else {
            Channel.prototype._handleInternal.call(this, event, data);
        }
    };

    // ---------------------------------------------------------------- Push

    var onlineListening = false;

    /**
     * new Push({url, app_key, auth, heartbeat?, pingTimeout?, connectTimeout?, reconnectDelay?,
     *           maxReconnectDelay?})
     * `auth` is the auth endpoint URL, or {url, headers, params, withCredentials}, or a function
     * ({channel_name, socket_id}) → auth response object or Promise of one.
     */
    function Push(options) {
        if (!(this instanceof Push)) {
            return new Push(options);
        }
        options = options || {};
        if (!options.url) {
            throw new Error('new Push(options): options.url is required, e.g. "ws://127.0.0.1:3131"');
        }
        if (!options.app_key) {
            throw new Error('new Push(options): options.app_key is required');
        }
        var config = {};
        for (var key in options) {
            if (hasOwn(options, key)) {
                config[key] = options[key];
            }
        }
        config.heartbeat = config.heartbeat || 25000;
        config.pingTimeout = config.pingTimeout || 10000;
        config.connectTimeout = config.connectTimeout || 10000;
        config.reconnectDelay = config.reconnectDelay || 1000;
        config.maxReconnectDelay = config.maxReconnectDelay || 5000;

        var self = this;
        this._callbackError = function (error, event) {
            if (event === 'error') {
                logError('an "error" listener threw', error);
                return;
            }
            self._emitError({type: 'CallbackError', event: event, error: error,
                message: 'a listener for "' + event + '" threw: ' + String(error && error.message || error)});
        };
        Dispatcher.call(this, this._callbackError);
        this.config = config;
        this.channels = {};
        this.connection = new Connection(this, config);
        Push.instances.push(this);
        if (!onlineListening && platform.onOnline) {
            onlineListening = true;
            try {
                platform.onOnline(function () {
                    for (var i = 0; i < Push.instances.length; i++) {
                        Push.instances[i].connection._onOnline();
                    }
                });
            } catch (e) { /* no network status API here */ }
        }
        this.connection.connect();
    }
    inherit(Push, Dispatcher);

    Push.instances = [];
    Push.VERSION = VERSION;
    Push.platform = platform.name;

    Push.prototype.subscribe = function (name) {
        if (hasOwn(this.channels, name)) {
            return this.channels[name];
        }
        var channel = startsWith(name, 'presence-') ? new PresenceChannel(name, this) : new Channel(name, this);
        this.channels[name] = channel;
        channel._subscribe();
        return channel;
    };

    Push.prototype.unsubscribe = function (name) {
        if (!hasOwn(this.channels, name)) {
            return;
        }
        var channel = this.channels[name];
        delete this.channels[name];
        var wasSent = channel._socketId !== null;
        channel._onSocketLost();
        channel.queue = [];
        if (wasSent) {
            this.connection.send(JSON.stringify({event: 'pusher:unsubscribe', data: {channel: name}}));
        }
    };

    Push.prototype.unsubscribeAll = function () {
        var names = Object.keys(this.channels);
        for (var i = 0; i < names.length; i++) {
            this.unsubscribe(names[i]);
        }
        this.channels = {};
    };

    /** The subscribed channel called `name`, or undefined. */
    Push.prototype.channel = function (name) {
        return hasOwn(this.channels, name) ? this.channels[name] : undefined;
    };

    Push.prototype.allChannels = function () {
        var list = [];
        for (var name in this.channels) {
            if (hasOwn(this.channels, name)) {
                list.push(this.channels[name]);
            }
        }
        return list;
    };

    Push.prototype.connect = function () {
        this.connection.connect();
    };

    Push.prototype.disconnect = function () {
        this.connection.disconnect();
    };

    Push.prototype._emitError = function (error) {
        if (this.hasListeners('error')) {
            this.emit('error', error);
        } else {
            logError(error.message, error);
        }
    };

    Push.prototype._subscribeAll = function () {
        var channels = this.allChannels();
        for (var i = 0; i < channels.length; i++) {
            channels[i]._subscribe();
        }
    };

    Push.prototype._onSocketLost = function () {
        var channels = this.allChannels();
        for (var i = 0; i < channels.length; i++) {
            channels[i]._onSocketLost();
        }
    };

    Push.prototype._dispatch = function (event, channelName, data, message) {
        var channel = channelName == null ? undefined : this.channel(channelName);
        if (startsWith(event, 'pusher_internal:')) {
            if (channel) {
                channel._handleInternal(event.slice('pusher_internal:'.length), data);
            }
            return;
        }
        // Events without a channel (e.g. pusher:signin_success) go to the Push instance; its 'error'
        // event is reserved for the PushError objects above.
        var target = channel || (channelName == null && event !== 'error' ? this : null);
        if (!target) {
            return;
        }
        if (message.user_id !== undefined) {
            target.emit(event, data, {user_id: message.user_id});
        } else {
            target.emit(event, data);
        }
    };

    /** POSTs channel_name and socket_id (form-encoded, as the original) to the auth endpoint. */
    Push.prototype._authorize = function (channelName, socketId) {
        var auth = this.config.auth;
        if (typeof auth === 'function') {
            return new Promise(function (resolve) {
                resolve(auth({channel_name: channelName, socket_id: socketId}));
            }).then(checkAuthResponse);
        }
        var settings = auth && typeof auth === 'object' ? auth : {url: auth};
        var url = settings.url || settings.endpoint;
        if (!url) {
            return Promise.reject(new Error('no auth endpoint: set options.auth to the URL of your auth route'));
        }
        var headers = {'Content-Type': 'application/x-www-form-urlencoded'};
        var extra = typeof settings.headers === 'function' ? settings.headers() : settings.headers;
        var key;
        for (key in extra || {}) {
            if (hasOwn(extra, key)) {
                headers[key] = extra[key];
            }
        }
        var body = 'channel_name=' + encodeURIComponent(channelName) + '&socket_id=' + encodeURIComponent(socketId);
        var params = typeof settings.params === 'function' ? settings.params() : settings.params;
        for (key in params || {}) {
            if (hasOwn(params, key)) {
                body += '&' + encodeURIComponent(key) + '=' + encodeURIComponent(params[key]);
            }
        }
        var request;
        try {
            request = platform.request({url: url, headers: headers, body: body,
                withCredentials: settings.withCredentials !== false});
        } catch (e) {
            return Promise.reject(e);
        }
        return request.then(function (response) {
            if (!(response.status >= 200 && response.status < 300)) {
                var failure = new Error('auth endpoint answered HTTP ' + response.status);
                failure.status = response.status;
                throw failure;
            }
            return checkAuthResponse(response.body, response.status);
        });
    };

    function checkAuthResponse(body, status) {
        var parsed = body;
        if (typeof parsed === 'string') {
            try {
                parsed = JSON.parse(parsed);
            } catch (e) {
                parsed = null;
            }
        }
        if (!parsed || typeof parsed !== 'object' || typeof parsed.auth !== 'string') {
            var failure = new Error('auth response is not JSON with an "auth" string');
            failure.status = status == null ? 0 : status;
            throw failure;
        }
        return parsed;
    }

    Push.Channel = Channel;
    Push.PresenceChannel = PresenceChannel;
    Push.Members = Members;
    Push.Connection = Connection;
    Push.Dispatcher = Dispatcher;

    return Push;
}

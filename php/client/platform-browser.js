/*
 * Browser adapter: WebSocket, and fetch (XMLHttpRequest where fetch is missing) for the auth request.
 * The auth request sends cookies (credentials: 'include' / withCredentials) unless
 * auth.withCredentials is false; for a cross-origin auth URL the server must answer with
 * Access-Control-Allow-Credentials: true and an explicit Access-Control-Allow-Origin.
 */
function browserPlatform() {
    'use strict';
    var scope = typeof window !== 'undefined' ? window : typeof self !== 'undefined' ? self : {};

    function open(url, handlers) {
        var ws = new WebSocket(url);
        ws.onopen = function () {
            handlers.onopen();
        };
        ws.onmessage = function (event) {
            handlers.onmessage(event.data);
        };
        ws.onclose = function (event) {
            handlers.onclose(event.code, event.reason);
        };
        ws.onerror = function (event) {
            handlers.onerror(event);
        };
        return {
            send: function (text) {
                ws.send(text);
            },
            close: function (code, reason) {
                ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
                try {
                    ws.close(code, reason);
                } catch (e) {
                    ws.close();
                }
            }
        };
    }

    function requestWithFetch(options) {
        return fetch(options.url, {
            method: 'POST',
            headers: options.headers,
            body: options.body,
            credentials: options.withCredentials ? 'include' : 'same-origin'
        }).then(function (response) {
            return response.text().then(function (text) {
                return {status: response.status, body: text};
            });
        });
    }

    function requestWithXhr(options) {
        return new Promise(function (resolve, reject) {
            var xhr = new XMLHttpRequest();
            xhr.open('POST', options.url, true);
            xhr.withCredentials = !!options.withCredentials;
            for (var name in options.headers) {
                if (Object.prototype.hasOwnProperty.call(options.headers, name)) {
                    xhr.setRequestHeader(name, options.headers[name]);
                }
            }
            xhr.onload = function () {
                resolve({status: xhr.status, body: xhr.responseText});
            };
            xhr.onerror = function () {
                reject(new Error('auth request to ' + options.url + ' failed'));
            };
            xhr.send(options.body);
        });
    }

    return {
        name: 'browser',
        open: open,
        request: typeof fetch === 'function' ? requestWithFetch : requestWithXhr,
        onOnline: function (callback) {
            if (scope.addEventListener) {
                scope.addEventListener('online', callback);
            }
        }
    };
}

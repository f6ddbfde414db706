/*
 * uni-app and mini-program adapter. Both expose the same API shape (uni.* / wx.*): one SocketTask
 * per connectSocket() call, and request() for HTTP, which works in App and mini-program builds
 * where there is no XMLHttpRequest. `getApi` returns the `uni` or `wx` object when called, so the
 * global is looked up lazily.
 *
 * Mini-programs keep no cookies: pass what your auth route needs in auth.headers (for example
 * {Authorization: 'Bearer …'} or a Cookie header) and allow the auth URL's domain in the
 * mini-program console.
 */
function taskPlatform(name, getApi) {
    'use strict';

    function open(url, handlers) {
        var api = getApi();
        // uni.connectSocket returns a SocketTask only when success/fail/complete is passed.
        var task = api.connectSocket({
            url: url,
            complete: function () {},
            fail: function (error) {
                handlers.onerror(error);
            }
        });
        if (!task) {
            throw new Error(name + ': connectSocket() returned no SocketTask');
        }
        task.onOpen(function () {
            handlers.onopen();
        });
        task.onMessage(function (result) {
            handlers.onmessage(result.data);
        });
        task.onClose(function (result) {
            handlers.onclose(result && result.code, result && result.reason);
        });
        task.onError(function (error) {
            handlers.onerror(error);
        });
        return {
            send: function (text) {
                task.send({data: text});
            },
            close: function (code, reason) {
                task.close({code: code || 1000, reason: reason || ''});
            }
        };
    }

    function request(options) {
        var api = getApi();
        return new Promise(function (resolve, reject) {
            api.request({
                url: options.url,
                method: 'POST',
                header: options.headers,
                data: options.body,
                withCredentials: options.withCredentials, // honoured by uni-app's H5 build only
                success: function (result) {
                    resolve({status: result.statusCode, body: result.data});
                },
                fail: function (error) {
                    reject(new Error((error && error.errMsg) || ('auth request to ' + options.url + ' failed')));
                }
            });
        });
    }

    return {
        name: name,
        open: open,
        request: request,
        onOnline: function (callback) {
            var api = getApi();
            if (api && api.onNetworkStatusChange) {
                api.onNetworkStatusChange(function (result) {
                    if (result && result.isConnected) {
                        callback();
                    }
                });
            }
        }
    };
}

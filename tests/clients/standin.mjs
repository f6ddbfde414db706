// A thin stand-in for the uni-app (`uni`) and mini-program (`wx`) APIs the clients use: each
// connectSocket() returns a SocketTask backed by a real `ws` WebSocket, request() is a real HTTP
// request (Node's fetch). Both platforms have the same shape, so one stand-in serves both.

import {copyFileSync, mkdtempSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {REPO, requireTestPackage} from '../browser/harness.mjs';

const WebSocket = requireTestPackage('ws');
const httpFetch = globalThis.fetch;

export function createStandIn() {
    const api = {
        /** URLs passed to connectSocket, in order. */
        sockets: [],
        /** Every text frame the server sent, across all sockets. */
        frames: [],
        /** Every request(): {url, method, header, data}. */
        requests: [],
        networkListeners: [],

        connectSocket(options) {
            api.sockets.push(options.url);
            const ws = new WebSocket(options.url, {headers: options.header});
            const task = {
                onOpen(callback) {
                    ws.on('open', () => callback({header: {}}));
                },
                onMessage(callback) {
                    ws.on('message', (data, isBinary) => {
                        if (!isBinary) {
                            api.frames.push(data.toString('utf8'));
                        }
                        callback({data: isBinary ? data : data.toString('utf8')});
                    });
                },
                onClose(callback) {
                    ws.on('close', (code, reason) => callback({code, reason: reason.toString('utf8')}));
                },
                onError(callback) {
                    ws.on('error', (error) => callback({errMsg: error.message}));
                },
                send({data, success, fail, complete}) {
                    ws.send(data, (error) => {
                        if (error) {
                            fail?.({errMsg: `sendSocketMessage:fail ${error.message}`});
                        } else {
                            success?.({errMsg: 'sendSocketMessage:ok'});
                        }
                        complete?.({});
                    });
                },
                close({code = 1000, reason = '', success, complete} = {}) {
                    ws.close(code, reason);
                    success?.({errMsg: 'closeSocket:ok'});
                    complete?.({});
                },
            };
            ws.on('error', () => {}); // reported through onError; never an unhandled 'error' event
            setImmediate(() => {
                options.success?.({errMsg: 'connectSocket:ok'});
                options.complete?.({errMsg: 'connectSocket:ok'});
            });
            return task;
        },

        request({url, method = 'GET', header = {}, data, dataType = 'json', success, fail, complete}) {
            api.requests.push({url, method, header, data});
            let body = data;
            if (data !== undefined && typeof data !== 'string') {
                const type = Object.entries(header).find(([name]) => name.toLowerCase() === 'content-type')?.[1] || '';
                body = type.includes('x-www-form-urlencoded') ? new URLSearchParams(data).toString() : JSON.stringify(data);
            }
            httpFetch(url, {method, headers: header, body: method === 'GET' ? undefined : body}).then(async (response) => {
                const text = await response.text();
                let parsed = text;
                if (dataType === 'json') {
                    try {
                        parsed = JSON.parse(text);
                    } catch {
                        // uni/wx hand back the raw text when it is not JSON
                    }
                }
                success?.({statusCode: response.status, data: parsed, header: Object.fromEntries(response.headers)});
            }, (error) => {
                fail?.({errMsg: `request:fail ${error.message}`});
            }).finally(() => complete?.({}));
        },

        onNetworkStatusChange(callback) {
            api.networkListeners.push(callback);
        },
    };
    return api;
}

/**
 * Imports a shipped ES-module client (php/push-uniapp.js, php/push-miniprogram.js) as it is.
 * php/ has no package.json saying "type": "module", so a copy named .mjs is imported.
 */
export async function loadClient(file) {
    const dir = mkdtempSync(join(tmpdir(), 'push-client-module-'));
    const target = join(dir, file.replace(/\.js$/, '.mjs'));
    copyFileSync(join(REPO, 'php', file), target);
    return (await import(pathToFileURL(target).href)).default;
}

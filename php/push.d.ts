/**
 * TypeScript declarations for the webman-push clients:
 *   push.js              <script src="/plugin/webman/push/push.js"> → global `Push` (also CommonJS)
 *   push-vue.js          import { Push } from './push-vue.js'   (or the default export)
 *   push-uniapp.js       import Push from './push-uniapp.js'
 *   push-miniprogram.js  import Push from './push-miniprogram.js'
 *
 * Use: add this file to your tsconfig "include" (or `/// <reference path="push.d.ts" />`).
 */

declare namespace WebmanPush {
    type Callback = (...args: any[]) => void;

    /** Event emitter behind Push, Connection and Channel. A listener that throws never breaks delivery: the exception becomes an 'error' event on the Push instance. */
    interface Dispatcher {
        on(event: string, callback: Callback, context?: any): this;
        /** off() removes everything; off(event), off(event, callback), off(null, callback) narrow it. */
        off(event?: string | null, callback?: Callback | null, context?: any): this;
        /** Listener for every event: (eventName, data, metadata). */
        on_global(callback: (event: string, data?: any, metadata?: any) => void): this;
        off_global(callback?: Callback): this;
        emit(event: string, ...args: any[]): this;
        hasListeners(event: string): boolean;
        /** pusher-js spellings of on / off / on_global / off_global. */
        bind(event: string, callback: Callback, context?: any): this;
        unbind(event?: string | null, callback?: Callback | null, context?: any): this;
        bind_global(callback: (event: string, data?: any, metadata?: any) => void): this;
        unbind_global(callback?: Callback): this;
    }

    /** What the auth endpoint returns: {"auth": "<key>:<signature>", "channel_data"?: "<json>"}. */
    interface AuthResponse {
        auth: string;
        channel_data?: string;
        [key: string]: any;
    }

    interface AuthOptions {
        /** Auth route, e.g. '/plugin/webman/push/auth'. It receives a form-encoded POST of channel_name and socket_id. */
        url?: string;
        /** Alias of url. */
        endpoint?: string;
        /** Extra request headers (e.g. Authorization); a function is called for every request. */
        headers?: Record<string, string> | (() => Record<string, string>);
        /** Extra form fields sent with channel_name and socket_id. */
        params?: Record<string, string | number> | (() => Record<string, string | number>);
        /** Send cookies, also cross-origin (fetch credentials 'include'); default true. */
        withCredentials?: boolean;
    }

    /** Authorise without HTTP: return (or resolve to) the auth response. */
    type AuthFunction = (request: { channel_name: string; socket_id: string }) => AuthResponse | Promise<AuthResponse>;

    interface Options {
        /** WebSocket base URL, e.g. 'ws://127.0.0.1:3131'; the client connects to url + '/app/' + app_key. */
        url: string;
        app_key: string;
        /** Needed for private- and presence- channels. */
        auth?: string | AuthOptions | AuthFunction;
        /** ms between pings; default 25000. */
        heartbeat?: number;
        /** ms to wait for any frame after a ping before reconnecting; default 10000. */
        pingTimeout?: number;
        /** ms to wait for pusher:connection_established after opening a socket; default 10000. */
        connectTimeout?: number;
        /** First reconnect delay in ms (doubled per failed attempt, randomised to 50-100%); default 1000. */
        reconnectDelay?: number;
        /** Cap of the reconnect delay in ms; default 5000. */
        maxReconnectDelay?: number;
        [key: string]: any;
    }

    type State = 'initialized' | 'connecting' | 'connected' | 'disconnected';

    interface StateChange {
        previous: State;
        current: State;
    }

    /** Argument of the 'error' event of a Push instance. */
    interface PushError {
        /**
         * PusherError: a pusher:error frame from the server (code, message).
         * ConnectionRefused: closed with 4000-4099; the client does not reconnect (call connect()).
         * AuthError: the auth endpoint failed (status, channel); also sent as the channel's pusher:subscription_error.
         * CallbackError: a listener threw (event, error).
         * QueueFull: a client event was dropped while waiting for the subscription.
         * ParseError: the server sent a frame that is not a JSON event.
         */
        type: 'PusherError' | 'ConnectionRefused' | 'AuthError' | 'CallbackError' | 'QueueFull' | 'ParseError';
        message: string;
        code?: number | null;
        status?: number;
        channel?: string;
        event?: string;
        error?: any;
        data?: any;
    }

    interface Connection extends Dispatcher {
        readonly state: State;
        /** Set on pusher:connection_established; replaced by every reconnection. */
        readonly socket_id: string | null;
        /** Connect now (also after disconnect() or a refused connection). */
        connect(): void;
        /** Close and stop reconnecting. */
        disconnect(): void;
        close(): void;
        /** Sends a raw frame when connected; returns false otherwise. */
        send(frame: string): boolean;
        on(event: 'state_change', callback: (change: StateChange) => void, context?: any): this;
        on(event: State, callback: () => void, context?: any): this;
        /** Transport errors (the client reconnects by itself). */
        on(event: 'error', callback: (error: { type: 'WebSocketError'; message: string; error: any }) => void, context?: any): this;
        on(event: string, callback: Callback, context?: any): this;
    }

    /** Metadata passed as the second listener argument: user_id of the sender of a presence client event. */
    interface EventMetadata {
        user_id: string;
    }

    interface SubscriptionError {
        type: 'AuthError';
        channel: string;
        status: number;
        error: string;
        message: string;
    }

    interface Channel extends Dispatcher {
        readonly name: string;
        /** Same as name (the original push.js's property). */
        readonly channelName: string;
        readonly subscribed: boolean;
        readonly subscriptionPending: boolean;
        readonly subscriptionCount: number | null;
        /** Client event frames waiting for the subscription. */
        readonly queue: string[];
        /**
         * Sends a client event (private and presence channels). Before the subscription succeeded it is
         * queued; returns false if the queue (100) is full. Throws if the name does not start with 'client-'.
         */
        trigger(event: string, data?: any): boolean;
        unsubscribe(): void;
        on(event: 'pusher:subscription_succeeded', callback: (data: any) => void, context?: any): this;
        on(event: 'pusher:subscription_error', callback: (error: SubscriptionError) => void, context?: any): this;
        on(event: string, callback: (data: any, metadata?: EventMetadata) => void, context?: any): this;
    }

    interface Member<Info = any> {
        id: string;
        info: Info;
    }

    interface Members<Info = any> {
        /** user id → user_info */
        readonly members: Record<string, Info>;
        readonly count: number;
        readonly myID: string | null;
        readonly me: Member<Info> | null;
        get(id: string | number): Member<Info> | null;
        each(callback: (member: Member<Info>) => void): void;
    }

    interface PresenceChannel<Info = any> extends Channel {
        readonly members: Members<Info>;
        on(event: 'pusher:subscription_succeeded', callback: (members: Members<Info>) => void, context?: any): this;
        on(event: 'pusher:member_added' | 'pusher:member_removed', callback: (member: Member<Info>) => void, context?: any): this;
        on(event: 'pusher:subscription_error', callback: (error: SubscriptionError) => void, context?: any): this;
        on(event: string, callback: (data: any, metadata?: EventMetadata) => void, context?: any): this;
    }

    interface Push extends Dispatcher {
        readonly config: Options;
        readonly connection: Connection;
        /** name → channel */
        readonly channels: Record<string, Channel>;
        subscribe<Info = any>(name: `presence-${string}`): PresenceChannel<Info>;
        subscribe(name: string): Channel;
        unsubscribe(name: string): void;
        unsubscribeAll(): void;
        channel(name: string): Channel | PresenceChannel | undefined;
        allChannels(): Array<Channel | PresenceChannel>;
        connect(): void;
        disconnect(): void;
        on(event: 'error', callback: (error: PushError) => void, context?: any): this;
        on(event: string, callback: Callback, context?: any): this;
    }

    interface PushConstructor {
        new (options: Options): Push;
        (options: Options): Push;
        readonly prototype: Push;
        /** Every instance created so far. */
        readonly instances: Push[];
        readonly VERSION: string;
        readonly platform: 'browser' | 'uniapp' | 'miniprogram';
    }
}

/** Global from <script src="push.js">. */
declare var Push: WebmanPush.PushConstructor;
type Push = WebmanPush.Push;

declare module '*push-vue.js' {
    const Push: WebmanPush.PushConstructor;
    type Push = WebmanPush.Push;
    export { Push };
    export default Push;
}
declare module '*push-vue' {
    const Push: WebmanPush.PushConstructor;
    type Push = WebmanPush.Push;
    export { Push };
    export default Push;
}
declare module '*push-uniapp.js' {
    const Push: WebmanPush.PushConstructor;
    type Push = WebmanPush.Push;
    export { Push };
    export default Push;
}
declare module '*push-uniapp' {
    const Push: WebmanPush.PushConstructor;
    type Push = WebmanPush.Push;
    export { Push };
    export default Push;
}
declare module '*push-miniprogram.js' {
    const Push: WebmanPush.PushConstructor;
    type Push = WebmanPush.Push;
    export { Push };
    export default Push;
}
declare module '*push-miniprogram' {
    const Push: WebmanPush.PushConstructor;
    type Push = WebmanPush.Push;
    export { Push };
    export default Push;
}

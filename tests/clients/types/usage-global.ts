/// <reference path="../../../php/push.d.ts" />
const push: Push = new Push({url: 'ws://127.0.0.1:3131', app_key: 'k', auth: '/plugin/webman/push/auth', heartbeat: 25000});
push.connection.on('state_change', (c) => { const s: string = c.current; console.log(s, push.connection.socket_id); });
push.on('error', (e) => console.log(e.type, e.code, e.message));
const ch = push.subscribe('private-x');
ch.on('message', (data, meta) => console.log(data, meta?.user_id));
ch.trigger('client-typing', {on: true});
const room = push.subscribe<{name: string}>('presence-room');
room.members.each((m) => console.log(m.id, m.info.name));
room.on('pusher:member_added', (m) => console.log(m.info.name));
console.log(room.members.count, room.members.me?.id, push.channel('x'), push.allChannels().length, Push.instances.length);
push.unsubscribe('private-x'); push.unsubscribeAll(); push.disconnect();
new Push({url: 'ws://x', app_key: 'k', auth: {url: '/auth', headers: () => ({Authorization: 'Bearer t'})}});
new Push({url: 'ws://x', app_key: 'k', auth: async ({channel_name, socket_id}) => ({auth: channel_name + socket_id})});

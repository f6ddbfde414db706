/// <reference path="../../../php/push.d.ts" />
// Each line below must be a type error (the test counts them).
const p = new Push({app_key: 'k'});
p.subscribe(1);
p.connection.on('state_change', (change) => { const n: number = change.current; });
p.subscribe('presence-room').members.each((member) => { const n: number = member.id; });

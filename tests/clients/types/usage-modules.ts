/// <reference path="../../../php/push.d.ts" />
import PushUni from '../utils/push-uniapp.js';
import PushWx from './push-miniprogram';
import {Push as PushVue} from '@/lib/push-vue.js';
const a = new PushUni({url: 'wss://example.test', app_key: 'k', auth: {url: 'https://example.test/auth', headers: {'X-Token': 't'}}});
const b: PushWx = new PushWx({url: 'wss://example.test', app_key: 'k'});
const c: PushVue = new PushVue({url: 'wss://example.test', app_key: 'k'});
a.subscribe('news').on('update', (d) => console.log(d));
console.log(b.connection.state, c.config.app_key);
export {};

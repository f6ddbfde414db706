// The shipped client files are generated (php/client/build.mjs); pages load them directly, so the
// committed copies must match what the build produces from the sources.

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {staleFiles} from '../../php/client/build.mjs';

test('php/push.js, push-vue.js, push-uniapp.js and push-miniprogram.js are up to date with php/client', () => {
    assert.deepEqual(staleFiles(), [], 'run: node php/client/build.mjs');
});

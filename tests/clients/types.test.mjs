// php/push.d.ts describes the public API: typical code type-checks under --strict, misuse does not.
// Needs the `typescript` package in tests/node; skipped without it.

import assert from 'node:assert/strict';
import {test} from 'node:test';
import {join} from 'node:path';
import {REPO, requireTestPackage} from '../browser/harness.mjs';

let ts = null;
try {
    ts = requireTestPackage('typescript');
} catch {
    // not installed
}
const skip = ts ? false : 'typescript is not installed in tests/node';
const dir = join(REPO, 'tests', 'clients', 'types');

function diagnostics(file) {
    const program = ts.createProgram([join(dir, file)], {
        noEmit: true, strict: true, target: ts.ScriptTarget.ES2017, module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Node10, types: [],
    });
    return ts.getPreEmitDiagnostics(program).map((d) => {
        const {line} = d.file ? d.file.getLineAndCharacterOfPosition(d.start) : {line: -1};
        return {line: line + 1, message: ts.flattenDiagnosticMessageText(d.messageText, ' ')};
    });
}

test('script-tag and module usage of push.js, push-vue.js, push-uniapp.js and push-miniprogram.js type-checks', {skip}, () => {
    assert.deepEqual(diagnostics('usage-global.ts'), []);
    assert.deepEqual(diagnostics('usage-modules.ts'), []);
});

test('misuse (no url, non-string channel, wrong payload types) is rejected', {skip}, () => {
    const lines = [...new Set(diagnostics('misuse.ts').map((d) => d.line))];
    assert.deepEqual(lines, [3, 4, 5, 6]);
});

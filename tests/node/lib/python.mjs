// tests/python/.venv with the pinned requirements (tests/python/requirements.txt), for tests that
// drive Python tools: created with python3 -m venv + pip install when missing or out of date.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './server.mjs';

export const PY_DIR = join(REPO, 'tests/python');
const VENV = join(PY_DIR, '.venv');
export const VENV_PYTHON = join(VENV, 'bin/python');
const REQUIREMENTS = join(PY_DIR, 'requirements.txt');
const STAMP = join(VENV, '.requirements.sha256');

/** Runs a command to its end (killed after `timeoutMs`); resolves to {code, signal, stdout, stderr}. */
export function run(command, args, { timeoutMs, env } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Makes tests/python/.venv match requirements.txt; does nothing when it already does. */
export async function ensureVenv() {
  const want = createHash('sha256').update(readFileSync(REQUIREMENTS)).digest('hex');
  if (existsSync(VENV_PYTHON) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === want) return;
  if (!existsSync(VENV_PYTHON)) {
    const made = await run(process.env.PYTHON3 || 'python3', ['-m', 'venv', '--clear', VENV], { timeoutMs: 120000 });
    if (made.code !== 0) throw new Error(`python3 -m venv failed (Debian: apt-get install python3-venv):\n${made.stdout}${made.stderr}`);
  }
  const pip = await run(VENV_PYTHON, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-q', '-r', REQUIREMENTS], { timeoutMs: 600000 });
  if (pip.code !== 0) throw new Error(`pip install -r tests/python/requirements.txt failed:\n${pip.stdout}${pip.stderr}`);
  writeFileSync(STAMP, `${want}\n`);
}

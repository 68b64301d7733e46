// node --import ./register.mjs out/main/index.js: replaces the `electron` module (its binary cannot
// run here) with stub.mjs, so the built main process can boot under plain Node.
import { register } from 'node:module';

const stub = new URL('./stub.mjs', import.meta.url).href;
register(
  'data:text/javascript,' +
    encodeURIComponent(`export async function resolve(s, c, next) { return s === 'electron' ? { url: ${JSON.stringify(stub)}, shortCircuit: true } : next(s, c); }`),
);

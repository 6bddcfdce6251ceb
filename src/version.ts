import { readFileSync } from 'node:fs';

/** This build's version, from package.json: what each worker reports on its heartbeat. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

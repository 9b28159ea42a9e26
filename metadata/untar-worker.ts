/**
 * untar.ts on a worker thread: pglite-template.ts starts this with `{ file, dir, last }` as its
 * data, and the main thread goes on loading the server's modules while the files are written.
 */
import { workerData } from 'node:worker_threads';
import { untar } from './untar.ts';

const { file, dir, last } = workerData as { file: string; dir: string; last: string };
untar(file, dir, last);

/**
 * Serves the platform on PORT/HOST (`npm start`, through main.ts), on PostgreSQL when DATABASE_URL
 * is set and on embedded PGlite (data in XRM_DATA_DIR) otherwise. SIGTERM/SIGINT finish in-flight
 * requests and close the database cleanly; the last log line is "closed".
 */
import closeWithGrace from 'close-with-grace';
import { buildPlatform } from './app.ts';
import { loadConfig } from './config.ts';

const config = loadConfig();
const platform = await buildPlatform(config);
const { app } = platform;

async function close(): Promise<void> {
  await platform.close();
  app.log.info('closed');
  // wait for the log's asynchronous writes: at exit, pino writes what is still buffered synchronously,
  // which could land before a write still in flight (a "closed" line above "shutting down")
  const log = app.log as typeof app.log & { flush?: (done: (err?: Error) => void) => void };
  await new Promise<void>((resolve) => (log.flush ? log.flush(() => resolve()) : resolve()));
}

// close-with-grace's own messages (a timeout, a second signal) go through pino too
const grace = closeWithGrace({ delay: 10_000, logger: app.log }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  else app.log.info({ signal }, 'shutting down');
  await close();
});

await app.listen({ port: config.port, host: config.host });
try {
  await platform.start();
  app.log.info(
    { database: platform.services.database.kind, dataDir: config.databaseUrl ? undefined : config.dataDir },
    `xrm-platform ready on http://${config.host}:${config.port}`,
  );
} catch (err) {
  app.log.fatal({ err }, 'could not start');
  grace.uninstall(); // else its beforeExit handler would close again and exit with 0
  await close();
  process.exitCode = 1;
}

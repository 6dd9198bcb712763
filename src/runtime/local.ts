import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import sharp from 'sharp';
import { ConfigError, loadConfig } from '../config/config.js';
import { authenticates, startLocalServer } from './local-server.js';

/** `npm start`: read the environment, start the local server, stop cleanly on SIGINT/SIGTERM. */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = pino({ level: config.logLevel });
  // The page sits beside this file's folder both in src/ and in the built dist/.
  const webRoot = fileURLToPath(new URL('../web/', import.meta.url));
  let server;
  try {
    server = await startLocalServer(config, { logger, webRoot });
  } catch (error) {
    logger.fatal({ err: error }, error instanceof Error ? error.message : 'start-up failed');
    process.exit(1);
  }
  // sharp gives libvips one thread per image on glibc unless MALLOC_ARENA_MAX is set (npm start sets it).
  if (sharp.concurrency() === 1 && availableParallelism() > 1) {
    logger.warn({ cores: availableParallelism() }, 'sharp uses one thread per image: start with MALLOC_ARENA_MAX=2 (as npm start does) to use every core');
  }
  const auth = !authenticates(config) ? 'off' : config.oidc ? 'sign-in or api-key' : 'api-key';
  logger.info(
    { url: server.url, dataDir: config.dataDir, concurrency: config.concurrency, auth },
    auth === 'off' ? `listening on ${server.url}; auth is off (set OIDC_ISSUER or API_KEYS, or create a key, to turn it on)` : `listening on ${server.url}`,
  );
  const stop = async () => {
    logger.info('stopping');
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

void main();

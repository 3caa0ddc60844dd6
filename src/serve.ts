// The service's start-up, loaded by main.ts once the young generation is capped.
import { Logger } from '@nestjs/common';
import { ConfigError, loadConfig } from './config/app-config.js';
import { dataDirProblem, downloadDirProblem } from './database/data-dir-check.js';
import { describeError } from './engine/http-error.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
  const problem = (await dataDirProblem(config.dataDir)) ?? (await downloadDirProblem(config.downloadDir));
  if (problem) {
    console.error(`Cannot start: ${problem}`);
    process.exit(2);
  }
  // a failure nothing awaited (a full disk under some write) is reported, and the service keeps serving
  process.on('unhandledRejection', (reason) => {
    new Logger('Main').error(`unexpected failure, the service keeps running: ${describeError(reason)}`, reason instanceof Error ? reason.stack : undefined);
  });
  // loaded after the checks, so that a refused boot answers at once
  const { createApp } = await import('./bootstrap.js');
  const app = await createApp(config);
  await app.listen(config.port, config.host);
  new Logger('Main').log(`Listening on http://${config.host}:${config.port} (API under /api, Swagger UI at /docs); downloads go to ${config.downloadDir}`);
}

void main();

// The `tributary` command: settings, logging, signals and exit codes around the composition root.
//
// Exit status: 0 after a clean shutdown (or --help, --version, --print-config), 1 when the broker
// cannot start or shut down cleanly, 2 for an invalid setting, 130/143 when a second signal
// forces the exit.
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { type RunningBroker, StartupError, startBroker } from './broker-app.js';
import { helpText } from './config/help.js';
import { ConfigError, formatConfig, loadConfig } from './config/load.js';
import type { AppConfig } from './config/settings.js';

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

function createLogger(config: AppConfig) {
  const options = { level: config['log-level'], base: { pid: process.pid }, name: 'tributary' };
  if (config['log-pretty']) {
    // Loaded only when asked for: it is the slowest import of all.
    return import('pino-pretty').then((pretty) =>
      pino(options, pretty.build({ sync: true, colorize: process.stdout.isTTY === true })),
    );
  }
  return Promise.resolve(pino(options, pino.destination({ sync: true })));
}

/**
 * Runs the command. Resolves to the exit status once the command is over: immediately for
 * --help and friends and for start-up failures, after shutdown when the broker ran.
 */
export async function run(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: CliIo = processIo,
): Promise<number> {
  let loaded: ReturnType<typeof loadConfig>;
  try {
    loaded = loadConfig({ argv, env, readFile: (path) => readFileSync(path, 'utf8') });
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`tributary: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const { config } = loaded;
  if (config.help) {
    io.stdout(helpText(version()));
    return 0;
  }
  if (config.version) {
    io.stdout(`${version()}\n`);
    return 0;
  }
  if (config['print-config']) {
    io.stdout(formatConfig(loaded));
    return 0;
  }

  const logger = await createLogger(config);
  let broker: RunningBroker;
  try {
    broker = await startBroker(config, logger);
  } catch (e) {
    const message = e instanceof StartupError ? e.message : `failed to start: ${(e as Error).message}`;
    logger.fatal({ err: e }, message);
    io.stderr(`tributary: ${message}\n`);
    return 1;
  }

  return new Promise<number>((resolve) => {
    let signalled = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      signalled++;
      if (signalled > 1) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        resolve(signal === 'SIGINT' ? 130 : 143);
        return;
      }
      logger.info({ signal }, 'signal received: shutting down (send it again to exit at once)');
      broker.close().then(
        () => resolve(0),
        (e: unknown) => {
          logger.error({ err: e }, 'shutdown failed');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

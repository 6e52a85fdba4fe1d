import { readFileSync } from 'node:fs';
import { defaultBrokerConfig } from '@tributary/core';
import { describe, expect, it } from 'vitest';
import { run } from '../src/cli.js';
import { groupCoordinatorSettings } from '../src/config/group-settings.js';
import { settingsTable } from '../src/config/help.js';
import { ConfigError, formatConfig, loadConfig } from '../src/config/load.js';

function files(map: Record<string, string>) {
  return (path: string) => {
    const text = map[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return text;
  };
}

const load = (argv: string[], env: Record<string, string> = {}, fs: Record<string, string> = {}) =>
  loadConfig({ argv, env, readFile: files(fs) });

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('settings', () => {
  it('defaults to file storage in ./data on 127.0.0.1:9092', () => {
    const { config, sources } = load([]);
    expect(config).toMatchObject({ host: '127.0.0.1', port: 9092, 'data-dir': './data', memory: false });
    expect(sources.port).toBe('default');
  });

  it('takes flags over environment over file over defaults', () => {
    const fs = { '/etc/t.properties': 'port=9001\nnum-partitions=4\nlog-level=debug\n' };
    const env = {
      TRIBUTARY_PORT: '9002',
      TRIBUTARY_NUM_PARTITIONS: '5',
      TRIBUTARY_CONFIG: '/etc/t.properties',
    };
    const { config, sources, file } = load(['--port', '9003'], env, fs);
    expect(file).toBe('/etc/t.properties');
    expect(config.port).toBe(9003);
    expect(sources.port).toBe('flag');
    expect(config['num-partitions']).toBe(5);
    expect(sources['num-partitions']).toBe('env');
    expect(config['log-level']).toBe('debug');
    expect(sources['log-level']).toBe('file');
    expect(config['message-max-bytes']).toBe(1_048_588);
  });

  it('reads --name=value, boolean flags, --no- flags and short flags', () => {
    expect(load(['--port=0', '--memory']).config).toMatchObject({ port: 0, memory: true });
    expect(load(['--no-auto-create-topics']).config['auto-create-topics']).toBe(false);
    expect(load(['--auto-create-topics=false']).config['auto-create-topics']).toBe(false);
    expect(load(['-h']).config.help).toBe(true);
    expect(load([], { TRIBUTARY_MEMORY: 'yes' }).config.memory).toBe(true);
  });

  it('reads a JSON config file with typed values', () => {
    const fs = {
      'c.json': JSON.stringify({
        port: 1234,
        memory: true,
        flush: 'always',
        'advertised-host': 'kafka.local',
      }),
    };
    expect(load(['--config', 'c.json'], {}, fs).config).toMatchObject({
      port: 1234,
      memory: true,
      flush: 'always',
      'advertised-host': 'kafka.local',
    });
  });

  it('names the setting and where it came from when a value is invalid', () => {
    expect(configError(() => load(['--port', 'abc'])).message).toBe(
      'invalid setting port (from --port): expected an integer, got "abc"',
    );
    const range = configError(() => load([], { TRIBUTARY_PORT: '70000' }));
    expect(range.setting).toBe('port');
    expect(range.message).toMatch(/^invalid setting port \(from TRIBUTARY_PORT\): .*65535/);
    expect(configError(() => load(['--flush', 'sometimes'])).message).toMatch(
      /^invalid setting flush \(from --flush\): .*"always".*"interval"/,
    );
    expect(configError(() => load(['--memory=maybe'])).message).toMatch(/memory .*expected true or false/);
    expect(configError(() => load(['--cluster-id', 'short'])).message).toMatch(/cluster-id .*22 base64url/);
    const fromFile = configError(() =>
      load(['--config', 'c.json'], {}, { 'c.json': '{"num-partitions": 0}' }),
    );
    expect(fromFile.message).toMatch(/^invalid setting num-partitions \(from c.json: num-partitions\)/);
  });

  it('refuses unknown flags, unknown file keys and stray arguments', () => {
    expect(configError(() => load(['--prot', '1'])).message).toBe('unknown flag --prot (see --help)');
    expect(configError(() => load(['9092'])).message).toMatch(/unexpected argument "9092"/);
    expect(configError(() => load(['--port'])).message).toBe('--port needs a value');
    expect(configError(() => load(['--no-port'])).message).toMatch(/only for on\/off settings/);
    const unknown = configError(() => load(['--config', 'a.properties'], {}, { 'a.properties': 'prot=1\n' }));
    expect(unknown.message).toBe('config file a.properties: unknown setting prot');
    const flagOnly = configError(() => load(['--config', 'a.json'], {}, { 'a.json': '{"help": true}' }));
    expect(flagOnly.message).toBe('config file a.json: unknown setting help');
  });

  it('says why a config file cannot be used', () => {
    expect(configError(() => load(['--config', 'missing.json'])).message).toBe(
      'cannot read config file missing.json: no such file',
    );
    expect(
      configError(() => load(['--config', 'bad.json'], {}, { 'bad.json': '{"port": 9' })).message,
    ).toMatch(/^config file bad.json is not valid JSON: /);
    expect(configError(() => load(['--config', 'bad.json'], {}, { 'bad.json': '[1]' })).message).toBe(
      'config file bad.json must hold a JSON object of settings',
    );
    expect(configError(() => load(['--config', 'b.conf'], {}, { 'b.conf': 'port 9092\n' })).message).toBe(
      'config file b.conf line 1: expected key=value',
    );
  });

  it('prints the effective settings in a form it reads back', () => {
    const loaded = load(['--port', '9100', '--memory'], { TRIBUTARY_LOG_LEVEL: 'warn' });
    const text = formatConfig(loaded);
    expect(text).toMatch(/^port=9100 +# flag$/m);
    expect(text).toMatch(/^log-level=warn +# env$/m);
    expect(text).toMatch(/^host=127\.0\.0\.1 +# default$/m);
    expect(text).not.toMatch(/^help=/m);
    const again = load(['--config', 'printed.properties'], {}, { 'printed.properties': text });
    expect(again.config).toEqual({ ...loaded.config, config: 'printed.properties' });
  });

  it('is documented: docs/configuration.md holds the table generated from the settings', () => {
    const doc = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
    expect(doc).toContain(settingsTable());
  });
});

describe('consumer group settings (KIP-848)', () => {
  it("default to the core's defaults, and reach the core's config", () => {
    const core = defaultBrokerConfig();
    const mapped = groupCoordinatorSettings(load([]).config);
    for (const [key, value] of Object.entries(mapped))
      expect(value, key).toEqual(core[key as keyof typeof core]);
    const set = groupCoordinatorSettings(
      load([
        '--group-consumer-heartbeat-interval-ms',
        '1000',
        '--group-consumer-min-heartbeat-interval-ms=500',
        '--group-consumer-session-timeout-ms=10000',
        '--group-consumer-min-session-timeout-ms=6000',
        '--group-consumer-max-size=8',
        '--group-consumer-migration-policy=upgrade',
        '--group-coordinator-rebalance-protocols=classic',
      ]).config,
    );
    expect(set).toMatchObject({
      groupConsumerHeartbeatIntervalMs: 1000,
      groupConsumerMinHeartbeatIntervalMs: 500,
      groupConsumerMaxHeartbeatIntervalMs: 15_000,
      groupConsumerSessionTimeoutMs: 10_000,
      groupConsumerMinSessionTimeoutMs: 6000,
      groupConsumerMaxSize: 8,
      groupConsumerMigrationPolicy: 'upgrade',
      groupCoordinatorRebalanceProtocols: ['classic'],
    });
  });

  it('reads lists with commas from flags, the environment and properties, and as arrays from JSON', () => {
    expect(load(['--group-consumer-assignors', 'range']).config['group-consumer-assignors']).toEqual([
      'range',
    ]);
    expect(
      load([], { TRIBUTARY_GROUP_CONSUMER_ASSIGNORS: ' range , uniform ' }).config[
        'group-consumer-assignors'
      ],
    ).toEqual(['range', 'uniform']);
    const props = { 'g.properties': 'group-consumer-assignors=range,uniform\n' };
    expect(load(['--config', 'g.properties'], {}, props).config['group-consumer-assignors']).toEqual([
      'range',
      'uniform',
    ]);
    const json = { 'g.json': JSON.stringify({ 'group-consumer-assignors': ['range'] }) };
    expect(load(['--config', 'g.json'], {}, json).config['group-consumer-assignors']).toEqual(['range']);
  });

  it('refuses unknown, repeated or missing list values, naming the setting', () => {
    expect(configError(() => load(['--group-consumer-assignors', 'sticky'])).message).toMatch(
      /^invalid setting group-consumer-assignors \(from --group-consumer-assignors\): .*"uniform".*"range".*, got "sticky"$/,
    );
    expect(configError(() => load(['--group-consumer-assignors', 'range,range'])).message).toBe(
      'invalid setting group-consumer-assignors (from --group-consumer-assignors): must not name a value twice, got "range,range"',
    );
    expect(configError(() => load([], { TRIBUTARY_GROUP_CONSUMER_ASSIGNORS: ',' })).message).toBe(
      'invalid setting group-consumer-assignors (from TRIBUTARY_GROUP_CONSUMER_ASSIGNORS): must name at least one, got ","',
    );
    expect(configError(() => load(['--group-coordinator-rebalance-protocols', 'consumer'])).message).toBe(
      'invalid setting group-coordinator-rebalance-protocols (from --group-coordinator-rebalance-protocols): must include classic (always served), got "consumer"',
    );
    expect(configError(() => load(['--group-consumer-migration-policy', 'sideways'])).setting).toBe(
      'group-consumer-migration-policy',
    );
    expect(configError(() => load(['--group-consumer-max-size', '0'])).setting).toBe(
      'group-consumer-max-size',
    );
  });

  it('keeps intervals and session timeouts within their bounds as Kafka does, naming the setting given', () => {
    expect(configError(() => load(['--group-consumer-heartbeat-interval-ms', '1000'])).message).toBe(
      'invalid setting group-consumer-heartbeat-interval-ms (from --group-consumer-heartbeat-interval-ms): must be greater than or equal to group-consumer-min-heartbeat-interval-ms (5000), got 1000',
    );
    expect(
      configError(() => load([], { TRIBUTARY_GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS: '20000' })).message,
    ).toBe(
      'invalid setting group-consumer-heartbeat-interval-ms (from TRIBUTARY_GROUP_CONSUMER_HEARTBEAT_INTERVAL_MS): must be less than or equal to group-consumer-max-heartbeat-interval-ms (15000), got 20000',
    );
    // Only the bound was given: the bound is at fault.
    expect(configError(() => load(['--group-consumer-min-heartbeat-interval-ms', '20000'])).message).toBe(
      'invalid setting group-consumer-min-heartbeat-interval-ms (from --group-consumer-min-heartbeat-interval-ms): must be less than or equal to group-consumer-max-heartbeat-interval-ms (15000), got 20000',
    );
    expect(configError(() => load(['--group-consumer-max-session-timeout-ms', '40000'])).message).toBe(
      'invalid setting group-consumer-max-session-timeout-ms (from --group-consumer-max-session-timeout-ms): must be greater than or equal to group-consumer-min-session-timeout-ms (45000), got 40000',
    );
    expect(configError(() => load(['--group-consumer-session-timeout-ms', '70000'])).message).toBe(
      'invalid setting group-consumer-session-timeout-ms (from --group-consumer-session-timeout-ms): must be less than or equal to group-consumer-max-session-timeout-ms (60000), got 70000',
    );
    const props = {
      'g.properties': 'group-consumer-min-session-timeout-ms=1000\ngroup-consumer-session-timeout-ms=4000\n',
    };
    const tooShort = configError(() => load(['--config', 'g.properties'], {}, props));
    expect(tooShort.setting).toBe('group-consumer-session-timeout-ms');
    expect(tooShort.message).toBe(
      'invalid setting group-consumer-session-timeout-ms (from g.properties line 2): must be greater than group-consumer-heartbeat-interval-ms (5000), got 4000',
    );
    // Consistent values are accepted.
    expect(
      load([
        '--group-consumer-min-heartbeat-interval-ms=100',
        '--group-consumer-heartbeat-interval-ms=200',
        '--group-consumer-min-session-timeout-ms=1000',
        '--group-consumer-session-timeout-ms=1000',
      ]).config['group-consumer-session-timeout-ms'],
    ).toBe(1000);
  });
});

describe('the command without starting a broker', () => {
  const capture = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t) },
    };
  };

  it('exits 2 with one line naming the setting for an invalid value', async () => {
    const { out, io } = capture();
    expect(await run(['--num-partitions', '-3'], {}, io)).toBe(2);
    expect(out.stderr).toMatch(
      /^tributary: invalid setting num-partitions \(from --num-partitions\): [^\n]+\n$/,
    );
    expect(out.stdout).toBe('');
  });

  it('prints help, version and the effective config, exiting 0', async () => {
    const help = capture();
    expect(await run(['--help'], {}, help.io)).toBe(0);
    expect(help.out.stdout).toMatch(/--data-dir <text>/);
    expect(help.out.stdout).toMatch(/env: TRIBUTARY_DATA_DIR/);
    const version = capture();
    expect(await run(['-v'], {}, version.io)).toBe(0);
    expect(version.out.stdout).toMatch(/^\d+\.\d+\.\d+/);
    const printed = capture();
    expect(await run(['--print-config', '--port', '1'], {}, printed.io)).toBe(0);
    expect(printed.out.stdout).toMatch(/^port=1 +# flag$/m);
  });
});

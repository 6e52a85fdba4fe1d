import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run } from '../src/cli.js';
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

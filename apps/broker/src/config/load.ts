// Reads the settings from flags, environment variables and an optional config file, in that order
// of precedence over the defaults, and validates each against its schema.
import { extname } from 'node:path';
import { COMPARISON_WORDS, type Comparison, compare } from '@tributary/core';
import { PropertiesSyntaxError, type Property, parseProperties } from '../properties.js';
import { CROSS_CHECKS } from './group-settings.js';
import {
  type AppConfig,
  defaults,
  envName,
  SETTING_NAMES,
  SETTINGS,
  type SettingName,
  type SettingSpec,
} from './settings.js';

export type SettingSource = 'flag' | 'env' | 'file' | 'default';

/** A setting that cannot be used; the message names it and where it came from. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    /** The setting at fault, when one is. */
    readonly setting?: string,
  ) {
    super(message);
  }
}

export interface LoadedConfig {
  readonly config: AppConfig;
  readonly sources: Readonly<Record<SettingName, SettingSource>>;
  /** Where the config file was read from, if any. */
  readonly file: string | null;
}

export interface ConfigInputs {
  /** Command-line arguments after the program name. */
  readonly argv: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads the config file; throws an error with a `code` (ENOENT, EACCES) as node:fs does. */
  readonly readFile: (path: string) => string;
}

type Raw = { value: unknown; origin: string };

const isSetting = (name: string): name is SettingName => Object.hasOwn(SETTINGS, name);
const spec = (name: SettingName): SettingSpec => SETTINGS[name];

export function loadConfig(inputs: ConfigInputs): LoadedConfig {
  const fromFlags = parseFlags(inputs.argv);
  const fromEnv = readEnv(inputs.env);
  const filePath = (fromFlags.get('config')?.value ?? fromEnv.get('config')?.value ?? null) as string | null;
  const fromFile =
    filePath === null ? new Map<SettingName, Raw>() : readConfigFile(filePath, inputs.readFile);

  const config = defaults() as Record<SettingName, unknown>;
  const sources = {} as Record<SettingName, SettingSource>;
  const origins = new Map<SettingName, string>();
  for (const name of SETTING_NAMES) {
    const layers: [SettingSource, Raw | undefined][] = [
      ['flag', fromFlags.get(name)],
      ['env', fromEnv.get(name)],
      ['file', fromFile.get(name)],
    ];
    const found = layers.find(([, raw]) => raw !== undefined);
    if (found === undefined) {
      sources[name] = 'default';
      continue;
    }
    const [source, raw] = found as [SettingSource, Raw];
    config[name] = validate(name, raw);
    sources[name] = source;
    origins.set(name, raw.origin);
  }
  for (const check of CROSS_CHECKS) {
    // The setting at fault is the one given: when only the other side was, it is that one.
    const flip = sources[check.setting] === 'default' && sources[check.other] !== 'default';
    const at = flip ? check.other : check.setting;
    const against = flip ? check.setting : check.other;
    const must = flip ? FLIPPED[check.must] : check.must;
    const value = config[at] as number;
    const bound = config[against] as number;
    if (compare(value, must, bound)) continue;
    throw new ConfigError(
      `invalid setting ${at} (from ${origins.get(at) ?? 'default'}): must be ${COMPARISON_WORDS[must]} ${against} (${bound}), got ${value}`,
      at,
    );
  }
  return { config: config as AppConfig, sources, file: filePath };
}

const FLIPPED: Record<Comparison, Comparison> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function validate(name: SettingName, raw: Raw): unknown {
  const s = spec(name);
  const typed = typeof raw.value === 'string' ? fromText(name, s, raw) : raw.value;
  const result = s.schema.safeParse(typed);
  if (result.success) return result.data;
  const reason = result.error.issues[0]?.message ?? 'invalid value';
  throw new ConfigError(
    `invalid setting ${name} (from ${raw.origin}): ${reason}, got ${JSON.stringify(raw.value)}`,
    name,
  );
}

/** Text (a flag, an environment variable, a properties line) to the setting's type. */
function fromText(name: SettingName, s: SettingSpec, raw: Raw): unknown {
  const text = (raw.value as string).trim();
  // An empty value means "not set" for settings whose default is derived (null).
  if (text === '' && s.schema.safeParse(null).success) return null;
  switch (s.kind) {
    case 'string':
    case 'enum':
    case 'list':
      return raw.value;
    case 'integer':
      if (!/^-?\d+$/.test(text))
        throw new ConfigError(
          `invalid setting ${name} (from ${raw.origin}): expected an integer, got ${JSON.stringify(raw.value)}`,
          name,
        );
      return Number(text);
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(text)) return true;
      if (/^(false|0|no|off)$/i.test(text)) return false;
      throw new ConfigError(
        `invalid setting ${name} (from ${raw.origin}): expected true or false, got ${JSON.stringify(raw.value)}`,
        name,
      );
  }
}

function parseFlags(argv: readonly string[]): Map<SettingName, Raw> {
  const out = new Map<SettingName, Raw>();
  const shorts = new Map<string, SettingName>();
  for (const name of SETTING_NAMES) {
    const short = spec(name).short;
    if (short !== undefined) shorts.set(short, name);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (/^-[A-Za-z]$/.test(arg)) {
      const name = shorts.get(arg.slice(1));
      if (name === undefined) throw new ConfigError(`unknown flag ${arg} (see --help)`);
      out.set(name, { value: true, origin: arg });
      continue;
    }
    if (!arg.startsWith('--') || arg === '--') {
      throw new ConfigError(`unexpected argument ${JSON.stringify(arg)}: settings are given as --name value`);
    }
    const eq = arg.indexOf('=');
    let flag = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    let inline: string | undefined = eq === -1 ? undefined : arg.slice(eq + 1);
    let negated = false;
    if (!isSetting(flag) && flag.startsWith('no-') && isSetting(flag.slice(3))) {
      flag = flag.slice(3);
      negated = true;
    }
    if (!isSetting(flag)) throw new ConfigError(`unknown flag --${flag} (see --help)`, flag);
    const s = spec(flag);
    const origin = `--${negated ? 'no-' : ''}${flag}`;
    if (s.kind === 'boolean') {
      if (negated && inline !== undefined) throw new ConfigError(`${origin} takes no value`, flag);
      out.set(flag, { value: inline ?? !negated, origin });
      continue;
    }
    if (negated) throw new ConfigError(`--no-${flag} is only for on/off settings`, flag);
    if (inline === undefined) {
      inline = argv[i + 1];
      if (inline === undefined || (inline.startsWith('--') && inline.length > 2))
        throw new ConfigError(`--${flag} needs a value`, flag);
      i++;
    }
    out.set(flag, { value: inline, origin });
  }
  return out;
}

function readEnv(env: ConfigInputs['env']): Map<SettingName, Raw> {
  const out = new Map<SettingName, Raw>();
  for (const name of SETTING_NAMES) {
    if (spec(name).flagOnly) continue;
    const key = envName(name);
    const value = env[key];
    if (value !== undefined) out.set(name, { value, origin: key });
  }
  return out;
}

function readConfigFile(path: string, readFile: ConfigInputs['readFile']): Map<SettingName, Raw> {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String(e);
    throw new ConfigError(`cannot read config file ${path}: ${why}`, 'config');
  }
  const entries: [string, unknown, string][] = [];
  if (extname(path).toLowerCase() === '.json') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`config file ${path} is not valid JSON: ${(e as Error).message}`, 'config');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ConfigError(`config file ${path} must hold a JSON object of settings`, 'config');
    for (const [key, value] of Object.entries(parsed)) entries.push([key, value, `${path}: ${key}`]);
  } else {
    let properties: Property[];
    try {
      properties = parseProperties(text);
    } catch (e) {
      if (!(e instanceof PropertiesSyntaxError)) throw e;
      throw new ConfigError(`config file ${path} ${e.message}`, 'config');
    }
    for (const { key, value, line } of properties) entries.push([key, value, `${path} line ${line}`]);
  }
  const out = new Map<SettingName, Raw>();
  for (const [key, value, origin] of entries) {
    if (!isSetting(key) || spec(key).flagOnly)
      throw new ConfigError(`config file ${path}: unknown setting ${key}`, key);
    if (key === 'config')
      throw new ConfigError(`config file ${path}: a config file cannot name another`, key);
    out.set(key, { value, origin });
  }
  return out;
}

/** The settings as `key=value` lines with their sources: valid as a config file. */
export function formatConfig(loaded: LoadedConfig): string {
  const lines: string[] = [];
  for (const name of SETTING_NAMES) {
    const s = spec(name);
    if (s.flagOnly || name === 'config') continue;
    const value = loaded.config[name];
    const shown = s.secret && value !== null ? '[redacted]' : value === null ? '' : String(value);
    const entry = `${name}=${shown}`;
    lines.push(`${entry.padEnd(48)} # ${loaded.sources[name]}`);
  }
  return `${lines.join('\n')}\n`;
}

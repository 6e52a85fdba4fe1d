// `tributary --help` and the settings table in docs/configuration.md, both from the settings table.
import { defaults, envName, SETTING_NAMES, SETTINGS, type SettingName } from './settings.js';

function valueHint(name: SettingName): string {
  const s = SETTINGS[name];
  if (s.kind === 'boolean') return '';
  if (s.kind === 'integer') return ' <n>';
  if (s.kind === 'enum')
    return ` <${(s.schema as unknown as { unwrap(): { options: string[] } }).unwrap().options.join('|')}>`;
  if (s.kind === 'list') return ` <${(s.values ?? ['name']).join('|')},...>`;
  return ' <text>';
}

function shownDefault(name: SettingName): string {
  const value = defaults()[name];
  if (value === null) return name === 'config' ? '(none)' : '(derived)';
  return String(value);
}

export function helpText(version: string): string {
  const lines = [
    `tributary ${version}: a Kafka-compatible broker`,
    '',
    'Usage: tributary [--name value | --name=value | --flag | --no-flag]...',
    '',
    'Every setting is also read from the environment (TRIBUTARY_NAME) and from a config file',
    '(--config), in that order of precedence: flags, environment, file, defaults.',
    '',
  ];
  for (const name of SETTING_NAMES) {
    const s = SETTINGS[name];
    const flag = `${s.short !== undefined ? `-${s.short}, ` : '    '}--${name}${valueHint(name)}`;
    lines.push(`  ${flag}`);
    lines.push(`        ${s.description}`);
    const facts = [];
    if (s.kind !== 'boolean' || defaults()[name] === true) facts.push(`default: ${shownDefault(name)}`);
    if (!s.flagOnly) facts.push(`env: ${envName(name)}`);
    if (s.kafka !== undefined) facts.push(`Kafka: ${s.kafka}`);
    if (facts.length > 0) lines.push(`        (${facts.join('; ')})`);
  }
  return `${lines.join('\n')}\n`;
}

/** The Markdown table of settings in docs/configuration.md (a test keeps the two equal). */
export function settingsTable(): string {
  const rows = ['| Flag | Environment | Default | Kafka | Description |', '| --- | --- | --- | --- | --- |'];
  for (const name of SETTING_NAMES) {
    const s = SETTINGS[name];
    const env = s.flagOnly ? '' : `\`${envName(name)}\``;
    const def = s.flagOnly ? '' : `\`${shownDefault(name)}\``;
    const kafka = s.kafka === undefined ? '' : `\`${s.kafka}\``;
    const flag = `\`--${name}${valueHint(name)}\``.replace(/\|/g, '\\|');
    rows.push(`| ${flag} | ${env} | ${def} | ${kafka} | ${s.description.replace(/\|/g, '\\|')} |`);
  }
  return `${rows.join('\n')}\n`;
}

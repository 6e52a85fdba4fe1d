// `key=value` text, as the config file and the data directory's meta.properties are written.

export interface Property {
  readonly key: string;
  readonly value: string;
  /** 1-based line number. */
  readonly line: number;
}

/** A line that is neither blank, a comment, nor `key=value`. */
export class PropertiesSyntaxError extends Error {
  override readonly name = 'PropertiesSyntaxError';
  constructor(readonly line: number) {
    super(`line ${line}: expected key=value`);
  }
}

/** Parses the lines; `#` or `!` opens a comment at the start of a line or after whitespace. */
export function parseProperties(text: string): Property[] {
  const out: Property[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.replace(/(^|\s)[#!].*$/, '').trim();
    if (line === '') continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new PropertiesSyntaxError(n + 1);
    out.push({ key: line.slice(0, eq).trim(), value: line.slice(eq + 1).trim(), line: n + 1 });
  }
  return out;
}

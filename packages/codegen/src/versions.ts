/** Kafka's highest representable version: an open range ("3+") ends here. */
export const MAX_VERSION = 0x7fff;

/** An inclusive version range, as Kafka specs write them: "none", "3", "1-4", "2+". */
export class Versions {
  static readonly NONE = new Versions(0, -1);
  static readonly ALL = new Versions(0, MAX_VERSION);

  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {}

  static parse(text: string, what: string): Versions {
    const s = text.trim();
    if (s === 'none') return Versions.NONE;
    let m = /^(\d+)\+$/.exec(s);
    if (m) return new Versions(checked(Number(m[1]), what, text), MAX_VERSION);
    m = /^(\d+)-(\d+)$/.exec(s);
    if (m) {
      const lo = checked(Number(m[1]), what, text);
      const hi = checked(Number(m[2]), what, text);
      if (hi < lo) throw new Error(`${what}: invalid version range "${text}" (end before start)`);
      return new Versions(lo, hi);
    }
    m = /^(\d+)$/.exec(s);
    if (m) {
      const v = checked(Number(m[1]), what, text);
      return new Versions(v, v);
    }
    throw new Error(`${what}: invalid version range "${text}"`);
  }

  get empty(): boolean {
    return this.hi < this.lo;
  }

  get openEnded(): boolean {
    return this.hi === MAX_VERSION;
  }

  contains(v: number): boolean {
    return v >= this.lo && v <= this.hi;
  }

  /** Whether every version of `other` is in this range (an empty range is in every range). */
  includes(other: Versions): boolean {
    return other.empty || (other.lo >= this.lo && other.hi <= this.hi);
  }

  intersect(other: Versions): Versions {
    const lo = Math.max(this.lo, other.lo);
    const hi = Math.min(this.hi, other.hi);
    return hi < lo ? Versions.NONE : new Versions(lo, hi);
  }

  /** The smallest range covering both. */
  hull(other: Versions): Versions {
    if (this.empty) return other;
    if (other.empty) return this;
    return new Versions(Math.min(this.lo, other.lo), Math.max(this.hi, other.hi));
  }

  equals(other: Versions): boolean {
    return (this.empty && other.empty) || (this.lo === other.lo && this.hi === other.hi);
  }

  toString(): string {
    if (this.empty) return 'none';
    if (this.openEnded) return `${this.lo}+`;
    return this.lo === this.hi ? `${this.lo}` : `${this.lo}-${this.hi}`;
  }
}

function checked(v: number, what: string, text: string): number {
  if (!Number.isSafeInteger(v) || v > MAX_VERSION)
    throw new Error(`${what}: version out of range in "${text}"`);
  return v;
}

export type Library = 'Tributary' | 'KafkaJS' | '@platformatic/kafka';

/**
 * How a library's code is exercised. `shipped`: the library's own request encoder or response
 * decoder. `primitives`: the library ships no function for this direction or version of the message
 * (a client encodes requests and decodes responses), so the bench assembles it from the library's
 * own Encoder/Decoder or Writer/Reader, written the way that library writes its shipped messages.
 */
export type Via = 'generated' | 'shipped' | 'primitives';

export interface Implementation {
  library: Library;
  version: number;
  encodeVia: Via;
  decodeVia: Via;
  /** Produces the message body's wire bytes as one Buffer. */
  encode: () => Buffer | Promise<Buffer>;
  /**
   * Produces the whole frame (size prefix, header, body) as the library hands it to the socket: one
   * Buffer, or chunks for `socket.writev`. Only for cases that move bulk data.
   */
  encodeFrame?: () => Buffer | Buffer[];
  frameVia?: Via;
  /** Decodes the body's wire bytes at `version` into the library's object model. */
  decode: () => unknown;
  /** The decoded object's content in the case's library-neutral shape, for verification. */
  content: (decoded: unknown) => unknown;
}

export interface Case {
  id: string;
  title: string;
  /** MB/s is reported for cases that move bulk data. */
  dataHeavy: boolean;
  /** The body as Tributary writes it at each version compared; every library decodes these bytes. */
  wire: ReadonlyMap<number, Buffer>;
  /** Decodes bytes with Tributary at `version` into the neutral shape: the judge of every encoder. */
  judge: (bytes: Buffer, version: number) => unknown;
  implementations: Implementation[];
  /** For cases measured as frames too: each version's frame as Tributary writes it in one buffer. */
  frame?: {
    wire: ReadonlyMap<number, Buffer>;
    /** Checks a frame's size prefix and header and judges its body. */
    judge: (frame: Buffer, version: number) => unknown;
  };
}

/** The correlation id and client id every library's frames carry. */
export const CORRELATION_ID = 42;
export const CLIENT_ID = 'bench-client';

/** int64 fields compared across libraries that model them as bigint, string or Long. */
export const i64 = (v: bigint | string | number): string => String(v);

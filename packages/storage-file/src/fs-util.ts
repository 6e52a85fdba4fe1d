import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** Makes a directory's entries (files created, renamed or removed in it) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Replaces `path` with `data` so that a crash leaves either the old or the new content: write a
 * temporary file, fsync it, rename it over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${dirname(path)}/.${basename(path)}.tmp`;
  const h = await open(tmp, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** Removes a file that may already be gone. */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Writes all of `buffers` at `position`, looping over short writes. */
export async function writeAllAt(h: FileHandle, buffers: Buffer[], position: number): Promise<void> {
  // writev takes at most IOV_MAX (1024 on Linux) buffers per call.
  for (let i = 0; i < buffers.length; i += 1024) {
    let chunk = buffers.slice(i, i + 1024);
    let total = 0;
    for (const b of chunk) total += b.length;
    let written = 0;
    while (written < total) {
      const { bytesWritten } = await h.writev(chunk, position);
      if (bytesWritten <= 0) throw new Error(`short write at position ${position}`);
      written += bytesWritten;
      position += bytesWritten;
      if (written < total) chunk = dropBytes(chunk, bytesWritten);
    }
  }
}

function dropBytes(buffers: Buffer[], n: number): Buffer[] {
  const out: Buffer[] = [];
  for (const b of buffers) {
    if (n >= b.length) {
      n -= b.length;
      continue;
    }
    out.push(n > 0 ? b.subarray(n) : b);
    n = 0;
  }
  return out;
}

/** Reads up to `length` bytes at `position` into a new Buffer; shorter only at end of file. */
export async function readAt(h: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafeSlow(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await h.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? buf : buf.subarray(0, got);
}

export function isErrno(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException | null)?.code === code;
}

// The cluster id and node id recorded in the data directory (`meta.properties`), so that a
// restarted broker is the same cluster to its clients, and a data directory is never opened by a
// broker of another cluster.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { parseProperties } from './properties.js';

export interface ClusterMeta {
  readonly clusterId: string;
  readonly nodeId: number;
}

export const META_FILE = 'meta.properties';

/** Reads the recorded meta; null when the directory has none. Throws naming the file when it is unreadable. */
export function readClusterMeta(dataDir: string): ClusterMeta | null {
  const path = join(dataDir, META_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
  let values: Map<string, string>;
  try {
    values = new Map(parseProperties(text).map((p) => [p.key, p.value]));
  } catch (e) {
    throw new Error(`${path} is corrupt: ${(e as Error).message}`);
  }
  const clusterId = values.get('cluster.id');
  const nodeId = Number(values.get('node.id'));
  if (clusterId === undefined || !/^[A-Za-z0-9_-]{22}$/.test(clusterId) || !Number.isInteger(nodeId))
    throw new Error(`${path} is corrupt: expected cluster.id and node.id`);
  return { clusterId, nodeId };
}

/** Records the meta atomically (temporary file, fsync, rename). */
export function writeClusterMeta(dataDir: string, meta: ClusterMeta): void {
  const path = join(dataDir, META_FILE);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(
      fd,
      `# Written by tributary. Identifies the cluster this data belongs to.\nversion=1\ncluster.id=${meta.clusterId}\nnode.id=${meta.nodeId}\n`,
    );
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

export function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

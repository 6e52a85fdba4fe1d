// Reads a V8 .cpuprofile of the broker: the functions with the most self time, as shares of the
// time the broker was busy (idle samples left out, since a broker under a client-bound load idles),
// each with the call path that spent most of it.

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
}

export interface HotSpot {
  name: string;
  /** Self samples as a share of non-idle samples, in percent. */
  busyPct: number;
  /** The callers (nearest first) of the path that spent the most of this function's self time. */
  via: string[];
}

export interface ProfileSummary {
  samples: number;
  /** Share of samples the broker was not idle, in percent. */
  busyPct: number;
  top: HotSpot[];
}

function frameName(n: ProfileNode): string {
  const { functionName, url } = n.callFrame;
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(packages|node_modules)\//, '$1/');
  const short = file.split('/').slice(-1)[0] ?? '';
  return short ? `${functionName || '(anonymous)'} (${short})` : functionName || '(anonymous)';
}

export function summarizeProfile(profile: CpuProfile, top = 15, depth = 4): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  let total = 0;
  let idle = 0;
  const self = new Map<string, { hits: number; paths: Map<string, number> }>();
  for (const n of profile.nodes) {
    total += n.hitCount;
    const name = n.callFrame.functionName;
    if (name === '(idle)' || name === '(program)' || name === '(root)') {
      if (name === '(idle)') idle += n.hitCount;
      if (name !== '(program)') continue;
    }
    if (n.hitCount === 0) continue;
    const key = frameName(n);
    const via: string[] = [];
    for (let p = parent.get(n.id); p !== undefined && via.length < depth; p = parent.get(p)) {
      const pn = byId.get(p)!;
      if (pn.callFrame.functionName === '(root)') break;
      via.push(frameName(pn));
    }
    const entry = self.get(key) ?? { hits: 0, paths: new Map<string, number>() };
    entry.hits += n.hitCount;
    const path = via.join(' < ');
    entry.paths.set(path, (entry.paths.get(path) ?? 0) + n.hitCount);
    self.set(key, entry);
  }
  const busy = total - idle;
  const hot = [...self]
    .sort((a, b) => b[1].hits - a[1].hits)
    .slice(0, top)
    .map(([name, e]) => {
      const [path] = [...e.paths].sort((a, b) => b[1] - a[1])[0]!;
      return { name, busyPct: busy > 0 ? (e.hits / busy) * 100 : 0, via: path ? path.split(' < ') : [] };
    });
  return { samples: total, busyPct: total > 0 ? (busy / total) * 100 : 0, top: hot };
}

export function formatProfileSummary(s: ProfileSummary): string {
  const lines = [
    `${s.samples} samples, busy ${s.busyPct.toFixed(0)} % of them; self time as % of busy time:`,
  ];
  for (const h of s.top) {
    lines.push(
      `${h.busyPct.toFixed(1).padStart(5)} %  ${h.name}${h.via.length ? `  <- ${h.via.join(' <- ')}` : ''}`,
    );
  }
  return lines.join('\n');
}

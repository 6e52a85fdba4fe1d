// The group bench's three scenarios, each against a broker at `bootstrap`:
//   form   3 members join a new group together: from the last member's first JoinGroup to all 3
//          holding their assignment of one generation;
//   join4  a 4th member joins a stable group of 3: from its first JoinGroup to all 4 holding their
//          assignment of the new generation (the 3 learn of the rebalance from a heartbeat);
//   idle   1,000 groups of 2 members heartbeating every 3 s: the broker's CPU over a window.
// Each is run with the protocol-level member (group-member.ts) and, for form and join4, KafkaJS.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { GroupMember, type MemberOptions } from './group-member.js';
import { KafkajsMember, type KafkajsSettings } from './kafkajs-member.js';
import { coversExactly } from './range-assignor.js';
import { WireConnection } from './wire-connection.js';

export const TOPIC = 'groups-bench';
export const PARTITIONS = 6;
export const PARTITION_COUNTS: ReadonlyMap<string, number> = new Map([[TOPIC, PARTITIONS]]);

/** Session and rebalance timeouts of the latency scenarios' members (Kafka's minimum session is 6 s). */
const SESSION_TIMEOUT_MS = 10_000;
const REBALANCE_TIMEOUT_MS = 10_000;
/** Longest a scenario step may take before the iteration counts as failed. */
const STEP_TIMEOUT_MS = 15_000;

export interface LatencySample {
  /** Milliseconds from the scenario's start event to every member holding its assignment. */
  ms: number;
  /**
   * Milliseconds from the last JoinGroup any member sent (the last member to rejoin) to every
   * member holding its assignment: the broker's part of `ms`, without the wait for heartbeats.
   */
  afterLastJoinMs: number;
  /** The generation the group ended at (1 = formed in one generation). */
  generation: number;
  /** Heartbeats answered REBALANCE_IN_PROGRESS during the step (members told to rejoin). */
  heartbeatRejoins: number;
}

let groupSeq = 0;
const newGroupId = (prefix: string) => `${prefix}-${process.pid}-${++groupSeq}`;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no complete generation within ${ms} ms`)), ms);
    }),
  ]);
}

// -- protocol-level members ---------------------------------------------------------------------

interface Wired {
  member: GroupMember;
  conn: WireConnection;
}

async function openMember(bootstrap: string, options: MemberOptions, clientId: string): Promise<Wired> {
  const conn = await WireConnection.open(bootstrap, clientId);
  return { member: new GroupMember(conn, options), conn };
}

function memberOptions(groupId: string, heartbeatIntervalMs: number): MemberOptions {
  return {
    groupId,
    topics: [TOPIC],
    partitionCounts: PARTITION_COUNTS,
    sessionTimeoutMs: SESSION_TIMEOUT_MS,
    rebalanceTimeoutMs: REBALANCE_TIMEOUT_MS,
    heartbeatIntervalMs,
  };
}

/**
 * Resolves to performance.now() at the moment every member holds an assignment of one generation
 * and the assignments split the topic's partitions among them.
 */
export function completeGeneration(members: readonly GroupMember[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const failed = members.find((m) => m.failures.length > 0);
      if (failed) {
        reject(new Error(failed.failures.join('; ')));
        return;
      }
      const g = members[0]!.generationId;
      if (
        members.every((m) => m.isStable && m.generationId === g) &&
        coversExactly(
          members.map((m) => m.assignment),
          PARTITION_COUNTS,
        )
      ) {
        for (const m of members) m.onAssigned = null;
        resolve(performance.now());
      }
    };
    for (const m of members) m.onAssigned = check;
    check();
  });
}

async function closeAll(wired: readonly Wired[]): Promise<void> {
  await Promise.all(wired.map((w) => w.member.leave()));
  for (const w of wired) w.conn.close();
}

async function formGroup(
  bootstrap: string,
  groupId: string,
  size: number,
  heartbeatIntervalMs: number,
): Promise<{ wired: Wired[]; sample: LatencySample }> {
  const wired = await Promise.all(
    Array.from({ length: size }, (_, i) =>
      openMember(bootstrap, memberOptions(groupId, heartbeatIntervalMs), `bench-member-${i}`),
    ),
  );
  const members = wired.map((w) => w.member);
  try {
    const done = withTimeout(completeGeneration(members), STEP_TIMEOUT_MS, `group ${groupId}`);
    for (const m of members) m.start();
    const at = await done;
    const start = Math.max(...members.map((m) => m.firstJoinSentAt));
    return {
      wired,
      sample: {
        ms: at - start,
        afterLastJoinMs: at - Math.max(...members.map((m) => m.lastJoinSentAt)),
        generation: members[0]!.generationId,
        heartbeatRejoins: members.reduce((n, m) => n + m.heartbeatRejoins, 0),
      },
    };
  } catch (e) {
    await closeAll(wired);
    throw e;
  }
}

export async function protocolForm(bootstrap: string, heartbeatIntervalMs: number): Promise<LatencySample> {
  const { wired, sample } = await formGroup(bootstrap, newGroupId('form'), 3, heartbeatIntervalMs);
  await closeAll(wired);
  return sample;
}

export async function protocolJoinFourth(
  bootstrap: string,
  heartbeatIntervalMs: number,
): Promise<LatencySample> {
  const groupId = newGroupId('join4');
  const { wired } = await formGroup(bootstrap, groupId, 3, heartbeatIntervalMs);
  try {
    // A few heartbeats in the stable group first, so the 4th member arrives at a random phase.
    await sleep(2 * heartbeatIntervalMs + Math.random() * heartbeatIntervalMs);
    const fourth = await openMember(bootstrap, memberOptions(groupId, heartbeatIntervalMs), 'bench-member-3');
    wired.push(fourth);
    const members = wired.map((w) => w.member);
    const rejoinsBefore = members.reduce((n, m) => n + m.heartbeatRejoins, 0);
    const done = withTimeout(completeGeneration(members), STEP_TIMEOUT_MS, `group ${groupId}`);
    fourth.member.start();
    const at = await done;
    return {
      ms: at - fourth.member.firstJoinSentAt,
      afterLastJoinMs: at - Math.max(...members.map((m) => m.lastJoinSentAt)),
      generation: fourth.member.generationId,
      heartbeatRejoins: members.reduce((n, m) => n + m.heartbeatRejoins, 0) - rejoinsBefore,
    };
  } finally {
    await closeAll(wired);
  }
}

// -- KafkaJS ------------------------------------------------------------------------------------

function kafkajsComplete(members: readonly KafkajsMember[], since: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const failed = members.find((m) => m.failures.length > 0);
      if (failed) {
        reject(new Error(failed.failures.join('; ')));
        return;
      }
      if (
        members.every((m) => m.joinedAt >= since) &&
        coversExactly(
          members.map((m) => m.assignment),
          PARTITION_COUNTS,
        )
      ) {
        for (const m of members) m.onJoined = null;
        resolve(Date.now());
      }
    };
    for (const m of members) m.onJoined = check;
    check();
  });
}

async function kafkajsMembers(
  bootstrap: string,
  groupId: string,
  count: number,
  first: number,
  settings: KafkajsSettings,
): Promise<KafkajsMember[]> {
  const members = Array.from(
    { length: count },
    (_, i) => new KafkajsMember(bootstrap, groupId, `bench-kafkajs-${first + i}`, settings),
  );
  await Promise.all(members.map((m) => m.prepare(TOPIC)));
  return members;
}

export async function kafkajsForm(bootstrap: string, settings: KafkajsSettings): Promise<LatencySample> {
  const members = await kafkajsMembers(bootstrap, newGroupId('kafkajs-form'), 3, 0, settings);
  try {
    const since = Date.now();
    const done = withTimeout(kafkajsComplete(members, since), STEP_TIMEOUT_MS, 'kafkajs group');
    await Promise.all(members.map((m) => m.run()));
    const at = await done;
    return {
      ms: at - Math.max(...members.map((m) => m.firstJoinSentAt)),
      afterLastJoinMs: Number.NaN,
      generation: Number.NaN,
      heartbeatRejoins: Number.NaN,
    };
  } finally {
    await Promise.all(members.map((m) => m.close()));
  }
}

export async function kafkajsJoinFourth(
  bootstrap: string,
  settings: KafkajsSettings,
): Promise<LatencySample> {
  const groupId = newGroupId('kafkajs-join4');
  const members = await kafkajsMembers(bootstrap, groupId, 3, 0, settings);
  try {
    const formed = withTimeout(kafkajsComplete(members, 0), STEP_TIMEOUT_MS, 'kafkajs group');
    await Promise.all(members.map((m) => m.run()));
    await formed;
    await sleep(2 * settings.heartbeatIntervalMs + Math.random() * settings.heartbeatIntervalMs);
    const [fourth] = await kafkajsMembers(bootstrap, groupId, 1, 3, settings);
    members.push(fourth!);
    const since = Date.now();
    const done = withTimeout(kafkajsComplete(members, since), STEP_TIMEOUT_MS, 'kafkajs group');
    await fourth!.run();
    const at = await done;
    return {
      ms: at - fourth!.firstJoinSentAt,
      afterLastJoinMs: Number.NaN,
      generation: Number.NaN,
      heartbeatRejoins: Number.NaN,
    };
  } finally {
    await Promise.all(members.map((m) => m.close()));
  }
}

// -- idle groups ----------------------------------------------------------------------------------

export interface IdleOptions {
  groups: number;
  /** The heartbeat interval while measuring (3 s, the Java consumer's default). */
  heartbeatIntervalMs: number;
  /** The heartbeat interval while the groups form, so members that formed alone rejoin quickly. */
  setupHeartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  warmupMs: number;
  windowMs: number;
  /** CPU seconds the broker process has used so far. */
  brokerCpuSeconds: () => number;
  brokerRssMiB: () => number;
  log: (s: string) => void;
}

export interface IdleResult {
  groups: number;
  members: number;
  setupMs: number;
  windowMs: number;
  /** Broker CPU (user + system) over the window, in percent of one core. */
  brokerCpuPct: number;
  /** The same broker with no client connected, over a window before the groups form. */
  brokerBaselineCpuPct: number;
  brokerRssMiB: number;
  heartbeatsPerSec: number;
  /** Heartbeats answered with an error during the window: should be 0 in a stable fleet. */
  heartbeatRejoins: number;
  /** This (client) process's CPU over the window, in percent of one core. */
  clientCpuPct: number;
}

function cpuPct(cpuSeconds: number, wallMs: number): number {
  return (cpuSeconds / (wallMs / 1000)) * 100;
}

export async function idleGroups(bootstrap: string, o: IdleOptions): Promise<IdleResult> {
  // The broker alone, before any group, for the floor its timers and event loop cost.
  const baselineMs = Math.min(o.windowMs, 10_000);
  const b0 = o.brokerCpuSeconds();
  const bt0 = performance.now();
  await sleep(baselineMs);
  const brokerBaselineCpuPct = cpuPct(o.brokerCpuSeconds() - b0, performance.now() - bt0);

  const setupStart = performance.now();
  const wired: Wired[] = [];
  const options = (groupId: string): MemberOptions => ({
    groupId,
    topics: [TOPIC],
    partitionCounts: PARTITION_COUNTS,
    sessionTimeoutMs: o.sessionTimeoutMs,
    rebalanceTimeoutMs: o.sessionTimeoutMs,
    heartbeatIntervalMs: o.setupHeartbeatIntervalMs,
  });
  try {
    const CHUNK = 50;
    for (let g = 0; g < o.groups; g += CHUNK) {
      const ids = Array.from({ length: Math.min(CHUNK, o.groups - g) }, (_, i) => `idle-${g + i}`);
      await Promise.all(
        ids.map(async (groupId) => {
          const pair = await Promise.all([
            openMember(bootstrap, options(groupId), 'bench-idle-a'),
            openMember(bootstrap, options(groupId), 'bench-idle-b'),
          ]);
          wired.push(...pair);
          const done = withTimeout(
            completeGeneration(pair.map((w) => w.member)),
            STEP_TIMEOUT_MS * 2,
            `group ${groupId}`,
          );
          for (const w of pair) w.member.start();
          await done;
        }),
      );
      if ((g / CHUNK) % 5 === 4) o.log(`idle: ${g + ids.length} groups formed`);
    }
    const setupMs = performance.now() - setupStart;
    for (const w of wired) w.member.setHeartbeatInterval(o.heartbeatIntervalMs, Math.random());
    await sleep(o.warmupMs);

    const beats0 = wired.reduce((n, w) => n + w.member.heartbeatsSent, 0);
    const rejoins0 = wired.reduce((n, w) => n + w.member.heartbeatRejoins, 0);
    const cpu0 = o.brokerCpuSeconds();
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(o.windowMs);
    const cpu1 = o.brokerCpuSeconds();
    const client = process.cpuUsage(client0);
    const wall = performance.now() - t0;
    const beats = wired.reduce((n, w) => n + w.member.heartbeatsSent, 0) - beats0;
    const failures = wired.flatMap((w) => w.member.failures);
    if (failures.length > 0) throw new Error(`idle: ${failures.length} members failed: ${failures[0]}`);
    return {
      groups: o.groups,
      members: wired.length,
      setupMs,
      windowMs: wall,
      brokerCpuPct: cpuPct(cpu1 - cpu0, wall),
      brokerBaselineCpuPct,
      brokerRssMiB: o.brokerRssMiB(),
      heartbeatsPerSec: beats / (wall / 1000),
      heartbeatRejoins: wired.reduce((n, w) => n + w.member.heartbeatRejoins, 0) - rejoins0,
      clientCpuPct: cpuPct((client.user + client.system) / 1e6, wall),
    };
  } finally {
    for (const w of wired) {
      w.member.stop();
      w.conn.close();
    }
  }
}

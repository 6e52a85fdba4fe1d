// The consumer group protocol's settings: the assignors this broker implements and the rules the
// timing settings must keep between each other, checked once when the coordinator is built.
import type { BrokerConfig } from '../broker/config.js';
import type { ServerAssignor } from './assignors/assignor.js';
import { RangeAssignor } from './assignors/range.js';
import { UniformAssignor } from './assignors/uniform.js';

/** The assignors this broker implements, by name. */
export function builtInAssignors(): Map<string, ServerAssignor> {
  const out = new Map<string, ServerAssignor>();
  for (const a of [new UniformAssignor(), new RangeAssignor()]) out.set(a.name, a);
  return out;
}

/** How one setting must compare with another. */
export type Comparison = '<' | '<=' | '>' | '>=';

export const COMPARISON_WORDS: Readonly<Record<Comparison, string>> = {
  '<': 'less than',
  '<=': 'less than or equal to',
  '>': 'greater than',
  '>=': 'greater than or equal to',
};

export function compare(a: number, op: Comparison, b: number): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
  }
}

type ConsumerGroupTiming =
  | 'groupConsumerHeartbeatIntervalMs'
  | 'groupConsumerMinHeartbeatIntervalMs'
  | 'groupConsumerMaxHeartbeatIntervalMs'
  | 'groupConsumerSessionTimeoutMs'
  | 'groupConsumerMinSessionTimeoutMs'
  | 'groupConsumerMaxSessionTimeoutMs';

/** Kafka's names of the consumer group timings. */
export const CONSUMER_GROUP_TIMING_NAMES: Readonly<Record<ConsumerGroupTiming, string>> = {
  groupConsumerHeartbeatIntervalMs: 'group.consumer.heartbeat.interval.ms',
  groupConsumerMinHeartbeatIntervalMs: 'group.consumer.min.heartbeat.interval.ms',
  groupConsumerMaxHeartbeatIntervalMs: 'group.consumer.max.heartbeat.interval.ms',
  groupConsumerSessionTimeoutMs: 'group.consumer.session.timeout.ms',
  groupConsumerMinSessionTimeoutMs: 'group.consumer.min.session.timeout.ms',
  groupConsumerMaxSessionTimeoutMs: 'group.consumer.max.session.timeout.ms',
};

/** How the consumer group timings must compare with each other: Kafka's rules, in Kafka's order. */
export const CONSUMER_GROUP_BOUNDS: readonly {
  readonly setting: ConsumerGroupTiming;
  readonly must: Comparison;
  readonly other: ConsumerGroupTiming;
}[] = [
  {
    setting: 'groupConsumerMaxHeartbeatIntervalMs',
    must: '>=',
    other: 'groupConsumerMinHeartbeatIntervalMs',
  },
  { setting: 'groupConsumerHeartbeatIntervalMs', must: '>=', other: 'groupConsumerMinHeartbeatIntervalMs' },
  { setting: 'groupConsumerHeartbeatIntervalMs', must: '<=', other: 'groupConsumerMaxHeartbeatIntervalMs' },
  { setting: 'groupConsumerMaxSessionTimeoutMs', must: '>=', other: 'groupConsumerMinSessionTimeoutMs' },
  { setting: 'groupConsumerSessionTimeoutMs', must: '>=', other: 'groupConsumerMinSessionTimeoutMs' },
  { setting: 'groupConsumerSessionTimeoutMs', must: '<=', other: 'groupConsumerMaxSessionTimeoutMs' },
  { setting: 'groupConsumerHeartbeatIntervalMs', must: '<', other: 'groupConsumerSessionTimeoutMs' },
];

/**
 * Throws when the consumer group settings contradict each other, with Kafka's checks and messages
 * (in Kafka's order), naming the setting.
 */
export function validateConsumerGroupConfig(config: BrokerConfig): void {
  const c = config;
  for (const { setting, must, other } of CONSUMER_GROUP_BOUNDS)
    if (!compare(c[setting], must, c[other]))
      throw new Error(
        `${CONSUMER_GROUP_TIMING_NAMES[setting]} must be ${COMPARISON_WORDS[must]} ${CONSUMER_GROUP_TIMING_NAMES[other]}`,
      );
  if (c.groupConsumerAssignors.length === 0)
    throw new Error('group.consumer.assignors must name at least one assignor');
  if (new Set(c.groupConsumerAssignors).size !== c.groupConsumerAssignors.length)
    throw new Error('group.consumer.assignors must not name an assignor twice');
  const known = builtInAssignors();
  for (const name of c.groupConsumerAssignors)
    if (!known.has(name))
      throw new Error(
        `group.consumer.assignors: unknown assignor ${name} (known: ${[...known.keys()].join(', ')})`,
      );
}

/** Compiles a subscription regex; Kafka matches the whole topic name. */
export function compileTopicRegex(regex: string): RegExp {
  return new RegExp(`^(?:${regex})$`, 'u');
}

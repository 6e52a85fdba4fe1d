// A KafkaJS consumer as a group member for the group bench's reference figures. KafkaJS sends its
// heartbeats from its fetch loop, so a member learns of a rebalance after at most one fetch wait
// plus one heartbeat interval; both are set short here (see KAFKAJS_SETTINGS).
import { Kafka, logLevel } from 'kafkajs';
import type { Assignment } from './range-assignor.js';

export interface KafkajsSettings {
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  maxWaitTimeMs: number;
}

export class KafkajsMember {
  /** The latest assignment, from the latest GROUP_JOIN event. */
  assignment: Assignment = new Map();
  /** Date.now() when the first JoinGroup went out (from the request events); NaN before. */
  firstJoinSentAt = Number.NaN;
  /** Date.now() of the latest GROUP_JOIN event. */
  joinedAt = Number.NaN;
  onJoined: (() => void) | null = null;
  readonly failures: string[] = [];
  private readonly consumer;

  constructor(bootstrap: string, groupId: string, clientId: string, settings: KafkajsSettings) {
    const kafka = new Kafka({
      clientId,
      brokers: [bootstrap],
      logLevel: logLevel.NOTHING,
      retry: { retries: 5, initialRetryTime: 50 },
    });
    this.consumer = kafka.consumer({
      groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      rebalanceTimeout: settings.rebalanceTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      maxWaitTimeInMs: settings.maxWaitTimeMs,
      retry: { retries: 5, initialRetryTime: 50 },
    });
    this.consumer.on(this.consumer.events.REQUEST, (e) => {
      if (e.payload.apiName === 'JoinGroup' && Number.isNaN(this.firstJoinSentAt))
        this.firstJoinSentAt = e.payload.sentAt;
    });
    this.consumer.on(this.consumer.events.GROUP_JOIN, (e) => {
      this.joinedAt = Date.now();
      this.assignment = new Map(Object.entries(e.payload.memberAssignment as Record<string, number[]>));
      this.onJoined?.();
    });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      this.failures.push(String(e.payload.error));
    });
  }

  /** Connects and subscribes; joining starts with run(). */
  async prepare(topic: string): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: false });
  }

  /** Starts the consumer loop (which joins the group); resolves once the loop is started. */
  async run(): Promise<void> {
    await this.consumer.run({ autoCommit: false, eachMessage: async () => {} });
  }

  /** Leaves the group and disconnects. */
  async close(): Promise<void> {
    await this.consumer.disconnect().catch(() => {});
  }
}

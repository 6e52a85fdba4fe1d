// A partition request's check against the placement: whether this broker leads the partition,
// and whether the client's leader epoch matches (KIP-320), as Kafka's replica manager answers.
import { ErrorCode } from '@tributary/codec';
import type { BrokerServices } from './services.js';

/** Kafka's "no epoch given": the client skips the check. */
const NO_EPOCH = -1;

/**
 * NOT_LEADER_OR_FOLLOWER when another broker leads the partition; with a current leader epoch
 * from the client, FENCED_LEADER_EPOCH when it is older than the leader's and UNKNOWN_LEADER_EPOCH
 * when newer; NONE otherwise.
 */
export function leaderEpochError(
  s: BrokerServices,
  topic: string,
  partition: number,
  currentLeaderEpoch: number = NO_EPOCH,
): number {
  const leadership = s.placement.leadership(topic, partition);
  if (leadership === null) return ErrorCode.NOT_LEADER_OR_FOLLOWER;
  if (currentLeaderEpoch === NO_EPOCH) return ErrorCode.NONE;
  if (currentLeaderEpoch < leadership.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (currentLeaderEpoch > leadership.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}

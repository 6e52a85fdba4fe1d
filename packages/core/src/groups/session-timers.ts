import type { Clock, TimerHandle } from '../services.js';

/** A member's session as both protocols keep it. */
export interface MemberSession {
  /** The session ends at this time unless a heartbeat, join or sync moves it. */
  deadline: number;
  /** The one timer watching `deadline`; it fires at most once per session timeout, not per heartbeat. */
  expiryTimer: TimerHandle | null;
  /** When `expiryTimer` fires. */
  expiryAt: number;
}

export interface SessionWatch {
  /** Whether the session still matters when its timer fires (the member still in its group, the coordinator active). */
  readonly live: () => boolean;
  /** The deadline passed without a heartbeat. */
  readonly expire: () => void;
}

/**
 * Session deadlines of both protocols' members. A heartbeat only moves the deadline: the member's
 * one timer is rescheduled only when the new deadline is earlier than the timer; otherwise the
 * timer, on firing, finds the later deadline and sleeps again, so a heartbeat costs no timer
 * operation.
 */
export class SessionTimers {
  constructor(private readonly clock: Clock) {}

  touch(session: MemberSession, timeoutMs: number, watch: SessionWatch, now = this.clock.now()): void {
    session.deadline = now + timeoutMs;
    if (session.expiryTimer !== null && session.expiryAt <= session.deadline) return;
    session.expiryTimer?.cancel();
    this.arm(session, timeoutMs, watch, now);
  }

  cancel(session: MemberSession): void {
    session.expiryTimer?.cancel();
    session.expiryTimer = null;
  }

  private arm(session: MemberSession, delayMs: number, watch: SessionWatch, now: number): void {
    session.expiryAt = now + delayMs;
    session.expiryTimer = this.clock.schedule(delayMs, () => {
      session.expiryTimer = null;
      if (!watch.live()) return;
      const at = this.clock.now();
      if (at < session.deadline) return this.arm(session, session.deadline - at, watch, at);
      watch.expire();
    });
  }
}

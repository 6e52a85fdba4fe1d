"""Consumer groups of confluent-kafka-python (librdkafka) or kafka-python against a Tributary broker.

Usage: groups_interop.py CLIENT PHASE BOOTSTRAP TOPIC GROUP
  CLIENT  confluent | kafka-python
  PHASE   split        create the topic, 3 members share it, one leaves, the rest consume all, commit, close
          resume       produce one record per partition, one member reads what follows the committed offsets
          static       (confluent) a static member consumes, closes without leaving, and comes back
          cooperative  (confluent) 3 cooperative-sticky members join one by one, then one leaves
Prints one JSON object; the vitest suite asserts on it (and on the broker's own view of the group).
"""
import json
import sys
import threading
import time

client, phase, bootstrap, topic, group = sys.argv[1:6]
PARTITIONS = 6
PER_PARTITION = 30
DEADLINE = time.time() + 45
out = {"phase": phase}


def expired():
    return time.time() > DEADLINE


# ---- confluent-kafka ------------------------------------------------------------------------------

def ck_consumer(extra=None):
    from confluent_kafka import Consumer
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 200,
        "max.poll.interval.ms": 10000,
        "fetch.wait.max.ms": 100,
    }
    conf.update(extra or {})
    c = Consumer(conf)
    c.subscribe([topic])
    return c


def ck_produce(count, value):
    from confluent_kafka import Producer
    p = Producer({"bootstrap.servers": bootstrap})
    for part in range(PARTITIONS):
        for i in range(count):
            p.produce(topic, value=("%s-%d" % (value, i)).encode(), partition=part)
    if p.flush(10):
        raise RuntimeError("records not delivered")


def ck_create_topic():
    from confluent_kafka.admin import AdminClient, NewTopic
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])[topic].result(10)


def ck_poll(consumers, seen):
    for c in consumers:
        m = c.poll(0.05)
        if m is not None and m.error() is None:
            seen.add((m.partition(), m.offset()))


def ck_assigned(c):
    return sorted(tp.partition for tp in c.assignment() if tp.topic == topic)


def ck_describe():
    # list_groups: ListGroups, then DescribeGroups of each group.
    from confluent_kafka.admin import AdminClient
    admin = AdminClient({"bootstrap.servers": bootstrap})
    groups = admin.list_groups(timeout=10)
    mine = [g for g in groups if g.id == group][0]
    return {
        "state": mine.state,
        "members": len(mine.members),
        "protocol_type": mine.protocol_type,
        "listed": sorted(g.id for g in groups),
    }


# ---- kafka-python ---------------------------------------------------------------------------------

def kp_consumer():
    from kafka import KafkaConsumer
    c = KafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=10000,
        heartbeat_interval_ms=200,
        max_poll_interval_ms=10000,
        fetch_max_wait_ms=100,
    )
    c.subscribe([topic])
    return c


def kp_produce(count, value):
    from kafka import KafkaProducer
    p = KafkaProducer(bootstrap_servers=bootstrap)
    for part in range(PARTITIONS):
        for i in range(count):
            p.send(topic, value=("%s-%d" % (value, i)).encode(), partition=part)
    p.flush(10)
    p.close()


def kp_create_topic():
    from kafka.admin import KafkaAdminClient, NewTopic
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=1)])
    admin.close()


def kp_poll(consumers, seen):
    for c in consumers:
        for records in c.poll(timeout_ms=50).values():
            for r in records:
                seen.add((r.partition, r.offset))


def kp_assigned(c):
    return sorted(tp.partition for tp in c.assignment() if tp.topic == topic)


def kp_describe():
    from kafka.admin import KafkaAdminClient
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    d = admin.describe_consumer_groups([group])[0]
    listed = sorted(g[0] for g in admin.list_consumer_groups())
    admin.close()
    return {"state": d.state, "members": len(d.members), "listed": listed}


if client == "confluent":
    make, produce, create, poll, assigned, describe = ck_consumer, ck_produce, ck_create_topic, ck_poll, ck_assigned, ck_describe
else:
    make, produce, create, poll, assigned, describe = kp_consumer, kp_produce, kp_create_topic, kp_poll, kp_assigned, kp_describe


class Member(threading.Thread):
    """One consumer polled in its own thread: a kafka-python poll blocks through a whole join
    phase, so members sharing a thread would wait on each other until the rebalance timeout."""

    def __init__(self, seen, lock, extra=None):
        super().__init__(daemon=True)
        self.consumer = make(extra) if extra else make()
        self.seen, self.lock = seen, lock
        self.assigned = []
        self.requests = []
        self.stopped = threading.Event()

    def run(self):
        while True:
            with self.lock:
                pending, self.requests = self.requests, []
            for request, done in pending:
                if request == "commit":
                    if client == "confluent":
                        self.consumer.commit(asynchronous=False)
                    else:
                        self.consumer.commit()
                elif request == "close":
                    self.consumer.close()
                    done.set()
                    return
                done.set()
            got = set()
            poll([self.consumer], got)
            current = assigned(self.consumer)
            with self.lock:
                self.seen |= got
                self.assigned = current

    def request(self, what):
        done = threading.Event()
        with self.lock:
            self.requests.append((what, done))
        if not done.wait(20):
            raise RuntimeError("member did not %s in time" % what)


def start_members(n, seen, lock, extra=None):
    members = [Member(seen, lock, extra) for _ in range(n)]
    for m in members:
        m.start()
    return members


def wait_for(what, lock, done):
    while True:
        with lock:
            if done():
                return
        if expired():
            raise RuntimeError("timed out in phase %s waiting for %s" % (phase, what))
        time.sleep(0.02)


def covers_all(members):
    parts = [p for m in members for p in m.assigned]
    return sorted(parts) == list(range(PARTITIONS))


lock = threading.Lock()
if phase == "split":
    create()
    produce(PER_PARTITION, "first")
    seen = set()
    members = start_members(3, seen, lock)
    wait_for("three members sharing the partitions", lock,
             lambda: covers_all(members) and all(len(m.assigned) == 2 for m in members)
             and len(seen) == PARTITIONS * PER_PARTITION)
    out["three"] = [m.assigned for m in members]
    out["described"] = describe()
    members[2].request("close")
    rest = members[:2]
    wait_for("two members covering all partitions", lock, lambda: covers_all(rest))
    out["two"] = [m.assigned for m in rest]
    produce(PER_PARTITION, "second")
    wait_for("every record", lock, lambda: len(seen) == PARTITIONS * PER_PARTITION * 2)
    out["consumed"] = sorted([p, o] for p, o in seen)
    for m in rest:
        m.request("commit")
    for m in rest:
        m.request("close")
elif phase == "resume":
    produce(1, "after-restart")
    seen = set()
    members = start_members(1, seen, lock)
    wait_for("the records after the committed offsets", lock, lambda: len(seen) >= PARTITIONS)
    out["consumed"] = sorted([p, o] for p, o in seen)
    members[0].request("close")
elif phase == "static":
    # A static member (group.instance.id): closing does not leave the group, so the same instance
    # coming back within its session takes its place without a rebalance.
    seen = set()
    for name in ("first", "second"):
        member = start_members(1, seen, lock, {"group.instance.id": "static-1"})[0]
        wait_for("the static member's assignment", lock, lambda: len(member.assigned) == PARTITIONS)
        out[name] = member.assigned
        member.request("close")
elif phase == "cooperative":
    seen = set()
    members = []
    history = []
    for _ in range(3):
        members += start_members(1, seen, lock, {"partition.assignment.strategy": "cooperative-sticky"})
        wait_for("%d members covering all partitions" % len(members), lock,
                 lambda: covers_all(members) and all(m.assigned for m in members))
        history.append([m.assigned for m in members])
    members[0].request("close")
    rest = members[1:]
    wait_for("the remaining members covering all partitions", lock, lambda: covers_all(rest))
    history.append([m.assigned for m in rest])
    out["history"] = history
    for m in rest:
        m.request("close")
print(json.dumps(out))

"""confluent-kafka-python (librdkafka): idempotent and transactional producers against Tributary.

Usage: transactions_interop.py BOOTSTRAP TOPIC_PREFIX
Prints one JSON object with what the client saw; the vitest suite asserts on it.
"""
import json
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
TIMEOUT = 15
out = {}


def create_topics(names, partitions):
    admin = AdminClient({"bootstrap.servers": bootstrap})
    futures = admin.create_topics([NewTopic(n, num_partitions=partitions, replication_factor=1) for n in names],
                                  operation_timeout=TIMEOUT)
    for f in futures.values():
        f.result(timeout=TIMEOUT)


def consume_all(topic, isolation, group, expected, extra_wait=1.0):
    """Values read from the start of `topic` until `expected` arrived (then `extra_wait` s more)."""
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "isolation.level": isolation})
    c.subscribe([topic])
    values = []
    deadline = time.time() + 30
    settle = None
    while time.time() < deadline:
        m = c.poll(0.2)
        if m is not None and m.error() is None:
            values.append(m.value().decode())
        if len(values) >= expected:
            settle = settle or time.time() + extra_wait
            if time.time() > settle:
                break
    c.close()
    return values


def idempotent():
    topic = prefix + "-idem"
    create_topics([topic], 3)
    reports = []

    def delivered(err, msg):
        reports.append({"error": None if err is None else err.name(), "partition": msg.partition(),
                        "offset": msg.offset(), "value": msg.value().decode()})

    p = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True, "linger.ms": 5})
    for i in range(300):
        p.produce(topic, value="m%d" % i, partition=i % 3, on_delivery=delivered)
        p.poll(0)
    out["idem_unflushed"] = p.flush(TIMEOUT)
    out["idem_delivered"] = reports
    out["idem_consumed"] = consume_all(topic, "read_uncommitted", prefix + "-idem-check", 300)


def transactions():
    topic = prefix + "-txn"
    create_topics([topic], 2)
    p = Producer({"bootstrap.servers": bootstrap, "transactional.id": prefix + "-txn-mixed"})
    p.init_transactions(TIMEOUT)
    committed, everything = [], []
    for t in range(5):
        p.begin_transaction()
        values = ["t%d-m%d" % (t, i) for i in range(6)]
        for i, v in enumerate(values):
            p.produce(topic, value=v, partition=i % 2)
        everything += values
        # Sent before the abort: librdkafka purges what an aborted transaction still queues, and
        # read_uncommitted readers should see aborted data that reached the broker.
        p.flush(TIMEOUT)
        if t in (1, 3):
            p.abort_transaction(TIMEOUT)
        else:
            p.commit_transaction(TIMEOUT)
            committed += values
    out["txn_committed"] = committed
    out["txn_all"] = everything
    out["txn_read_committed"] = consume_all(topic, "read_committed", prefix + "-txn-rc", len(committed))
    out["txn_read_uncommitted"] = consume_all(topic, "read_uncommitted", prefix + "-txn-ru", len(everything))


def fencing():
    topic = prefix + "-fence"
    create_topics([topic], 1)
    older = Producer({"bootstrap.servers": bootstrap, "transactional.id": prefix + "-fenced"})
    older.init_transactions(TIMEOUT)
    older.begin_transaction()
    older.produce(topic, value="zombie")
    older.flush(TIMEOUT)
    newer = Producer({"bootstrap.servers": bootstrap, "transactional.id": prefix + "-fenced"})
    newer.init_transactions(TIMEOUT)
    try:
        older.commit_transaction(TIMEOUT)
        out["fence_older_commit"] = None
    except KafkaException as e:
        err = e.args[0]
        out["fence_older_commit"] = {"name": err.name(), "fatal": err.fatal()}
    newer.begin_transaction()
    newer.produce(topic, value="current")
    newer.commit_transaction(TIMEOUT)
    out["fence_read_committed"] = consume_all(topic, "read_committed", prefix + "-fence-rc", 1)


def copy_with_offsets():
    src, dst, group = prefix + "-in", prefix + "-out", prefix + "-copier"
    create_topics([src, dst], 2)
    seed = Producer({"bootstrap.servers": bootstrap})
    values = ["v%d" % i for i in range(80)]
    for i, v in enumerate(values):
        seed.produce(src, value=v, partition=i % 2)
    seed.flush(TIMEOUT)

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "auto.offset.reset": "earliest",
                         "enable.auto.commit": False, "isolation.level": "read_committed"})
    consumer.subscribe([src])
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": prefix + "-copier"})
    producer.init_transactions(TIMEOUT)
    copied = 0
    deadline = time.time() + 40
    while copied < len(values) and time.time() < deadline:
        msgs = consumer.consume(20, 0.5)
        msgs = [m for m in msgs if m.error() is None]
        if not msgs:
            continue
        producer.begin_transaction()
        for m in msgs:
            producer.produce(dst, value="copy-" + m.value().decode())
        positions = consumer.position(consumer.assignment())
        producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), TIMEOUT)
        producer.commit_transaction(TIMEOUT)
        copied += len(msgs)
    committed = consumer.committed([TopicPartition(src, 0), TopicPartition(src, 1)], timeout=TIMEOUT)
    consumer.close()
    out["copy_input"] = values
    out["copy_committed"] = sorted(tp.offset for tp in committed)
    out["copy_output"] = consume_all(dst, "read_committed", prefix + "-copy-check", len(values))


for step in (idempotent, transactions, fencing, copy_with_offsets):
    try:
        step()
    except Exception as e:  # reported, so one failing step does not hide the others
        out["error_" + step.__name__] = repr(e)
print(json.dumps(out))

"""confluent-kafka-python (librdkafka) against a Tributary broker.

Usage: confluent_kafka_interop.py BOOTSTRAP TOPIC_PREFIX
Prints one JSON object with what the client saw; the vitest suite asserts on it, and reads the
codec topics back itself to check how each batch is compressed on the broker.
"""
import json
import sys
import time

import confluent_kafka
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
topic = prefix + "-data"
CODECS = ["gzip", "snappy", "lz4", "zstd"]
TIMEOUT = 10
out = {"client": confluent_kafka.version()[0], "librdkafka": confluent_kafka.libversion()[0]}


def topic_names(admin):
    return sorted(admin.list_topics(timeout=TIMEOUT).topics)


def create_topic(admin, name, partitions):
    """Returns None on success, else the Kafka error's name."""
    future = admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)],
                                 operation_timeout=TIMEOUT)[name]
    try:
        future.result(timeout=TIMEOUT)
        return None
    except KafkaException as e:
        return e.args[0].name()


def produce(config, messages):
    """Produces (topic, partition or None, key, value, headers) tuples; returns the delivery reports."""
    reports = []

    def delivered(err, msg):
        reports.append({"error": None if err is None else err.name(), "partition": msg.partition(),
                        "offset": msg.offset(), "value": msg.value().decode()})

    p = Producer({"bootstrap.servers": bootstrap, **config})
    for t, partition, key, value, headers in messages:
        kwargs = {} if partition is None else {"partition": partition}
        p.produce(t, key=key, value=value, headers=headers, on_delivery=delivered, **kwargs)
        p.poll(0)
    left = p.flush(TIMEOUT)
    if left:
        raise RuntimeError("%d messages not delivered" % left)
    return reports


def consume_assigned(parts):
    """Reads assigned partitions from the beginning until each reports end of partition.

    librdkafka will not create a consumer without group.id, and with one it tries to find the
    group's coordinator; assign() with explicit offsets needs no group, so this is plain Fetch.
    A short fetch wait: a Fetch long-polling at the end of a partition holds back the requests
    behind it on that connection (ListOffsets for watermarks, as on any Kafka broker).
    """
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": prefix + "-assign",
                  "enable.auto.commit": False, "enable.auto.offset.store": False,
                  "enable.partition.eof": True, "fetch.wait.max.ms": 50})
    c.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in parts])
    records, at_end = [], set()
    deadline = time.monotonic() + 30
    while len(at_end) < len(parts) and time.monotonic() < deadline:
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() != KafkaError._PARTITION_EOF:
                raise KafkaException(m.error())
            at_end.add((m.topic(), m.partition()))
            continue
        records.append({
            "partition": m.partition(), "offset": m.offset(),
            "key": None if m.key() is None else m.key().decode(), "value": m.value().decode(),
            "headers": [[k, v.decode()] for k, v in (m.headers() or [])],
            "timestamp": m.timestamp()[1], "timestamp_type": m.timestamp()[0],
        })
    return c, records, len(at_end) == len(parts)


admin = AdminClient({"bootstrap.servers": bootstrap})
out["create_error"] = create_topic(admin, topic, 6)
out["create_again_error"] = create_topic(admin, topic, 6)
md = admin.list_topics(timeout=TIMEOUT)
out["brokers"] = {str(b.id): "%s:%d" % (b.host, b.port) for b in md.brokers.values()}
out["partitions"] = sorted([p.id, p.leader, p.replicas, p.isrs, p.error is None]
                           for p in md.topics[topic].partitions.values())
out["topics_after_create"] = sorted(md.topics)

messages = [(topic, None, ("key-%d" % (i % 37)).encode(), ("value-%d" % i).encode(),
             [("seq", str(i).encode()), ("source", b"confluent-kafka")]) for i in range(1000)]
out["delivered"] = produce({"acks": "all", "linger.ms": 5}, messages)

consumer, records, complete = consume_assigned([(topic, p) for p in range(6)])
out["records"], out["consumed_to_end"] = records, complete
parts = [TopicPartition(topic, p) for p in range(6)]
out["watermarks"] = [list(consumer.get_watermark_offsets(tp, timeout=TIMEOUT, cached=False)) for tp in parts]
first_ts = min(r["timestamp"] for r in records)
middle_ts = records[len(records) // 2]["timestamp"]
for name, ts in [("for_first", first_ts), ("for_middle", middle_ts),
                 ("for_future", int(time.time() * 1000) + 3600000)]:
    found = consumer.offsets_for_times([TopicPartition(topic, p, ts) for p in range(6)], timeout=TIMEOUT)
    out[name] = {"target": ts, "offsets": [[tp.partition, tp.offset] for tp in found]}
consumer.close()

codecs = {}
for codec in CODECS:
    ctopic = "%s-%s" % (prefix, codec)
    # librdkafka sends a batch uncompressed when compressing would not shrink it: every value
    # compresses well on its own, so every batch should go out compressed whatever its size.
    values = ["%s-%d-%s" % (codec, i, "xyz" * (40 + i % 13)) for i in range(200)]
    error = create_topic(admin, ctopic, 1)
    if error:
        raise RuntimeError("creating %s: %s" % (ctopic, error))
    reports = produce({"acks": "all", "compression.type": codec, "linger.ms": 20},
                      [(ctopic, 0, b"k", v.encode(), [("codec", codec.encode())]) for v in values])
    c, got, complete = consume_assigned([(ctopic, 0)])
    c.close()
    codecs[codec] = {"sent": values, "errors": [r["error"] for r in reports if r["error"]],
                     "consumed": [r["value"] for r in got], "to_end": complete}
out["codecs"] = codecs

futures = admin.delete_topics([topic], operation_timeout=TIMEOUT)
futures[topic].result(timeout=TIMEOUT)
out["topics_after_delete"] = topic_names(admin)
try:
    admin.delete_topics([topic], operation_timeout=TIMEOUT)[topic].result(timeout=TIMEOUT)
    out["delete_again_error"] = None
except KafkaException as e:
    out["delete_again_error"] = e.args[0].name()
print(json.dumps(out))

"""kafka-python against a Tributary broker, without pinning api_version.

Usage: kafka_python_interop.py BOOTSTRAP TOPIC_PREFIX
Prints one JSON object with what the client saw; the vitest suite asserts on it.
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

bootstrap, prefix = sys.argv[1], sys.argv[2]
out = {}

admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-python-interop")
topic = prefix + "-data"
admin.create_topics([NewTopic(name=topic, num_partitions=6, replication_factor=1)])
out["topics_after_create"] = sorted(admin.list_topics())

producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
for i in range(1000):
    producer.send(topic, key=("key-%d" % (i % 37)).encode(), value=("value-%d" % i).encode(),
                  headers=[("seq", str(i).encode()), ("source", b"kafka-python")])
producer.flush()

codecs = {}
for codec in ["gzip", "snappy", "lz4", "zstd"]:
    try:
        p = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec)
    except Exception as e:  # the codec's Python module is missing
        codecs[codec] = "unavailable: %s" % e
        continue
    ctopic = "%s-%s" % (prefix, codec)
    values = [("%s-%d-%s" % (codec, i, "xyz" * (i % 13))).encode() for i in range(200)]
    for v in values:
        p.send(ctopic, value=v, partition=0)
    p.flush()
    p.close()
    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                      consumer_timeout_ms=3000)
    tp = TopicPartition(ctopic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got = [m.value for m in c]
    c.close()
    codecs[codec] = "ok" if got == values else "mismatch: %d of %d" % (len(got), len(values))
out["codecs"] = codecs

consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                         consumer_timeout_ms=3000)
parts = [TopicPartition(topic, p) for p in range(6)]
consumer.assign(parts)
consumer.seek_to_beginning(*parts)
records = []
for m in consumer:
    records.append({
        "partition": m.partition, "offset": m.offset, "key": m.key.decode(), "value": m.value.decode(),
        "headers": {k: v.decode() for k, v in m.headers}, "timestamp": m.timestamp,
    })
    if len(records) >= 1000:
        break
out["records"] = records
out["beginning"] = {str(tp.partition): o for tp, o in consumer.beginning_offsets(parts).items()}
out["end"] = {str(tp.partition): o for tp, o in consumer.end_offsets(parts).items()}
first_ts = min(r["timestamp"] for r in records)
found = consumer.offsets_for_times({tp: first_ts for tp in parts})
out["for_times"] = {str(tp.partition): (None if o is None else [o.offset, o.timestamp]) for tp, o in found.items()}
future = consumer.offsets_for_times({parts[0]: int(time.time() * 1000) + 3600000})
out["for_future"] = [None if o is None else o.offset for o in future.values()]
consumer.close()

admin.delete_topics([topic])
out["topics_after_delete"] = sorted(admin.list_topics())
admin.close()
print(json.dumps(out))

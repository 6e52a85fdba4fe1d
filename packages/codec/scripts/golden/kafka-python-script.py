"""Drives kafka-python against the scripted broker; prints STEP lines as it goes.

Usage: kafka-python-script.py BOOTSTRAP CLIENT_ID TOPIC GROUP. api_version is left unset on purpose:
the client probes the broker the way it does in the field.
"""
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

bootstrap, client_id, topic, group = sys.argv[1:5]
MESSAGES = [(b"key-%d" % i, b"tributary golden value %d" % i, b"h-%d" % i) for i in (1, 2, 3)]
common = dict(bootstrap_servers=bootstrap, client_id=client_id, request_timeout_ms=15000)


def step(name):
    print("STEP " + name, flush=True)


admin = KafkaAdminClient(**common)
step("connect")
admin.create_topics([NewTopic(topic, 3, 1)])
step("create-topic")

producer = KafkaProducer(**common, acks="all", linger_ms=5)
step("metadata")
for key, value, header in MESSAGES:
    producer.send(topic, key=key, value=value, headers=[("trace", header)])
producer.flush(10)
producer.close(5)
step("produce")

consumer = KafkaConsumer(
    topic,
    **common,
    group_id=group,
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    fetch_max_wait_ms=200,
    session_timeout_ms=10000,
    heartbeat_interval_ms=500,
)
received = 0
deadline = time.monotonic() + 15
while received < len(MESSAGES) and time.monotonic() < deadline:
    for records in consumer.poll(timeout_ms=200).values():
        received += len(records)
step("consume" if received >= len(MESSAGES) else "consumed %d of %d" % (received, len(MESSAGES)))
if received:
    consumer.commit()
    step("commit")
# Stay in the group past a heartbeat interval so a Heartbeat is sent too.
linger = time.monotonic() + 1.2
while time.monotonic() < linger:
    consumer.poll(timeout_ms=200)
consumer.close()
step("leave")

admin.delete_topics([topic])
step("delete-topic")
admin.close()

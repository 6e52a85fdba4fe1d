"""Drives confluent-kafka-python (librdkafka) against the scripted broker; prints STEP lines as it goes.

Usage: confluent-kafka-python-script.py BOOTSTRAP CLIENT_ID TOPIC GROUP.
"""
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic

bootstrap, client_id, topic, group = sys.argv[1:5]
MESSAGES = [(b"key-%d" % i, b"tributary golden value %d" % i, b"h-%d" % i) for i in (1, 2, 3)]
common = {"bootstrap.servers": bootstrap, "client.id": client_id}


def step(name):
    print("STEP " + name, flush=True)


admin = AdminClient(common)
futures = admin.create_topics([NewTopic(topic, 3, 1)], operation_timeout=5, request_timeout=10)
futures[topic].result(10)
step("connect")
step("create-topic")

metadata = admin.list_topics(topic, timeout=10)
step("metadata")

producer = Producer({**common, "enable.idempotence": True, "linger.ms": 5})
for key, value, header in MESSAGES:
    producer.produce(topic, key=key, value=value, headers=[("trace", header)])
left = producer.flush(10)
if left:
    raise SystemExit("%d messages not delivered" % left)
step("produce")

consumer = Consumer(
    {
        **common,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "fetch.wait.max.ms": 200,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 500,
    }
)
consumer.subscribe([topic])
received = 0
deadline = time.monotonic() + 15
while received < len(MESSAGES) and time.monotonic() < deadline:
    message = consumer.poll(0.2)
    if message is not None and message.error() is None:
        received += 1
step("consume" if received >= len(MESSAGES) else "consumed %d of %d" % (received, len(MESSAGES)))
if received:
    consumer.commit(asynchronous=False)
    step("commit")
# Stay in the group past a heartbeat interval so a Heartbeat is sent too.
linger = time.monotonic() + 1.2
while time.monotonic() < linger:
    consumer.poll(0.2)
consumer.close()
step("leave")

admin.delete_topics([topic], operation_timeout=5, request_timeout=10)[topic].result(10)
step("delete-topic")

"""The broker harness (brokers.py) that event-sink tests rely on: each broker really starts, serves its
protocol on 127.0.0.1, and is gone after stop()."""
import socket
import struct

from confluent_kafka import Consumer, Producer, TopicPartition

import brokers


def test_tansu_takes_and_returns_kafka_messages():
    with brokers.start_tansu() as kafka:
        producer = Producer({"bootstrap.servers": kafka.address, "acks": "all", "enable.idempotence": True})
        failures = []
        for i in range(3):
            producer.produce("harness", key=b"k", value=f"v{i}".encode(),
                             on_delivery=lambda err, _msg: err and failures.append(err))
        assert producer.flush(15) == 0 and not failures
        consumer = Consumer({"bootstrap.servers": kafka.address, "group.id": "harness", "enable.auto.commit": False})
        partitions = consumer.list_topics("harness", timeout=10).topics["harness"].partitions
        consumer.assign([TopicPartition("harness", p, 0) for p in partitions])
        values = []
        for _ in range(100):
            message = consumer.poll(0.2)
            if message is not None and not message.error():
                values.append(message.value())
            if len(values) == 3:
                break
        consumer.close()
        assert values == [b"v0", b"v1", b"v2"]
        port = kafka.port
    assert not brokers.is_listening(port)


def test_rabbitmq_speaks_amqp_091():
    with brokers.start_rabbitmq() as rabbit:
        with socket.create_connection(("127.0.0.1", rabbit.port), timeout=10) as sock:
            sock.sendall(b"AMQP\x00\x00\x09\x01")
            frame_type, channel, _size, class_id, method_id = struct.unpack(">BHIHH", sock.recv(11))
        # connection.start on channel 0: the broker's first word in AMQP 0-9-1.
        assert (frame_type, channel, class_id, method_id) == (1, 0, 10, 10)
        port = rabbit.port
    assert not brokers.is_listening(port)

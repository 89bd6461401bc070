"""Events to Kafka (tansu, a Kafka-compatible broker, with the confluent-kafka client reading them
back) and to RabbitMQ (a private rabbitmq-server node, read back with pika), both started here:
payloads, message keys, and a broker that is down while recordings arrive, then back."""
import json
import time
import uuid

import pika
import pytest
from confluent_kafka import Consumer

from brokers import start_rabbitmq, start_tansu
from conftest import DepotServer


def start_depot(tmp_path, sink):
    config = tmp_path / "depot.yaml"
    config.write_text(f"buckets: [rec]\nevents:\n  sinks:\n    - {sink}\n")
    return DepotServer(config=str(config)).start()


def kafka_messages(address, topic, want, timeout=90):
    consumer = Consumer({"bootstrap.servers": address, "group.id": f"test-{uuid.uuid4()}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    consumer.subscribe([topic])
    messages = []
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and len(messages) < want:
            message = consumer.poll(1.0)
            if message is None or message.error():
                continue
            messages.append((message.key().decode(), json.loads(message.value())))
    finally:
        consumer.close()
    return messages


def test_kafka_sink(tmp_path):
    broker = start_tansu()
    server = None
    try:
        server = start_depot(tmp_path, f'{{ name: kafka, type: kafka, brokers: ["{broker.address}"], topic: recordings, '
                                       f'format: kerberos, provider: edge-1 }}')
        s3 = server.client()
        keys = [f"cam{i % 3}/clip-{i:02d}.mp4" for i in range(20)]
        for key in keys:
            s3.put_object(Bucket="rec", Key=key, Body=b"k" * 100, Metadata={"event-instancename": key[:4]})
        messages = kafka_messages(broker.address, "recordings", 20)
        assert sorted(k for k, _ in messages) == sorted(keys)
        for key, event in messages:
            assert event["payload"]["key"] == key and event["provider"] == "kstorage" and event["source"] == "edge-1"
            assert event["payload"]["metadata"]["event-instancename"] == key[:4]
        # Per key, order is kept: one partition per key; here every key has one event.
        port = broker.port
        broker.stop()
        for i in range(100):
            s3.put_object(Bucket="rec", Key=f"down/{i:03d}.mp4", Body=b"d")
        time.sleep(2)
        broker = start_tansu(port=port)  # memory storage: the topic starts empty
        later = kafka_messages(broker.address, "recordings", 100, timeout=150)
        assert sorted(k for k, _ in later) == [f"down/{i:03d}.mp4" for i in range(100)]
    finally:
        if server:
            server.cleanup()
        broker.stop()


def rabbit_channel(port):
    connection = pika.BlockingConnection(pika.ConnectionParameters("127.0.0.1", port))
    channel = connection.channel()
    channel.exchange_declare("depot", exchange_type="topic", durable=True)
    channel.queue_declare("recordings", durable=True)
    channel.queue_bind("recordings", "depot", routing_key="events.#")
    return connection, channel


def rabbit_messages(port, want, timeout=90):
    connection, channel = rabbit_channel(port)
    bodies = []
    deadline = time.time() + timeout
    try:
        while time.time() < deadline and len(bodies) < want:
            method, properties, body = channel.basic_get("recordings", auto_ack=True)
            if method is None:
                time.sleep(0.2)
                continue
            bodies.append((properties.message_id, json.loads(body)))
    finally:
        connection.close()
    return bodies


def test_rabbitmq_sink(tmp_path):
    broker = start_rabbitmq()
    server = None
    try:
        rabbit_channel(broker.port)[0].close()  # the exchange and the bound queue exist
        server = start_depot(tmp_path, f'{{ name: rabbit, type: rabbitmq, url: "amqp://guest:guest@127.0.0.1:{broker.port}/", '
                                       f'exchange: depot, routingKey: events.recordings, format: s3 }}')
        s3 = server.client()
        for i in range(20):
            s3.put_object(Bucket="rec", Key=f"r/{i:02d}.mp4", Body=b"r" * 10)
        s3.delete_object(Bucket="rec", Key="r/00.mp4")
        got = rabbit_messages(broker.port, 21)
        names = [(b["Records"][0]["eventName"], b["Records"][0]["s3"]["object"]["key"]) for _, b in got]
        assert len(names) == 21
        assert names[-1] == ("s3:ObjectRemoved:Delete", "r/00.mp4")
        ids = [int(message_id) for message_id, _ in got]
        assert ids == sorted(ids)  # delivered in commit order, sequence as message id
        # The broker goes away while 100 recordings arrive, and comes back (a new node on the
        # same port, so its exchange and queue are declared again).
        port = broker.port
        broker.stop()
        for i in range(100):
            s3.put_object(Bucket="rec", Key=f"down/{i:03d}.mp4", Body=b"d")
        broker = start_rabbitmq(port=port)
        rabbit_channel(broker.port)[0].close()
        later = rabbit_messages(broker.port, 100, timeout=180)
        keys = [b["Records"][0]["s3"]["object"]["key"] for _, b in later]
        assert sorted(keys) == [f"down/{i:03d}.mp4" for i in range(100)]
    finally:
        if server:
            server.cleanup()
        broker.stop()

"""Python baseline for the source workload: Redis stream -> Kafka topic.

    python_source.py REDIS_URI STREAM BOOTSTRAP TOPIC COUNT BATCH

What a user would write instead of ferry, tuned: XREAD COUNT BATCH in a loop (redis-py), one
confluent_kafka Producer.produce() per entry with poll(0), the value laid out as ferry's
{"id","stream","body"} JSON (compact json.dumps), keyed by entry id, delivery counted with a
config-level delivery callback, flush() at the end. Producer settings are ferry's (acks=all,
enable.idempotence=true, linger.ms=5) so both give the same delivery guarantee.

Protocol with bench/run.py: imports, prints "READY", waits for one line on stdin, then creates
its clients and moves COUNT entries; prints one JSON line {"records","errors","seconds",
"cpu_seconds","vmhwm_kb"} after every record is acknowledged. Exit status 0 only if all COUNT
were delivered.
"""
import json
import resource
import sys
import time

import redis
from confluent_kafka import Producer


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def vmhwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def main():
    redis_uri, stream, bootstrap, topic, count, batch = sys.argv[1:7]
    count, batch = int(count), int(batch)
    print("READY", flush=True)
    sys.stdin.readline()
    t0 = time.monotonic()
    cpu0 = cpu_seconds()

    state = {"delivered": 0, "errors": 0}

    def on_delivery(err, msg):
        if err is not None:
            if state["errors"] == 0:
                sys.stderr.write(f"delivery failed: {err}\n")
            state["errors"] += 1
        else:
            state["delivered"] += 1

    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all",
                         "enable.idempotence": True, "message.timeout.ms": 0,
                         "linger.ms": 5, "on_delivery": on_delivery})
    r = redis.Redis.from_url(redis_uri, decode_responses=True)
    dumps = json.JSONEncoder(separators=(",", ":")).encode
    produce, poll = producer.produce, producer.poll
    last_id = "0-0"
    read = 0
    while read < count:
        reply = r.xread({stream: last_id}, count=batch, block=100)
        if not reply:
            continue
        for entry_id, fields in reply[0][1]:
            value = dumps({"id": entry_id, "stream": stream, "body": fields})
            while True:
                try:
                    produce(topic, value, entry_id)
                    break
                except BufferError:
                    poll(0.05)
            poll(0)
            last_id = entry_id
            read += 1
            if read == count:
                break
    while state["delivered"] + state["errors"] < read:
        producer.flush(1.0)
    seconds = time.monotonic() - t0
    cpu = cpu_seconds() - cpu0
    print(json.dumps({"records": state["delivered"], "errors": state["errors"],
                      "seconds": seconds, "cpu_seconds": cpu, "vmhwm_kb": vmhwm_kb()}), flush=True)
    return 0 if state["errors"] == 0 and state["delivered"] == count else 1


if __name__ == "__main__":
    sys.exit(main())

"""Python baseline for the sink workload: Kafka topic -> Redis hashes.

    python_sink.py BOOTSTRAP TOPIC GROUP REDIS_URI KEYSPACE COUNT BATCH MODE [KEY=VALUE ...]

What a user would write instead of ferry, tuned: a subscribed confluent_kafka Consumer (manual
commits) read with consume(num_messages=BATCH) (bench/run.py: 5000), one redis-py pipeline
without MULTI per batch, executed once, then a synchronous commit of the consumed positions
(at-least-once: only after Redis acknowledged the pipeline). MODE:
  hash    each record's JSON object value written with HSET KEYSPACE:<key> f v ... (null fields
          skipped, non-string values as JSON text, as ferry does)
  string  each record's value written as is with SET KEYSPACE:<key> value

KEY=VALUE arguments are extra librdkafka consumer settings (bench/run.py passes the same ones to
every implementation).

Protocol with bench/run.py: imports, prints "READY", waits for one line on stdin, then creates
its clients and moves COUNT records; prints one JSON line {"records","errors","seconds",
"cpu_seconds","vmhwm_kb"} after the last batch's synchronous commit.
"""
import json
import resource
import sys
import time

import redis
from confluent_kafka import Consumer, KafkaError, KafkaException


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def vmhwm_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def field_text(v):
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def main():
    bootstrap, topic, group, redis_uri, keyspace, count, batch, mode = sys.argv[1:9]
    count, batch = int(count), int(batch)
    if mode not in ("hash", "string"):
        sys.stderr.write(f"MODE must be hash or string, not {mode!r}\n")
        return 2
    extra = dict(arg.split("=", 1) for arg in sys.argv[9:])
    print("READY", flush=True)
    sys.stdin.readline()
    t0 = time.monotonic()
    cpu0 = cpu_seconds()

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest", **extra})
    consumer.subscribe([topic])
    r = redis.Redis.from_url(redis_uri)
    pipe = r.pipeline(transaction=False)
    loads = json.loads
    prefix = keyspace + ":"
    written = errors = 0
    while written < count:
        msgs = consumer.consume(num_messages=batch, timeout=0.1)
        if not msgs:
            continue
        for m in msgs:
            if m.error():
                continue
            if mode == "string":
                pipe.set(prefix + m.key().decode(), m.value())
                written += 1
                continue
            value = loads(m.value())
            mapping = {k: (v if isinstance(v, (str, int, float)) and not isinstance(v, bool)
                           else field_text(v))
                       for k, v in value.items() if v is not None}
            if mapping:
                pipe.hset(prefix + m.key().decode(), mapping=mapping)
            written += 1
        for reply in pipe.execute(raise_on_error=False):
            if isinstance(reply, Exception):
                if errors == 0:
                    sys.stderr.write(f"HSET failed: {reply}\n")
                errors += 1
        try:
            consumer.commit(asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:  # only error messages in the batch
                raise
    seconds = time.monotonic() - t0
    cpu = cpu_seconds() - cpu0
    consumer.close()
    print(json.dumps({"records": written, "errors": errors, "seconds": seconds,
                      "cpu_seconds": cpu, "vmhwm_kb": vmhwm_kb()}), flush=True)
    return 0 if errors == 0 and written == count else 1


if __name__ == "__main__":
    sys.exit(main())

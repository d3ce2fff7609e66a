"""Redis list source (ferry.redis.RedisListSourceConnector): lists read as reliable queues.

    /usr/bin/python3 tests/integration/test_list_source.py --build-dir BUILD [-v] [-k name]

- The ordinary path: two lists over two tasks (BLPOP end) and one list read from its tail
  (BRPOP), pre-filled and then fed while running: every element once in Kafka, in list order,
  keyed by its list; source and processing lists end empty.
- Records a transform drops (no commit_record() for them) still leave the processing list,
  through the committed source offset.
- kill -9 mid-run: 50,000 elements, the worker killed while Kafka holds part of them, restarted:
  every element is in Kafka (duplicates allowed: at-least-once), the first occurrences are in
  list order, and the source and processing lists end empty.
- Bad configuration: a bad key value is a 400 naming the key, processing lists that several
  lists would share fail the connector with a message, and a key that is not a list fails the
  task naming the key.
Real redis-server, ferry-kafka-dev and ferry-worker processes; results read with kcat and
redis-cli; no fixed sleeps.
"""

import collections
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
LIST_CLASS = "ferry.redis.RedisListSourceConnector"


def list_config(redis, lists, **extra):
    cfg = {"connector.class": LIST_CLASS, "tasks.max": "1", "redis.uri": redis.uri,
           "redis.list.name": lists,
           "value.converter": fh.STRING_CONVERTER}  # the element's bytes, not a JSON string
    cfg.update({k.replace("_", "."): str(v) for k, v in extra.items()})
    return cfg


def push(redis, command, key, elements, chunk=1000):
    redis.pipe([[command, key, *elements[i:i + chunk]] for i in range(0, len(elements), chunk)])


def topic_count(kafka, topic):
    try:
        return fh.kafka_message_count(kafka.bootstrap, topic)
    except AssertionError:
        return 0


def llen(redis, key):
    return int(redis.cli("LLEN", key))


class ListSourceTest(fh.StackTest):
    def test_ordinary_path_two_tasks_and_both_ends(self):
        redis, kafka, worker = self.redis, self.kafka, self.worker
        jobs = [f"job-{i}" for i in range(3000)]
        mail = [f"mail-{i}" for i in range(2000)]
        tail = [f"t-{i}" for i in range(500)]
        push(redis, "RPUSH", "jobs", jobs)   # oldest at the head: BLPOP end
        push(redis, "RPUSH", "mail", mail)
        push(redis, "LPUSH", "lq", tail)     # oldest at the tail: BRPOP end

        worker.create_connector("q", list_config(redis, "jobs,mail", tasks_max=2,
                                                 topic="out-${list}", batch_size=300))
        worker.create_connector("tq", list_config(redis, "lq", redis_list_command="BRPOP",
                                                  redis_list_move="pipeline", batch_size=64))
        worker.wait_running("q", tasks=2)
        worker.wait_running("tq", tasks=1)
        status = worker.status("q")
        self.assertEqual(len({t["worker_id"] for t in status["tasks"]}), 1)

        # Fed while running: BLMOVE wakes up for them.
        more = [f"job-{i}" for i in range(3000, 3010)]
        wait_until(lambda: llen(redis, "jobs") == 0, 60, "list jobs to be drained")
        push(redis, "RPUSH", "jobs", more)
        jobs += more

        expected = {"out-jobs": ("jobs", jobs), "out-mail": ("mail", mail), "lq": ("lq", tail)}

        def all_there():
            worker.check_not_failed("q", "tq")
            return all(topic_count(kafka, t) >= len(e) for t, (_, e) in expected.items())
        wait_until(all_there, 90, "every element in Kafka", interval=0.2)
        for topic, (key, elements) in expected.items():
            records = fh.kcat_consume(kafka.bootstrap, topic)
            self.assertEqual([k for k, _ in records], [key] * len(records), topic)
            self.assertEqual([v for _, v in records], elements, f"{topic}: order or duplicates")

        # Acknowledged elements leave the processing lists; the source lists are empty.
        for key in ("jobs:processing:q", "mail:processing:q", "lq:processing:tq"):
            wait_until(lambda k=key: llen(redis, k) == 0, 30, f"{key} to be empty")
        for key in ("jobs", "mail", "lq"):
            self.assertEqual(llen(redis, key), 0, key)

    def test_records_a_transform_drops_leave_the_processing_list(self):
        # A filtered record gets no commit_record() call; the committed source offset (every
        # offset.flush.interval.ms, 1 s here) still lets the task trim it.
        redis, kafka, worker = self.redis, self.kafka, self.worker
        push(redis, "RPUSH", "dropme", [f"d-{i}" for i in range(1000)])
        push(redis, "RPUSH", "keepme", [f"k-{i}" for i in range(1000)])
        worker.create_connector("f", list_config(
            redis, "dropme,keepme", batch_size=100, transforms="drop",
            **{"transforms.drop.type": "org.apache.kafka.connect.transforms.Filter",
               "transforms.drop.predicate": "isdrop",
               "predicates": "isdrop",
               "predicates.isdrop.type":
                   "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
               "predicates.isdrop.pattern": "dropme"}))
        worker.wait_running("f", tasks=1)

        def drained():
            worker.check_not_failed("f")
            return all(llen(redis, k) == 0 for k in ("dropme", "keepme", "dropme:processing:f",
                                                      "keepme:processing:f"))
        wait_until(drained, 60, "both lists and their processing lists to be empty",
                   interval=0.2)
        self.assertEqual(topic_count(kafka, "keepme"), 1000)
        self.assertEqual(topic_count(kafka, "dropme"), 0)


class ListSourceCrashTest(fh.StackTest):
    # Throttled so that the kill lands mid-run: the dev broker delays every response, the
    # producer sends small batches, one request at a time, and holds at most 2000 records, so
    # elements wait in the source list, in the processing list and in the producer at once.
    WORKER_KW = {"properties": {"offset.flush.interval.ms": "1000",
                                "producer.batch.num.messages": "100",
                                "producer.max.in.flight.requests.per.connection": "1",
                                "producer.queue.buffering.max.messages": "2000"}}

    def test_kill9_midway_loses_no_element(self):
        redis, kafka, worker = self.redis, self.kafka, self.worker
        n = 50_000
        elements = [f"e{i:05d}" for i in range(n)]
        push(redis, "RPUSH", "big", elements)
        self.assertEqual(llen(redis, "big"), n)
        self.assertEqual(kafka.control("rtt -1 20"), "OK")
        worker.create_connector("crash", list_config(redis, "big", batch_size=500))

        progress = {}

        def some_moved():
            worker.check_not_failed("crash")
            progress["kafka"] = topic_count(kafka, "big")
            return progress["kafka"] >= n // 5
        try:
            wait_until(some_moved, 120, "a fifth of the elements in Kafka", interval=0.1)
        except AssertionError as e:
            raise AssertionError(f"{e}: {progress.get('kafka')} records in Kafka") from None
        self.assertEqual(worker.kill9(), -9)
        in_kafka = topic_count(kafka, "big")
        left, processing = llen(redis, "big"), llen(redis, "big:processing:crash")
        sys.stderr.write(f"\nkilled with {in_kafka}/{n} records in Kafka, {left} elements in the "
                         f"list, {processing} in the processing list\n")
        self.assertLess(in_kafka, n, "everything was delivered before the kill: not mid-run")
        self.assertGreater(processing, 0, "nothing was in flight at the kill")
        # Nothing is anywhere but in the lists or in Kafka.
        self.assertGreaterEqual(left + processing + in_kafka, n)

        self.assertEqual(kafka.control("rtt -1 0"), "OK")
        started = time.monotonic()
        worker.start()
        worker.wait_running("crash", tasks=1)

        def drained():
            worker.check_not_failed("crash")
            return (llen(redis, "big") == 0 and llen(redis, "big:processing:crash") == 0
                    and topic_count(kafka, "big") >= n)
        wait_until(drained, 120, "the lists to be drained into Kafka", interval=0.2)
        records = fh.kcat_consume(kafka.bootstrap, "big")
        values = [v for _, v in records]
        counts = collections.Counter(values)
        missing = [e for e in elements if e not in counts]
        self.assertEqual(missing[:10], [], f"{len(missing)} elements lost")
        self.assertEqual(set(counts), set(elements))
        first_seen = list(dict.fromkeys(values))
        self.assertEqual(first_seen, elements, "first occurrences are not in list order")
        sys.stderr.write(f"after the restart: {len(values)} records for {n} elements "
                         f"({len(values) - n} delivered twice), drained "
                         f"{time.monotonic() - started:.1f} s after the restart\n")


class ListSourceBadConfigTest(fh.StackTest):
    def test_bad_values_and_a_key_that_is_not_a_list(self):
        redis, worker = self.redis, self.worker
        # A value the key's validator refuses: 400 naming the key.
        r = worker.post("/connectors", {"name": "bad", "config": list_config(
            redis, "jobs", redis_list_command="LPOP")})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("redis.list.command", str(r.body))
        r = worker.post("/connectors", {"name": "bad", "config": list_config(redis, "")})
        self.assertEqual(r.status, 400, r.body)
        self.assertIn("redis.list.name", str(r.body))

        # Two lists sharing one processing list: the connector fails with the reason.
        worker.create_connector("shared", list_config(redis, "a,b",
                                                      redis_list_processing="inflight"))
        s = worker.wait_running("shared", tasks=0, state="FAILED")
        self.assertIn("put ${list} in it", s["connector"].get("trace", ""))

        # A key of another type: the task fails naming it, nothing is lost or changed.
        redis.cli("SET", "notalist", "x")
        worker.create_connector("wrong", list_config(redis, "notalist"))

        def task_failed():
            s = worker.status("wrong")
            tasks = s.get("tasks", []) if s else []
            return tasks[0] if tasks and tasks[0]["state"] == "FAILED" else None
        task = wait_until(task_failed, 30, "the task on a string key to fail")
        self.assertIn("WRONGTYPE", task.get("trace", ""))
        self.assertIn("notalist", task.get("trace", ""))
        self.assertEqual(redis.cli("GET", "notalist"), "x")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)

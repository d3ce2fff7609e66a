"""The Redis sink's write modes against a real redis-server and the dev Kafka broker: every
mode and its tombstones (in offset order), TTLs (global, header, field; atomic with the
write), the templated command (GEOADD), PUBLISH, -OOM and WAIT as retriable errors, and
redis-kafka-connect's documented connector configs accepted unchanged, and redis.multiexec on a
3-master Redis Cluster (one MULTI/EXEC per key; needs test_redis_cluster.py's RedisCluster).
Records are produced with kcat and Redis is read with redis-cli.

    /usr/bin/python3 tests/integration/test_sink_modes.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None


def hgetall(redis, key):
    text = redis.cli("--raw", "HGETALL", key, strip=False)
    lines = (text[:-1] if text.endswith("\n") else text).split("\n") if text.strip() else []
    return dict(zip(lines[0::2], lines[1::2]))


def sink(redis, topic, **config):
    """A ferry sink config without redis.type (config may set it, or redis.command)."""
    cfg = {"connector.class": fh.SINK_CLASS, "tasks.max": "1", "redis.uri": redis.uri,
           "topics": topic}
    cfg.update(config)
    return cfg


class SinkModesTest(unittest.TestCase):

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-sink-modes-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.redis, self.kafka, self.worker = fh.start_stack(self, BUILD_DIR, tmp.name)

    def tearDown(self):
        if self.worker.running():
            code, _ = self.worker.terminate(timeout=30)
            self.assertEqual(code, 0, self.worker.log_text(tail=4000))
        self.assertEqual(self.worker.crash_markers(), [], self.worker.log_text(tail=6000))

    def produce(self, topic, records, headers=()):
        extra = []
        for h in headers:
            extra += ["-H", h]
        fh.kcat_produce(self.kafka.bootstrap, topic, records, partition=0, extra=extra)

    def create(self, name, config):
        self.worker.create_connector(name, config)
        self.worker.wait_running(name)

    def wait_for(self, names, predicate, what, timeout=60):
        def check():
            self.worker.check_not_failed(*names)
            return predicate()
        wait_until(check, timeout, what)

    # ------------------------------------------------------------------ modes + tombstones

    def test_every_mode_applies_writes_and_tombstones_in_offset_order(self):
        r = self.redis
        # One partition each, produced before the connectors start: one batch per topic, in
        # this order. "a": written then deleted; "b": deleted then written.
        self.produce("m-string", [("a", json.dumps("1")), ("a", None), ("b", None),
                                  ("b", json.dumps("2")), ("done", json.dumps("y"))])
        self.produce("m-hash", [("a", {"f": 1}), ("a", None), ("b", None),
                                ("b", {"f": 2, "nested": {"x": [1, 2]}, "nil": None}),
                                ("done", {"f": "y"})])
        members = [("a", 1), ("b", 2), ("a", None), ("c", None), ("c", 3), ("zz", 9)]
        self.produce("m-list", members)
        self.produce("m-lpush", members)
        self.produce("m-set", members)
        self.produce("m-zset", members)
        self.produce("m-zfield", [("a", {"score": 4.5}), ("b", {"score": "-1"}), ("zz", {"score": 9})])
        self.produce("m-stream", [(None, {"id": "5-1", "f": "x"}), ("k", None),
                                  (None, {"id": "6-1", "f": "y"}), (None, {"id": "7-1", "f": "z"})])
        self.produce("m-geo", [("Sicily", {"lon": 13.361389, "lat": 38.115556, "name": "Palermo"}),
                               ("Sicily", {"lon": 15.087269, "lat": 37.502669, "name": "Catania"}),
                               ("Sicily", None),
                               ("Sicily", {"lon": 15.0, "lat": 37.0, "name": "zz"})])

        self.create("m-string", sink(r, "m-string", **{"redis.type": "STRING"}))
        self.create("m-hash", sink(r, "m-hash", **{"redis.type": "HASH"}))
        self.create("m-list", sink(r, "m-list", **{"redis.type": "LIST"}))
        self.create("m-lpush", sink(r, "m-lpush", **{"redis.command": "LPUSH"}))
        self.create("m-set", sink(r, "m-set", **{"redis.type": "SET"}))
        self.create("m-zset", sink(r, "m-zset", **{"redis.type": "ZSET"}))
        self.create("m-zfield", sink(r, "m-zfield", **{"redis.type": "ZSET",
                                                       "redis.zset.score.field": "score"}))
        self.create("m-stream", sink(r, "m-stream", **{
            "redis.type": "STREAM", "redis.stream.id.field": "id", "redis.stream.maxlen": "2"}))
        self.create("m-geo", sink(r, "m-geo", **{
            "redis.command": "GEOADD ${key} ${value.lon} ${value.lat} ${value.name}",
            "redis.command.delete": "ZREM ${key} Palermo"}))
        names = ["m-string", "m-hash", "m-list", "m-lpush", "m-set", "m-zset", "m-zfield",
                 "m-stream", "m-geo"]

        def all_done():
            return (r.cli("GET", "m-string:done") == "y"
                    and r.cli("HGET", "m-hash:done", "f") == "y"
                    and r.cli("LPOS", "m-list", "zz") != ""
                    and r.cli("LPOS", "m-lpush", "zz") != ""
                    and r.cli("SISMEMBER", "m-set", "zz") == "1"
                    and r.cli("ZSCORE", "m-zset", "zz") == "9"
                    and r.cli("ZSCORE", "m-zfield", "zz") == "9"
                    and r.cli("XLEN", "m-stream") != "0"
                    and "7-1" in r.cli("--raw", "XRANGE", "m-stream", "-", "+")
                    and r.cli("ZSCORE", "Sicily", "zz") != "")
        self.wait_for(names, all_done, "the last record of every mode in Redis")

        self.assertEqual(r.cli("EXISTS", "m-string:a"), "0", "write then tombstone: absent")
        self.assertEqual(r.cli("GET", "m-string:b"), "2", "tombstone then write: present")
        self.assertEqual(r.cli("EXISTS", "m-hash:a"), "0")
        self.assertEqual(hgetall(r, "m-hash:b"), {"f": "2", "nested": '{"x":[1,2]}'})
        self.assertEqual(r.cli_lines("--raw", "LRANGE", "m-list", "0", "-1"), ["b", "c", "zz"])
        self.assertEqual(r.cli_lines("--raw", "LRANGE", "m-lpush", "0", "-1"), ["zz", "c", "b"])
        self.assertEqual(sorted(r.cli_lines("--raw", "SMEMBERS", "m-set")), ["b", "c", "zz"])
        self.assertEqual(r.cli_lines("--raw", "ZRANGE", "m-zset", "0", "-1", "WITHSCORES"),
                         ["b", "2", "c", "3", "zz", "9"])
        self.assertEqual(r.cli_lines("--raw", "ZRANGE", "m-zfield", "0", "-1", "WITHSCORES"),
                         ["b", "-1", "a", "4.5", "zz", "9"])
        ids = [x for x in r.cli_lines("--raw", "XRANGE", "m-stream", "-", "+")
               if fh.stream_id_like(x)]
        self.assertEqual(ids[-1], "7-1")
        self.assertIn("6-1", ids, "explicit ids from redis.stream.id.field")
        self.assertEqual(r.command_calls("xadd"), 3, "a stream tombstone writes nothing")
        # GEOADD twice, the delete template removed Palermo, then one more
        self.assertEqual(sorted(r.cli_lines("--raw", "ZRANGE", "Sicily", "0", "-1")),
                         ["Catania", "zz"])
        lon, lat = r.cli_lines("--raw", "GEOPOS", "Sicily", "Catania")
        self.assertAlmostEqual(float(lon), 15.087269, places=4)
        self.assertAlmostEqual(float(lat), 37.502669, places=4)
        for name in names:
            self.worker.wait_running(name)

    def test_publish_sends_each_value_to_the_channel(self):
        sub = subprocess.Popen([fh.REDIS_CLI, "-p", str(self.redis.port), "--raw",
                                "SUBSCRIBE", "news:m-pub"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.addCleanup(lambda: (sub.kill(), sub.wait(), sub.stdout.close()))
        wait_until(lambda: self.redis.cli_lines("PUBSUB", "NUMSUB", "news:m-pub")[-1] == "1",
                   10, "the subscriber")
        self.produce("m-pub", [("a", {"n": 1}), ("a", None), ("b", json.dumps("plain"))])
        self.create("m-pub", sink(self.redis, "m-pub", **{"redis.type": "PUBLISH",
                                                          "redis.keyspace": "news:${topic}"}))
        got = []

        def read():
            for line in sub.stdout:
                got.append(line.rstrip("\n"))
        reader = threading.Thread(target=read, daemon=True)
        reader.start()

        def two_messages():
            self.worker.check_not_failed("m-pub")
            return "plain" in got
        wait_until(two_messages, 60, "the published messages")
        # subscribe reply (3 lines), then message/channel/payload per message
        payloads = [got[i + 2] for i in range(len(got) - 2) if got[i] == "message"]
        self.assertEqual(payloads, ['{"n":1}', "plain"])

    def test_json_mode_with_redisjson(self):
        modules = self.redis.cli("MODULE", "LIST", check=False)
        if "ReJSON" not in modules and "json" not in modules.lower():
            self.skipTest("redis-server has no RedisJSON module (JSON.SET is unit-tested)")
        self.produce("m-json", [("1", {"a": {"b": 1}}), ("2", {"x": 1}), ("2", None)])
        self.create("m-json", sink(self.redis, "m-json", **{"redis.type": "JSON"}))
        self.wait_for(["m-json"], lambda: self.redis.cli("EXISTS", "m-json:1") == "1", "JSON doc")
        self.assertEqual(json.loads(self.redis.cli("JSON.GET", "m-json:1")), {"a": {"b": 1}})

    # ------------------------------------------------------------------ TTL

    def test_ttl_global_header_and_field_are_set_with_the_write(self):
        r = self.redis
        self.produce("t-global", [("a", json.dumps("v")), ("done", json.dumps("v"))])
        self.produce("t-header", [("a", json.dumps("v"))], headers=["redis.key.ttl=5000"])
        self.produce("t-header", [("b", json.dumps("v"))])
        self.produce("t-field", [("a", {"ttl": 7000, "f": 1}), ("b", {"f": 2})])
        self.produce("t-set", [("m1", 1), ("m2", 1)])
        self.create("t-global", sink(r, "t-global", **{"redis.type": "STRING",
                                                       "redis.key.ttl": "1000"}))
        self.create("t-header", sink(r, "t-header", **{"redis.type": "STRING",
                                                       "redis.key.ttl": "1000"}))
        self.create("t-field", sink(r, "t-field", **{"redis.type": "HASH",
                                                     "redis.key.ttl.field": "ttl"}))
        self.create("t-set", sink(r, "t-set", **{"redis.type": "SET", "redis.key.ttl": "3000"}))
        names = ["t-global", "t-header", "t-field", "t-set"]
        self.wait_for(names, lambda: (r.cli("EXISTS", "t-global:done") == "1"
                                      and r.cli("EXISTS", "t-header:b") == "1"
                                      and r.cli("EXISTS", "t-field:b") == "1"
                                      and r.cli("SCARD", "t-set") == "2"), "every TTL record")

        def ttl(key):
            return int(r.cli("TTL", key))
        self.assertTrue(900 < ttl("t-global:a") <= 1000, ttl("t-global:a"))
        self.assertTrue(4900 < ttl("t-header:a") <= 5000, "the header wins over the global TTL")
        self.assertTrue(900 < ttl("t-header:b") <= 1000)
        self.assertTrue(6900 < ttl("t-field:a") <= 7000, ttl("t-field:a"))
        self.assertEqual(ttl("t-field:b"), -1, "no field, no global TTL: no expiry")
        self.assertTrue(2900 < ttl("t-set") <= 3000)
        # Strings carry their TTL in SET ... EX; the others' EXPIRE ran inside MULTI/EXEC.
        self.assertEqual(r.command_calls("expire"), 3)  # t-field:a, t-set twice
        self.assertEqual(r.command_calls("exec"), 3)
        self.assertEqual(r.command_calls("multi"), 3)

    # ------------------------------------------------------------------ faults

    def test_oom_is_retried_until_redis_accepts_the_batch(self):
        r = self.redis
        r.cli("CONFIG", "SET", "maxmemory-policy", "noeviction")
        r.cli("CONFIG", "SET", "maxmemory", "1")
        self.produce("f-oom", [(f"k{i}", json.dumps(f"v{i}")) for i in range(50)])
        self.create("f-oom", sink(r, "f-oom", **{"redis.type": "STRING"}))
        self.wait_for(["f-oom"], lambda: "OOM" in self.worker.log_text(), "an OOM in the log")
        self.assertEqual(r.cli("DBSIZE"), "0")
        self.worker.wait_running("f-oom")  # retriable: the task is not FAILED
        r.cli("CONFIG", "SET", "maxmemory", "0")
        self.wait_for(["f-oom"], lambda: r.cli("DBSIZE") == "50", "the batch after OOM")
        self.assertEqual(r.cli("GET", "f-oom:k49"), "v49")

    def test_wait_with_too_few_replicas_is_retried_until_a_replica_acknowledges(self):
        r = self.redis
        self.produce("f-wait", [(f"k{i}", json.dumps(i)) for i in range(20)])
        self.create("f-wait", sink(r, "f-wait", **{"redis.type": "STRING",
                                                   "redis.wait.replicas": "1",
                                                   "redis.wait.timeout": "100"}))
        self.wait_for(["f-wait"], lambda: "0 of the 1 replicas" in self.worker.log_text(),
                      "the WAIT shortfall in the log")
        self.worker.wait_running("f-wait")
        offsets = self.worker.get("/connectors/f-wait/offsets")
        self.assertEqual(offsets.status, 200, offsets.body)
        self.assertEqual([o for o in offsets.body.get("offsets", [])
                          if o["offset"].get("kafka_offset", 0) >= 20], [],
                         "offsets were committed for a batch no replica acknowledged")

        replica = fh.RedisServer(self.tmp)
        self.addCleanup(replica.stop)
        replica.cli("REPLICAOF", "127.0.0.1", str(r.port))

        def committed():
            body = self.worker.get("/connectors/f-wait/offsets").body
            return any(o["offset"].get("kafka_offset") == 20 for o in body.get("offsets", []))
        self.wait_for(["f-wait"], committed, "offsets committed once a replica acknowledged")
        self.assertEqual(replica.cli("GET", "f-wait:k19"), "19")

    # ------------------------------------------------------------------ redis-kafka-connect

    def test_redis_kafka_connect_documented_configs_are_accepted_unchanged(self):
        """The sink guide's (1.x) properties per type and the 0.9 redis.command names, with
        redis-kafka-connect's class name, give the layout its guide describes."""
        r = self.redis
        rkc = "com.redis.kafka.connect.RedisSinkConnector"
        self.produce("orders", [("123", json.dumps("pending")), ("124", json.dumps("paid"))])
        self.produce("users", [("u1", {"name": "Ann", "age": 41})])
        self.produce("events", [(None, {"type": "click", "at": 1})])
        self.produce("ids", [("x", 1), ("y", 1)])
        self.produce("scores", [("p1", 1.5), ("p2", 2.0)])
        self.produce("legacy", [("L1", {"f": "v"})])
        base = {"connector.class": rkc, "tasks.max": "1", "redis.uri": r.uri}
        str_conv = "org.apache.kafka.connect.storage.StringConverter"
        json_conv = "org.apache.kafka.connect.json.JsonConverter"
        configs = {
            "rkc-string": {"topics": "orders", "redis.type": "STRING",
                           "key.converter": str_conv, "value.converter": str_conv},
            "rkc-hash": {"topics": "users", "redis.type": "HASH", "key.converter": str_conv,
                         "value.converter": json_conv, "value.converter.schemas.enable": "false"},
            "rkc-stream": {"topics": "events", "redis.type": "STREAM",
                           "redis.keyspace": "stream:${topic}", "value.converter": json_conv,
                           "value.converter.schemas.enable": "false"},
            "rkc-set": {"topics": "ids", "redis.type": "SET", "redis.keyspace": "set:${topic}",
                        "key.converter": str_conv},
            "rkc-zset": {"topics": "scores", "redis.type": "ZSET",
                         "redis.keyspace": "zset:${topic}", "key.converter": str_conv},
            "rkc-legacy": {"topics": "legacy", "redis.command": "HSET", "redis.key": "old"},
        }
        for name, cfg in configs.items():
            self.create(name, {**base, **cfg})
        self.wait_for(list(configs), lambda: (r.cli("EXISTS", "orders:124") == "1"
                                              and r.cli("EXISTS", "users:u1") == "1"
                                              and r.cli("XLEN", "stream:events") == "1"
                                              and r.cli("SCARD", "set:ids") == "2"
                                              and r.cli("ZCARD", "zset:scores") == "2"
                                              and r.cli("EXISTS", "old:L1") == "1"),
                      "every documented layout")
        self.assertEqual(r.cli("GET", "orders:123"), '"pending"',
                         "StringConverter values are stored as they are")
        self.assertEqual(hgetall(r, "users:u1"), {"name": "Ann", "age": "41"})
        self.assertIn("click", r.cli("--raw", "XRANGE", "stream:events", "-", "+"))
        self.assertEqual(r.cli_lines("--raw", "ZRANGE", "zset:scores", "0", "-1", "WITHSCORES"),
                         ["p1", "1.5", "p2", "2"])
        self.assertEqual(hgetall(r, "old:L1"), {"f": "v"})
        for name in configs:
            self.worker.wait_running(name)

    def test_redis_kafka_connect_quickstart_json_sink_is_accepted_unchanged(self):
        """The quickstart's redis-sink-json connector, only redis.uri pointed at this test's
        server. Its JSON.SET writes need RedisJSON, so data is checked only when present."""
        config = {
            "connector.class": "com.redis.kafka.connect.RedisSinkConnector",
            "tasks.max": "1",
            "topics": "pageviews",
            "redis.uri": self.redis.uri,
            "redis.type": "JSON",
            "key.converter": "org.apache.kafka.connect.json.JsonConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter.schemas.enable": "false",
            "transforms": "Cast",
            "transforms.Cast.type": "org.apache.kafka.connect.transforms.Cast$Key",
            "transforms.Cast.spec": "string"}
        self.create("redis-sink-json", config)
        if "ReJSON" not in self.redis.cli("MODULE", "LIST", check=False):
            return
        self.produce("pageviews", [("1451", '{"viewtime":1451,"userid":"User_6"}')])
        self.wait_for(["redis-sink-json"],
                      lambda: self.redis.cli("EXISTS", "pageviews:1451") == "1", "the document")


class SinkOnClusterTest(unittest.TestCase):
    """redis.multiexec on a Redis Cluster: a MULTI block per run of records for one key, so
    no transaction spans two slots (a whole-batch MULTI would fail with CROSSSLOT)."""

    def setUp(self):
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        try:
            from test_redis_cluster import RedisCluster
        except ImportError as e:
            self.skipTest(f"no cluster harness: {e}")
        tmp = tempfile.TemporaryDirectory(prefix="ferry-sink-cluster-")
        self.addCleanup(tmp.cleanup)
        self.cluster = RedisCluster(tmp.name)
        self.addCleanup(self.cluster.stop)
        self.kafka = fh.kafka_dev(BUILD_DIR)
        self.addCleanup(fh.stop_kafka, self.kafka)
        self.worker = fh.Worker(BUILD_DIR, tmp.name, self.kafka.bootstrap, start=False)
        self.addCleanup(self.worker.close)
        fh.dump_on_failure(self, self.worker, self.kafka)
        self.worker.start()

    def cli(self, *args):
        result = subprocess.run([fh.REDIS_CLI, "-c", "-p", str(self.cluster.ports[0]),
                                 *map(str, args)], capture_output=True, text=True, timeout=30)
        return result.stdout.rstrip("\n")

    def test_multiexec_with_ttl_wraps_each_key_on_a_cluster(self):
        n = 300
        records = [(f"k{i}", {"f": i}) for i in range(n)]
        records += [(f"k{i}", None) for i in range(10)] + [("k5", {"f": "again"})]
        records += [("done", {"f": "y"})]
        fh.kcat_produce(self.kafka.bootstrap, "cl-hash", records, partition=0)
        config = {"connector.class": fh.SINK_CLASS, "tasks.max": "1",
                  "redis.uri": f"redis://127.0.0.1:{self.cluster.ports[0]}",
                  "redis.cluster": "true", "topics": "cl-hash", "redis.type": "HASH",
                  "redis.multiexec": "true", "redis.key.ttl": "600"}
        r = self.worker.post("/connectors", {"name": "cl-hash", "config": config})
        if r.status == 400 and "Cluster" in str(r.body):
            self.skipTest(f"redis.cluster=true is still refused: {r.body}")
        self.assertEqual(r.status, 201, r.body)
        self.worker.wait_running("cl-hash")

        def done():
            self.worker.check_not_failed("cl-hash")
            return self.cli("HGET", "cl-hash:done", "f") == "y"
        wait_until(done, 90, "the last record on the cluster")
        self.assertEqual(self.cluster.dbsize(), n - 10 + 1 + 1)
        self.assertEqual(self.cli("EXISTS", "cl-hash:k3"), "0")
        self.assertEqual(self.cli("HGET", "cl-hash:k5", "f"), "again")
        self.assertEqual(self.cli("HGET", "cl-hash:k299", "f"), "299")
        for key in ("cl-hash:k5", "cl-hash:k150", "cl-hash:done"):
            self.assertTrue(590 < int(self.cli("TTL", key)) <= 600, key)
        used = [p for p in self.cluster.ports if int(self.cluster.cli(p, "DBSIZE")) > 0]
        self.assertGreater(len(used), 1, "the keys should spread over several masters")
        self.assertNotIn("CROSSSLOT", self.worker.log_text())
        self.worker.wait_running("cl-hash")


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)

"""External plug-ins from plugin.path: the example connector, transform, converter and predicate
of examples/plugins are built out of tree against the installed API (`cmake --install`,
find_package(ferry)), dropped into a plugin.path directory, listed by GET /connector-plugins with
their plug-in's version and run in a live worker (a source checked with kcat, a sink using the
plug-in converter and a transform guarded by the plug-in predicate checked in Redis); a plug-in
built for another API version and a file that is no shared object are refused with a clear log
line while the worker keeps running.

    /usr/bin/python3 tests/integration/test_plugins.py --build-dir BUILD [-v] [-k name]
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import ferry_harness as fh  # noqa: E402
from ferry_harness import wait_until  # noqa: E402

BUILD_DIR = None
SOURCE_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(SOURCE_DIR, "examples", "plugins")

COUNTER_CLASS = "com.example.ferry.CounterSourceConnector"
UPPER_CLASS = "com.example.ferry.UpperCase$Value"
CSV_CLASS = "com.example.ferry.CsvConverter"
FIELD_EQUALS_CLASS = "com.example.ferry.FieldEquals"
CSV_VERSION = "2.1.0"  # FERRY_PLUGIN_VERSION in examples/plugins/csv/csv.cpp
BUILD_TIMEOUT = 600  # two small translation units each


def run(cmd, timeout=BUILD_TIMEOUT):
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result.stdout


def build_example(name, prefix, build_dir, extra=()):
    """Configures and builds examples/plugins/<name> out of tree; returns the .so path."""
    run(["cmake", "-S", os.path.join(EXAMPLES, name), "-B", build_dir, "-G", "Ninja",
         "-DCMAKE_BUILD_TYPE=RelWithDebInfo", "-DCMAKE_CXX_COMPILER=g++",
         f"-DCMAKE_PREFIX_PATH={prefix}", *extra])
    run(["cmake", "--build", build_dir, "-j", "2"])
    found = [f for f in os.listdir(build_dir) if f.endswith(".so")]
    if len(found) != 1:
        raise AssertionError(f"expected one plug-in in {build_dir}, found {found}")
    return os.path.join(build_dir, found[0])


# Two hand-written plug-ins that misbehave in ways the worker must survive.
BAD_PLUGIN_SOURCE = r"""
#include <stdexcept>
#include "ferry/api/plugin_abi.hpp"
#include "ferry/transforms/transformation.hpp"

namespace {
void register_bad(ferry::api::plugin_host& host) {
#ifdef THROWS
  host.add_connector({.class_name = "com.example.ferry.NeverAddedConnector"});
  throw std::runtime_error("boom from the plug-in");
#else
  // Both names belong to built-ins.
  host.add_connector({.class_name = "ferry.redis.RedisSinkConnector",
                      .type = ferry::api::connector_type::sink});
  ferry::transforms::plugin_info t;
  t.class_name = "com.example.ferry.RegexRouter";
  t.make_transformation = [](const ferry::transforms::plugin_config&) {
    return std::unique_ptr<ferry::transforms::transformation>();
  };
  host.add_transform(t);
#endif
}
}  // namespace

FERRY_PLUGIN(register_bad)
"""


def compile_by_hand(prefix, tmp, name, defines=()):
    """A plug-in built with g++ alone against the installed headers; returns the .so path."""
    src = os.path.join(tmp, "bad_plugin.cpp")
    with open(src, "w") as f:
        f.write(BAD_PLUGIN_SOURCE)
    out = os.path.join(tmp, name)
    run(["g++", "-std=c++20", "-O0", "-shared", "-fPIC", "-fvisibility=hidden",
         "-I", os.path.join(prefix, "include"), *defines, src, "-o", out])
    return out


class PluginsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="ferry-plugins-")
        tmp = cls.tmp.name
        prefix = os.path.join(tmp, "prefix")
        run(["cmake", "--install", BUILD_DIR, "--prefix", prefix])
        for header in ("api/plugin_abi.hpp", "api/config_def.hpp",
                       "transforms/transformation.hpp"):
            assert os.path.isfile(os.path.join(prefix, "include", "ferry", header)), header

        # Layout as Kafka scans it: shared objects directly in a plugin.path directory and in
        # its subdirectories.
        cls.plugin_dir = os.path.join(tmp, "plugins")
        os.makedirs(os.path.join(cls.plugin_dir, "upper-case"))
        os.makedirs(os.path.join(cls.plugin_dir, "old"))
        counter = build_example("counter-source", prefix, os.path.join(tmp, "b-counter"))
        upper = build_example("upper-case", prefix, os.path.join(tmp, "b-upper"))
        csv = build_example("csv", prefix, os.path.join(tmp, "b-csv"))
        # The same connector compiled as if against another plug-in API version.
        old = build_example("counter-source", prefix, os.path.join(tmp, "b-old"),
                            ["-DCMAKE_CXX_FLAGS=-DFERRY_PLUGIN_API_VERSION=999"])
        shutil.copy(counter, os.path.join(cls.plugin_dir, "counter_source.so"))
        shutil.copy(upper, os.path.join(cls.plugin_dir, "upper-case", "upper_case.so"))
        shutil.copy(csv, os.path.join(cls.plugin_dir, "csv.so"))
        shutil.copy(old, os.path.join(cls.plugin_dir, "old", "counter_source_api999.so"))
        bad = os.path.join(cls.plugin_dir, "bad")
        os.makedirs(bad)
        shutil.copy(compile_by_hand(prefix, tmp, "clash.so"), bad)
        shutil.copy(compile_by_hand(prefix, tmp, "throws.so", ["-DTHROWS"]), bad)
        with open(os.path.join(cls.plugin_dir, "old", "not_a_library.so"), "w") as f:
            f.write("this is not an ELF file\n")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="ferry-plugins-run-")
        self.addCleanup(tmp.cleanup)
        self.redis, self.kafka, self.worker = fh.start_stack(
            self, BUILD_DIR, tmp.name, properties={"plugin.path": self.plugin_dir})

    def tearDown(self):
        if self.worker.running():
            code, _ = self.worker.terminate(timeout=30)
            self.assertEqual(code, 0, self.worker.log_text(tail=4000))
        self.assertEqual(self.worker.crash_markers(), [], self.worker.log_text(tail=6000))

    def test_plugins_are_listed_like_builtins(self):
        status, body, _ = self.worker.get("/connector-plugins")
        self.assertEqual(status, 200)
        self.assertIn({"class": COUNTER_CLASS, "type": "source"},
                      [{"class": p["class"], "type": p["type"]} for p in body])
        status, body, _ = self.worker.get("/connector-plugins?connectorsOnly=false")
        self.assertEqual(status, 200)
        kinds = {p["class"]: p["type"] for p in body}
        self.assertEqual(kinds.get(UPPER_CLASS), "transformation")
        self.assertEqual(kinds.get(CSV_CLASS), "converter")
        self.assertEqual(kinds.get(FIELD_EQUALS_CLASS), "predicate")
        self.assertEqual(kinds.get("org.apache.kafka.connect.transforms.RegexRouter"),
                         "transformation")
        # Each class reports its plug-in's version: FERRY_PLUGIN_VERSION, else the connector's
        # own, else Kafka's "undefined"; the built-ins ferry's.
        versions = {p["class"]: p["version"] for p in body}
        self.assertEqual(versions[CSV_CLASS], CSV_VERSION)
        self.assertEqual(versions[FIELD_EQUALS_CLASS], CSV_VERSION)
        self.assertEqual(versions[COUNTER_CLASS], "1.0.0")
        self.assertEqual(versions[UPPER_CLASS], "undefined")
        ferry_version = self.worker.get("/")[1]["version"]
        for builtin in ("org.apache.kafka.connect.transforms.RegexRouter",
                        "org.apache.kafka.connect.json.JsonConverter",
                        "org.apache.kafka.connect.transforms.predicates.TopicNameMatches",
                        "com.redis.kafka.connect.RedisSinkConnector"):
            self.assertEqual(versions.get(builtin), ferry_version, builtin)
        # The predicate's optional key without a default (Kafka's default null).
        status, body, _ = self.worker.get("/connector-plugins/" + FIELD_EQUALS_CLASS + "/config")
        self.assertEqual(status, 200, body)
        value = next(k for k in body if k["name"] == "value")
        self.assertEqual((value["required"], value["default_value"]), (False, None))
        status, body, _ = self.worker.get("/connector-plugins/" + UPPER_CLASS + "/config")
        self.assertEqual(status, 200, body)
        self.assertIn("field", [k["name"] for k in body])
        status, body, _ = self.worker.get("/connector-plugins/CounterSourceConnector/config")
        self.assertEqual(status, 200, body)
        self.assertTrue({"topic", "count", "message"} <= {k["name"] for k in body})

    def test_refused_plugins_are_logged_and_skipped(self):
        def logged():
            log = self.worker.log_text()
            return ("counter_source_api999.so" in log and "not_a_library.so" in log)
        wait_until(logged, 10, "the refusals in the worker log")  # written before REST is up
        log = self.worker.log_text()
        self.assertRegex(log, r"Skipping plug-in \S*counter_source_api999\.so: it was built for "
                              r"ferry plug-in API version 999, this worker provides version \d+\. "
                              r"Rebuild it")
        self.assertRegex(log, r"Skipping plug-in \S*not_a_library\.so: cannot load it")
        self.assertRegex(log, r"Skipping plug-in \S*throws\.so: its register function threw: "
                              r"boom from the plug-in\. Fix the plug-in; none of its classes")
        self.assertRegex(log, r"Refusing class ferry\.redis\.RedisSinkConnector of plug-in "
                              r"\S*clash\.so: .*registered twice")
        self.assertRegex(log, r"Refusing class com\.example\.ferry\.RegexRouter of plug-in "
                              r"\S*clash\.so: .*clashes")
        self.assertRegex(log, r"Skipping plug-in \S*clash\.so: it added no class")
        self.assertEqual(self.worker.get("/health").status, 200)
        # The good copy of the same class was loaded, exactly once.
        classes = [p["class"] for p in self.worker.get("/connector-plugins")[1]]
        self.assertEqual(classes.count(COUNTER_CLASS), 1)
        self.assertNotIn("com.example.ferry.NeverAddedConnector", classes)
        self.assertEqual(classes.count("ferry.redis.RedisSinkConnector"), 1)
        # The built-in keeps its short name.
        status, _, _ = self.worker.get("/connector-plugins/RegexRouter/config")
        self.assertEqual(status, 200)

    def test_plugin_connector_with_plugin_transform_moves_data(self):
        n = 250
        self.worker.create_connector("counter", {
            "connector.class": COUNTER_CLASS,
            "topic": "numbers",
            "count": str(n),
            "message": "record",
            "transforms": "up",
            "transforms.up.type": UPPER_CLASS,
            "transforms.up.field": "message",
        })
        self.worker.wait_running("counter")

        def all_in_kafka():
            self.worker.check_not_failed("counter")
            return fh.kafka_message_count(self.kafka.bootstrap, "numbers") >= n
        wait_until(all_in_kafka, 60, f"{n} records in topic numbers")
        records = fh.kcat_consume(self.kafka.bootstrap, "numbers")
        self.assertEqual(len(records), n)
        self.assertEqual(sorted((int(k), json.loads(v)) for k, v in records),
                         [(i, {"n": i, "message": f"RECORD {i}"}) for i in range(n)])

    def test_sink_with_plugin_converter_and_plugin_predicate(self):
        # value.converter=CsvConverter reads "id,name,lang" lines; UpperCase applies only to
        # the records FieldEquals picks (lang == en).
        n = 60
        langs = ("en", "fr", "de")
        fh.kcat_produce(self.kafka.bootstrap, "people",
                        [(f"p{i}", f"{i},name {i},{langs[i % 3]}") for i in range(n)]
                        + [("bad", "only,two")], partition=0)
        self.worker.create_connector("people-sink", fh.sink_config(
            self.redis, "people", "HASH",
            key_converter="org.apache.kafka.connect.storage.StringConverter",
            value_converter=CSV_CLASS, value_converter_fields="id,name,lang",
            errors_tolerance="all",
            transforms="up", transforms_up_type=UPPER_CLASS, transforms_up_field="name",
            transforms_up_predicate="english",
            predicates="english", predicates_english_type=FIELD_EQUALS_CLASS,
            predicates_english_field="lang", predicates_english_value="en"))

        def written():
            self.worker.check_not_failed("people-sink")
            return int(self.redis.cli("DBSIZE")) >= n
        wait_until(written, 60, f"{n} hashes in Redis")
        for i in range(n):
            fields = self.redis.cli_lines("HGETALL", f"people:p{i}")
            got = dict(zip(fields[0::2], fields[1::2]))
            name = f"NAME {i}" if langs[i % 3] == "en" else f"name {i}"
            self.assertEqual(got, {"id": str(i), "name": name, "lang": langs[i % 3]})
        # The converter's data error is tolerated like a built-in's.
        self.assertEqual(self.redis.cli("EXISTS", "people:bad"), "0")
        self.assertEqual(int(self.redis.cli("DBSIZE")), n)

    def test_validate_checks_a_plugin_transform_config(self):
        status, body, _ = self.worker.put("/connector-plugins/" + COUNTER_CLASS +
                                          "/config/validate", {
            "connector.class": COUNTER_CLASS, "topic": "t",
            "transforms": "up", "transforms.up.type": UPPER_CLASS})
        self.assertEqual(status, 200, body)
        self.assertGreater(body["error_count"], 0, body)


if __name__ == "__main__":
    BUILD_DIR, argv = fh.parse_args()
    unittest.main(argv=argv)

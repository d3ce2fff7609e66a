#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "../temp_dir.hpp"
#include "ferry/storage/offset_store.hpp"

using ferry::json;
using namespace ferry::storage;
using ferry::test::temp_dir;

namespace {

// Runs a block with the working directory set to `dir`, so relative paths land there.
class scoped_cwd {
 public:
  explicit scoped_cwd(const std::filesystem::path& dir) : old_(std::filesystem::current_path()) {
    std::filesystem::current_path(dir);
  }
  ~scoped_cwd() {
    std::error_code ec;
    std::filesystem::current_path(old_, ec);
  }
  scoped_cwd(const scoped_cwd&) = delete;
  scoped_cwd& operator=(const scoped_cwd&) = delete;

 private:
  std::filesystem::path old_;
};

bool is_empty_dir(const std::filesystem::path& dir) {
  return std::filesystem::directory_iterator(dir) == std::filesystem::directory_iterator();
}

}  // namespace

TEST_CASE("offset_key is Kafka Connect's compact [connector, partition] JSON") {
  CHECK(offset_key("conn", json{{"stream", "s"}}) == R"(["conn",{"stream":"s"}])");
  CHECK(offset_key("c", json::object()) == R"(["c",{}])");
}

TEST_CASE("file_offset_store keeps offsets across instances") {
  temp_dir dir;
  auto path = dir.file("offsets.json");
  {
    file_offset_store store(path);
    CHECK_FALSE(store.get("conn", json{{"stream", "s"}}).has_value());
    store.put("conn", {{json{{"stream", "s"}}, json{{"id", "1-0"}}},
                       {json{{"stream", "t"}}, json{{"id", "7-3"}}}});
    store.put("other", {{json{{"stream", "s"}}, json{{"id", "9-9"}}}});
    store.put("conn", {{json{{"stream", "s"}}, json{{"id", "2-0"}}}});  // newer wins
  }
  file_offset_store reloaded(path);
  auto s = reloaded.get("conn", json{{"stream", "s"}});
  REQUIRE(s.has_value());
  CHECK(*s == json{{"id", "2-0"}});
  CHECK(reloaded.get("conn", json{{"stream", "t"}}) == json{{"id", "7-3"}});
  CHECK(reloaded.get("other", json{{"stream", "s"}}) == json{{"id", "9-9"}});
  CHECK_FALSE(reloaded.get("conn", json{{"stream", "u"}}).has_value());
  CHECK(reloaded.list("conn").size() == 2);
  CHECK(reloaded.list("other").size() == 1);
  CHECK(reloaded.list("nobody").empty());
}

TEST_CASE("file_offset_store writes readable JSON with Kafka-shaped keys") {
  temp_dir dir;
  auto path = dir.file("offsets.json");
  file_offset_store store(path);
  store.put("conn", {{json{{"stream", "s"}}, json{{"id", "1-0"}}}});
  auto doc = json::parse(ferry::test::read_text(path));
  REQUIRE(doc["offsets"].is_array());
  REQUIRE(doc["offsets"].size() == 1);
  CHECK(doc["offsets"][0]["key"].dump() == R"(["conn",{"stream":"s"}])");
  CHECK(doc["offsets"][0]["value"] == json{{"id", "1-0"}});
}

TEST_CASE("file_offset_store: a null offset removes the partition, also on disk") {
  temp_dir dir;
  auto path = dir.file("offsets.json");
  {
    file_offset_store store(path);
    store.put("conn", {{json{{"stream", "s"}}, json{{"id", "1-0"}}},
                       {json{{"stream", "t"}}, json{{"id", "2-0"}}}});
    store.put("conn", {{json{{"stream", "s"}}, nullptr}});
    CHECK_FALSE(store.get("conn", json{{"stream", "s"}}).has_value());
    CHECK(store.list("conn").size() == 1);
  }
  file_offset_store reloaded(path);
  CHECK_FALSE(reloaded.get("conn", json{{"stream", "s"}}).has_value());
  CHECK(reloaded.get("conn", json{{"stream", "t"}}).has_value());
}

TEST_CASE("file_offset_store refuses a corrupt file with runtime_error") {
  temp_dir dir;
  auto path = dir.file("offsets.json");
  SUBCASE("not JSON") {
    ferry::test::write_text(path, "{\"offsets\": [ oops");
  }
  SUBCASE("no offsets array") {
    ferry::test::write_text(path, R"({"offsets": 5})");
  }
  SUBCASE("malformed key") {
    ferry::test::write_text(path, R"({"offsets": [{"key": "conn", "value": {}}]})");
  }
  SUBCASE("key whose connector is not a string") {
    ferry::test::write_text(path, R"({"offsets": [{"key": [1, {}], "value": {}}]})");
  }
  CHECK_THROWS_AS(file_offset_store{path}, std::runtime_error);
}

TEST_CASE("file_offset_store: a missing or empty file is an empty store") {
  temp_dir dir;
  CHECK(file_offset_store(dir.file("absent.json")).list("conn").empty());
  ferry::test::write_text(dir.file("empty.json"), "");
  CHECK(file_offset_store(dir.file("empty.json")).list("conn").empty());
}

TEST_CASE("file_offset_store with an empty path keeps offsets in memory and writes no file") {
  temp_dir dir;
  scoped_cwd cwd(dir.path());
  file_offset_store store("");
  store.put("conn", {{json{{"stream", "s"}}, json{{"id", "1-0"}}}});
  CHECK(store.get("conn", json{{"stream", "s"}}) == json{{"id", "1-0"}});
  CHECK(is_empty_dir(dir.path()));
  CHECK(file_offset_store("").list("conn").empty());  // nothing shared between instances
}

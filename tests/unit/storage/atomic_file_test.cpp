#include <doctest/doctest.h>

#include <filesystem>
#include <stdexcept>

#include "../temp_dir.hpp"
#include "ferry/storage/atomic_file.hpp"

using namespace ferry::storage;
using ferry::test::temp_dir;

TEST_CASE("write_file_atomically then read_file returns the same bytes") {
  temp_dir dir;
  auto path = dir.file("state.json");
  const std::string binary("a\0b\r\nc", 6);
  write_file_atomically(path, binary);
  auto back = read_file(path);
  REQUIRE(back.has_value());
  CHECK(*back == binary);

  write_file_atomically(path, "second");
  CHECK(read_file(path) == std::optional<std::string>("second"));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("read_file of a missing file is nullopt") {
  temp_dir dir;
  CHECK_FALSE(read_file(dir.file("missing")).has_value());
}

TEST_CASE("a leftover .tmp file from a crash does not break the next write") {
  temp_dir dir;
  auto path = dir.file("offsets.json");
  write_file_atomically(path, "old");
  ferry::test::write_text(path + ".tmp", "torn half-written garbage that is longer than new");
  write_file_atomically(path, "new");
  CHECK(read_file(path) == std::optional<std::string>("new"));
  CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST_CASE("write_file_atomically creates missing parent directories") {
  temp_dir dir;
  auto path = dir.file("a/b/c.json");
  write_file_atomically(path, "x");
  CHECK(read_file(path) == std::optional<std::string>("x"));
}

TEST_CASE("write_file_atomically throws runtime_error naming the path when it cannot write") {
  temp_dir dir;
  auto blocker = dir.file("not-a-dir");
  ferry::test::write_text(blocker, "file");
  auto path = blocker + "/inside.json";
  CHECK_THROWS_AS(write_file_atomically(path, "x"), std::runtime_error);
  try {
    write_file_atomically(path, "x");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(blocker) != std::string::npos);
  }
}

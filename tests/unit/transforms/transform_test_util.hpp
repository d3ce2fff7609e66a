// Helpers for the transformation tests: build one transformation from Kafka-style settings and
// records with or without schemas.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "ferry/api/errors.hpp"
#include "ferry/transforms/chain.hpp"

namespace transforms_test {

using ferry::json;
using ferry::api::config_map;
using ferry::transforms::connect_record;
using ferry::transforms::transform_chain;

inline const std::string pkg = "org.apache.kafka.connect.transforms.";

// A chain of one transformation `cls` with `settings` (keys without the transforms.t. prefix).
inline transform_chain single(const std::string& cls, const config_map& settings = {}) {
  config_map c{{"transforms", "t"}, {"transforms.t.type", cls}};
  for (const auto& [k, v] : settings) c["transforms.t." + k] = v;
  return transform_chain::from_config(c);
}

inline std::string config_error_of(const std::string& cls, const config_map& settings = {}) {
  try {
    single(cls, settings);
  } catch (const ferry::api::config_error& e) {
    return e.what();
  }
  return "";
}

inline connect_record schemaless(json value, json key = nullptr) {
  connect_record r;
  r.topic = "orders";
  r.partition = 3;
  r.key = std::move(key);
  r.value = std::move(value);
  r.timestamp_ms = 1'700'000'000'123;
  return r;
}

inline ferry::api::schema_ptr schema(json s) {
  return std::make_shared<const json>(std::move(s));
}

inline json field(const std::string& name, const std::string& type, bool optional = false) {
  return json{{"type", type}, {"optional", optional}, {"field", name}};
}

inline json struct_schema(json fields, bool optional = false) {
  return json{{"type", "struct"}, {"fields", std::move(fields)}, {"optional", optional}};
}

inline connect_record with_schema(json value_schema, json value) {
  connect_record r = schemaless(std::move(value));
  r.value_schema = schema(std::move(value_schema));
  return r;
}

// Applies the chain and requires that the record was kept.
inline connect_record run(transform_chain& chain, connect_record r) {
  auto out = chain.apply(std::move(r));
  REQUIRE(out.has_value());
  return std::move(*out);
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline const json* find_field(const json& s, const std::string& name) {
  for (const auto& f : s["fields"]) {
    if (f["field"] == name) return &f;
  }
  return nullptr;
}

}  // namespace transforms_test

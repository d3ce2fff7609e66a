// How the transformations and predicates register into the catalog (catalog.cpp).
#pragma once

#include <functional>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "ferry/transforms/transformation.hpp"
#include "util.hpp"

namespace ferry::transforms::detail {

inline const std::string transforms_package = "org.apache.kafka.connect.transforms.";
inline const std::string predicates_package = "org.apache.kafka.connect.transforms.predicates.";

using keyed_factory = std::function<std::unique_ptr<transformation>(const plugin_config&, side)>;

void add_transformation(std::vector<plugin_info>& out, const std::string& class_name,
                        std::string doc, api::config_def def,
                        std::function<std::unique_ptr<transformation>(const plugin_config&)> make);
// Registers <base>$Key and <base>$Value.
void add_keyed_transformation(std::vector<plugin_info>& out, const std::string& base,
                              const std::string& doc, const api::config_def& def,
                              const keyed_factory& make);
void add_predicate(std::vector<plugin_info>& out, const std::string& class_name, std::string doc,
                   api::config_def def,
                   std::function<std::unique_ptr<predicate>(const plugin_config&)> make);

void register_field_transforms(std::vector<plugin_info>& out);   // fields.cpp
void register_value_transforms(std::vector<plugin_info>& out);   // cast.cpp
void register_record_transforms(std::vector<plugin_info>& out);  // record_transforms.cpp
void register_time_transforms(std::vector<plugin_info>& out);    // time_transforms.cpp
void register_predicates(std::vector<plugin_info>& out);         // predicates.cpp

// Kafka's NonEmptyListValidator ("Empty list").
api::validator non_empty_list();
// Kafka's RegexValidator ("Invalid regex: ...").
api::validator valid_regex();
// Kafka's ConfigDef.NonEmptyString.
api::validator non_empty_string();
// The shared `replace.null.with.default` key (KIP-1040).
api::config_key replace_null_with_default_key();

// Java's Pattern semantics for what Kafka's transformations use (full matches, groups).
std::regex compile_regex(const std::string& pattern);

}  // namespace ferry::transforms::detail

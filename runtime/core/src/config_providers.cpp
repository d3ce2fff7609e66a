#include "ferry/core/config_providers.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "ferry/api/errors.hpp"
#include "ferry/core/log.hpp"
#include "ferry/core/properties.hpp"

namespace ferry::core {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view k_prefix = "config.providers.";

// One ${alias:path:key} or ${alias:key} reference in a value. Kafka's grammar: the alias runs to
// the first ':', the path (optional) to the next one, the key to the closing '}'.
struct reference {
  std::size_t begin = 0, end = 0;  // [begin, end) covers "${...}"
  std::string alias, path, key;
};

std::vector<reference> find_references(const std::string& value) {
  std::vector<reference> out;
  std::size_t pos = 0;
  while ((pos = value.find("${", pos)) != std::string::npos) {
    auto close = value.find('}', pos + 2);
    if (close == std::string::npos) break;
    std::string body = value.substr(pos + 2, close - pos - 2);
    auto first = body.find(':');
    if (first == std::string::npos) {
      pos += 2;
      continue;
    }
    reference r{.begin = pos, .end = close + 1, .alias = body.substr(0, first)};
    auto second = body.find(':', first + 1);
    if (second == std::string::npos) {
      r.key = body.substr(first + 1);
    } else {
      r.path = body.substr(first + 1, second - first - 1);
      r.key = body.substr(second + 1);
    }
    out.push_back(std::move(r));
    pos = close + 1;
  }
  return out;
}

// KIP-993's allowed.paths: when set, only files under those directories may be read.
class allowed_paths {
 public:
  explicit allowed_paths(const std::map<std::string, std::string>& params) {
    auto it = params.find("allowed.paths");
    if (it == params.end()) return;
    for (const auto& p : api::split_list(it->second)) {
      fs::path path(p);
      if (!path.is_absolute()) {
        throw api::config_error("allowed.paths entry '" + p + "' is not an absolute path");
      }
      roots_.push_back(path.lexically_normal());
    }
  }

  // The path to read, normalised; throws when it lies outside every allowed root.
  fs::path check(const std::string& path) const {
    fs::path p = fs::path(path).lexically_normal();
    if (roots_.empty()) return p;
    for (const auto& root : roots_) {
      auto rel = p.lexically_relative(root);
      if (!rel.empty() && *rel.begin() != "..") return p;
    }
    throw api::config_error("The path " + path + " is not under the provider's allowed.paths");
  }

 private:
  std::vector<fs::path> roots_;
};

class file_provider final : public config_provider {
 public:
  explicit file_provider(const std::map<std::string, std::string>& params) : allowed_(params) {}

  std::map<std::string, std::string> get(const std::string& path,
                                         const std::set<std::string>& keys) const override {
    if (path.empty()) throw api::config_error("The file config provider needs a file path");
    auto file = allowed_.check(path);
    std::map<std::string, std::string> props;
    try {
      props = load_properties_file(file.string());
    } catch (const std::exception& e) {
      throw api::config_error("Could not read properties from file " + path + ": " + e.what());
    }
    std::map<std::string, std::string> out;
    for (const auto& k : keys) {
      if (auto it = props.find(k); it != props.end()) out.emplace(k, it->second);
    }
    return out;
  }

 private:
  allowed_paths allowed_;
};

class directory_provider final : public config_provider {
 public:
  explicit directory_provider(const std::map<std::string, std::string>& params)
      : allowed_(params) {}

  std::map<std::string, std::string> get(const std::string& path,
                                         const std::set<std::string>& keys) const override {
    if (path.empty()) throw api::config_error("The directory config provider needs a directory");
    auto dir = allowed_.check(path);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
      throw api::config_error("Could not read directory " + path + ": not a directory");
    }
    std::map<std::string, std::string> out;
    for (const auto& k : keys) {
      // A key names a file directly in the directory, never a path out of it.
      if (k.empty() || k.find('/') != std::string::npos || k == "." || k == "..") continue;
      auto file = dir / k;
      if (!fs::is_regular_file(file, ec)) continue;
      std::ifstream in(file, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in) throw api::config_error("Could not read file " + file.string());
      out.emplace(k, text.str());
    }
    return out;
  }

 private:
  allowed_paths allowed_;
};

class env_provider final : public config_provider {
 public:
  explicit env_provider(const std::map<std::string, std::string>& params) {
    if (auto it = params.find("allowlist.pattern"); it != params.end()) {
      try {
        allow_ = std::regex(it->second, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw api::config_error("allowlist.pattern '" + it->second +
                                "' is not a valid regex: " + e.what());
      }
    }
  }

  std::map<std::string, std::string> get(const std::string& path,
                                         const std::set<std::string>& keys) const override {
    if (!path.empty()) {
      throw api::config_error("The env config provider takes no path: use ${env:VARIABLE}");
    }
    std::map<std::string, std::string> out;
    for (const auto& k : keys) {
      if (allow_ && !std::regex_match(k, *allow_)) continue;
      if (const char* v = std::getenv(k.c_str())) out.emplace(k, v);
    }
    return out;
  }

 private:
  std::optional<std::regex> allow_;
};

}  // namespace

std::string resolved_config::redact(const std::string& text) const {
  return log::hide_secrets(log::redact(text, secrets));
}

std::unique_ptr<config_provider> make_file_config_provider(
    const std::map<std::string, std::string>& params) {
  return std::make_unique<file_provider>(params);
}

std::unique_ptr<config_provider> make_directory_config_provider(
    const std::map<std::string, std::string>& params) {
  return std::make_unique<directory_provider>(params);
}

std::unique_ptr<config_provider> make_env_config_provider(
    const std::map<std::string, std::string>& params) {
  return std::make_unique<env_provider>(params);
}

std::shared_ptr<const config_providers> config_providers::from_worker_properties(
    const api::config_map& props) {
  auto out = std::make_shared<config_providers>();
  auto it = props.find("config.providers");
  if (it == props.end()) return out;
  std::string errors;
  for (const auto& alias : api::split_list(it->second)) {
    std::string prefix = std::string(k_prefix) + alias + ".";
    auto cls = props.find(prefix + "class");
    if (cls == props.end()) {
      errors += "\n  - " + prefix + "class must name the class of config provider '" + alias + "'";
      continue;
    }
    std::map<std::string, std::string> params;
    for (const auto& [k, v] : props) {
      if (k.starts_with(prefix + "param.")) params.emplace(k.substr(prefix.size() + 6), v);
    }
    const std::string& c = cls->second;
    try {
      if (c == "org.apache.kafka.common.config.provider.FileConfigProvider") {
        out->add(alias, make_file_config_provider(params));
      } else if (c == "org.apache.kafka.common.config.provider.DirectoryConfigProvider") {
        out->add(alias, make_directory_config_provider(params));
      } else if (c == "org.apache.kafka.common.config.provider.EnvVarConfigProvider") {
        out->add(alias, make_env_config_provider(params));
      } else {
        errors += "\n  - " + prefix + "class: unknown config provider " + c +
                  "; ferry has org.apache.kafka.common.config.provider.FileConfigProvider, "
                  "DirectoryConfigProvider and EnvVarConfigProvider";
      }
    } catch (const api::config_error& e) {
      errors += "\n  - config provider '" + alias + "': " + e.what();
    }
  }
  if (!errors.empty()) throw api::config_error("Invalid worker configuration:" + errors);
  return out;
}

void config_providers::add(const std::string& alias, std::unique_ptr<config_provider> provider) {
  providers_[alias] = std::move(provider);
}

bool config_providers::has_reference(const std::string& value) {
  return !find_references(value).empty();
}

resolved_config config_providers::resolve(const api::config_map& raw) const {
  resolved_config out;
  out.values = raw;
  if (providers_.empty()) return out;
  // One get() per (alias, path), as Kafka's ConfigTransformer does.
  std::map<std::pair<std::string, std::string>, std::set<std::string>> wanted;
  for (const auto& [k, v] : raw) {
    for (const auto& r : find_references(v)) {
      if (providers_.count(r.alias)) wanted[{r.alias, r.path}].insert(r.key);
    }
  }
  if (wanted.empty()) return out;
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::string>> found;
  for (const auto& [where, keys] : wanted) {
    const auto& [alias, path] = where;
    try {
      found[where] = providers_.at(alias)->get(path, keys);
    } catch (const api::config_error& e) {
      throw api::config_error("Cannot resolve the config provider reference ${" + alias + ":" +
                              (path.empty() ? "" : path + ":") + "...}: " + e.what());
    }
  }
  for (auto& [k, v] : out.values) {
    auto refs = find_references(v);
    if (refs.empty()) continue;
    std::string resolved;
    std::size_t last = 0;
    for (const auto& r : refs) {
      resolved.append(v, last, r.begin - last);
      last = r.end;
      std::string text = v.substr(r.begin, r.end - r.begin);
      auto data = found.find({r.alias, r.path});
      const std::string* value = nullptr;
      if (data != found.end()) {
        if (auto it = data->second.find(r.key); it != data->second.end()) value = &it->second;
      }
      if (!value) {
        resolved += text;  // not ours, or not there: kept as written
        continue;
      }
      resolved += *value;
      out.secrets.emplace_back(*value, std::move(text));
    }
    resolved.append(v, last);
    v = std::move(resolved);
  }
  return out;
}

void config_providers::restore_references(const api::config_map& raw_connector_config,
                                          std::vector<api::config_map>& task_configs) {
  for (const auto& [k, v] : raw_connector_config) {
    if (!has_reference(v)) continue;
    for (auto& task : task_configs) {
      if (auto it = task.find(k); it != task.end()) it->second = v;
    }
  }
}

}  // namespace ferry::core

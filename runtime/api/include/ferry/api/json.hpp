#pragma once

#include <nlohmann/json.hpp>

namespace ferry {

// Insertion-ordered JSON, so that what we write keeps the field order we chose (Jackson does the
// same), and objects read from users keep theirs (hash field order, config listings).
using json = nlohmann::ordered_json;

}  // namespace ferry

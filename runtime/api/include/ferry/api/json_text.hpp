#pragma once

#include <string>
#include <string_view>

namespace ferry::api {

// Appends `s` as a quoted JSON string, byte for byte as ferry's JsonConverter writes it
// (nlohmann's dump without ensure_ascii): `"` `\` and the control characters below 0x20 are
// escaped (\b \t \n \f \r by name, the others as \u00xx), everything else is copied, UTF-8
// included. For a source task that writes record values itself (source_record::value_bytes).
// Returns false, with `out` as it was, when `s` is not well-formed UTF-8: the converter refuses
// such a string, so the task hands that record over as data and the converter reports it.
bool append_json_string(std::string& out, std::string_view s);

}  // namespace ferry::api

#pragma once
// Attribute values in the JSON form, one at a time (the encoding is described in ir/json.h).
// No op takes string or dtype attributes yet, so this is also how tests reach those kinds.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ir/attr.h"

namespace kiln::ir {

nlohmann::json attr_to_json(const Attr& attr);
// Throws ParseError "FILE: error: POINTER: what is wrong"; `pointer` says where `value` sits.
Attr attr_from_json(const nlohmann::json& value, std::string_view filename = "<json>",
                    const std::string& pointer = "");

}  // namespace kiln::ir

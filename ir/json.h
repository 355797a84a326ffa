#pragma once
// JSON form of a Module (nlohmann-json). Round-trips exactly with the text form:
// module_from_json(to_json(m)) prints the same as m. Bad JSON gives a ParseError
// "FILE: error: <json path>: what is wrong".

#include <nlohmann/json.hpp>
#include <string_view>

#include "ir/function.h"

namespace kiln::ir {

nlohmann::json to_json(const Module& module);
Module module_from_json(const nlohmann::json& json, std::string_view filename = "<json>");
Module parse_json(std::string_view text, std::string_view filename = "<json>");

}  // namespace kiln::ir

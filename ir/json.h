#pragma once
// JSON form of a Module (nlohmann-json). Round-trips exactly with the text form:
// module_from_json(to_json(m)) prints the same as m. Bad JSON gives a ParseError
// "FILE: error: <json pointer>: what is wrong", e.g. "m.json: error: /functions/0/body/3:
// add expects operands of one shape and dtype, got f32[3] and f32[4]".
//
// Schema (version 1); every field is required unless marked optional, and unknown fields are
// errors so that typos do not pass silently:
//   {"version": 1,                                  optional; must be 1 if present
//    "functions": [                                 at least one
//      {"name": "mlp",                              an identifier, unique in the module
//       "params": [{"name": "x", "type": "f32[32,784]"}, ...],
//       "body": [{"name": "0",                      digits or an identifier, as in text
//                 "op": "dot_general",
//                 "operands": ["x", "w"],           optional, default []
//                 "attrs": {"lhs_contract": [1]},   optional, default {}
//                 "type": "f32[32,128]"}, ...],     checked against the op's rule
//       "results": ["5"]}]}                         at least one value name
// Names and types are spelled as in the text form, without the % and @ sigils; to_json writes
// body values with the printer's canonical names and leaves out default attributes likewise.
//
// Attribute values keep their kind exactly:
//   integer -> JSON integer          1, -3
//   float   -> JSON number written with a fraction or exponent (nlohmann keeps these apart
//              from integers): 0.5, 1.0, -0.0, 1e+300; JSON has no NaN or infinity, so those
//              are {"float": "nan"}, {"float": "inf"}, {"float": "-inf"}. A reader also takes
//              {"float": <number>}, which makes a float of an integer-looking number.
//   bool    -> true / false
//   dtype   -> {"dtype": "f32"}
//   string  -> JSON string
//   list    -> JSON array of values (nested at most 64 deep)

#include <nlohmann/json.hpp>
#include <string_view>

#include "ir/function.h"

namespace kiln::ir {

nlohmann::json to_json(const Module& module);
Module module_from_json(const nlohmann::json& json, std::string_view filename = "<json>");
Module parse_json(std::string_view text, std::string_view filename = "<json>");

}  // namespace kiln::ir

#pragma once
// Parses .kir text into a Module. Every error is a ParseError whose message reads
// "FILE:LINE:COL: error: what is wrong", pointing at the offending token; type and attribute
// rule violations (from the op table's shape rules) are reported at the op's name.

#include <filesystem>
#include <string_view>

#include "ir/error.h"
#include "ir/function.h"

namespace kiln::ir {

class ParseError : public Error {
 public:
  using Error::Error;
};

Module parse_module(std::string_view text, std::string_view filename = "<input>");
// Reads and parses a file; an unreadable file is a ParseError "FILE: error: cannot read: ...".
Module parse_file(const std::filesystem::path& path);

}  // namespace kiln::ir

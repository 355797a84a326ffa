#pragma once
// Parses .kir text into a Module. Every error is a ParseError whose message reads
// "FILE:LINE:COL: error: what is wrong", pointing at the offending token; type and attribute
// rule violations (from the op table's shape rules) are reported at the op's name.

#include <filesystem>
#include <string>
#include <string_view>

#include "ir/error.h"
#include "ir/function.h"

namespace kiln::ir {

class ParseError : public Error {
 public:
  using Error::Error;
};

Module parse_module(std::string_view text, std::string_view filename = "<input>");
// Reads and parses a file (stdin for "-", named <stdin>); an unreadable file, or one that is
// not a regular file, is a ParseError "FILE: error: cannot open: REASON" or "FILE: error: is a
// directory, not a regular file".
Module parse_file(const std::filesystem::path& path);
// The text parse_file parses, with its errors: for readers of other forms (JSON).
std::string read_program_text(const std::filesystem::path& path);

}  // namespace kiln::ir

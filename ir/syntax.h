#pragma once
// Pieces of the .kir form shared by the printer, the text parser and the JSON form: value
// names, tensor types, attribute values, and adding an op the way a reader must (checking the
// written result type). Keeping them in one place keeps the three forms in step.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ir/function.h"
#include "ir/lexer.h"

namespace kiln::ir {

// Limits that keep any input from overflowing an element count or the stack.
inline constexpr int64_t kMaxElements = int64_t{1} << 40;
inline constexpr int kMaxAttrDepth = 64;

bool is_identifier(std::string_view s);  // [A-Za-z_][A-Za-z0-9_.]*
bool is_value_name(std::string_view s);  // digits or an identifier

// The element count of `shape`, or nullopt when it is over kMaxElements or a dimension is
// negative. Never overflows.
std::optional<int64_t> bounded_num_elements(const Shape& shape);

// The printed name of every node, indexed by node id. Parameters keep their names; body
// values count 0, 1, ... in body order, skipping numbers a parameter already uses as its name
// (a parameter may be called %1), so printed text never defines a name twice.
std::vector<std::string> value_names(const Function& function);

// A node's attributes as the printer writes them: in the op table's order, leaving out
// optional ones that equal the default canonical_attrs would fill in.
std::vector<std::pair<std::string_view, const Attr*>> written_attrs(const Node& node);

// Read one type (f32[2,3]) or attribute value from `lexer`; SyntaxError on bad input.
TensorType read_type(Lexer& lexer);
Attr read_attr(Lexer& lexer, int depth = 0);
// The same over a whole string, which must hold nothing else. Error places are in the string.
TensorType parse_type_string(std::string_view text);
Attr parse_attr_string(std::string_view text);

// Why add_written_op refused an op: its rule (reported at the op's name) or a written result
// type that differs from the rule's (reported at the type).
struct OpRuleError {
  bool at_type = false;
  std::string message;
};

// Adds an op as read from text or JSON: `written` is the result type the input states, which
// must equal the one the op's rule gives. Throws OpRuleError.
Value add_written_op(Function& function, OpKind op, std::vector<Value> operands, Attrs attrs,
                     const TensorType& written);

}  // namespace kiln::ir

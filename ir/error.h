#pragma once
// User-facing errors. Every message starts with the component that raised it ("[verify] ...")
// or, for text input, with the place ("model.kir:12:7: error: ..."). Internal invariants are
// assertions, never these.

#include <stdexcept>
#include <string>

namespace kiln {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised by shape rules and the verifier when types or attributes break an op's rule. The
// message names the rule but not the place: the parser and the builder add that.
class TypeError : public Error {
 public:
  using Error::Error;
};

}  // namespace kiln

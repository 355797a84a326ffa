#include "ir/interpreter.h"

// Implementation pending.

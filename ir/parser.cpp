#include "ir/parser.h"

// Implementation pending.

#include "ir/json.h"

// Implementation pending.

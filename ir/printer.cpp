#include "ir/printer.h"

// Implementation pending.

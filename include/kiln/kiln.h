#pragma once
// <kiln/kiln.h>: the whole C++ frontend, for programs outside this tree (kiln::kiln, kiln.pc).
// The headers include each other from the root of the source tree ("ir/function.h"), which
// the installed tree keeps under include/kiln/; the package puts that folder on the include
// path too.

#include "frontend/kiln.h"  // IWYU pragma: export

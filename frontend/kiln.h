#pragma once
// The whole frontend in one include.

#include "frontend/callable.h"    // IWYU pragma: export
#include "frontend/compile.h"     // IWYU pragma: export
#include "frontend/composite.h"   // IWYU pragma: export
#include "frontend/creation.h"    // IWYU pragma: export
#include "frontend/linalg.h"      // IWYU pragma: export
#include "frontend/ops.h"         // IWYU pragma: export
#include "frontend/promotion.h"   // IWYU pragma: export
#include "frontend/random.h"      // IWYU pragma: export
#include "frontend/reductions.h"  // IWYU pragma: export
#include "frontend/shape_ops.h"   // IWYU pragma: export
#include "frontend/tensor.h"      // IWYU pragma: export
#include "frontend/tensor_io.h"   // IWYU pragma: export
#include "frontend/trace.h"       // IWYU pragma: export
#include "frontend/transforms.h"  // IWYU pragma: export
#include "frontend/tree.h"        // IWYU pragma: export

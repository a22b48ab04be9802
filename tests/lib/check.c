// SPDX-License-Identifier: MIT
/* The count behind VT_CHECK (vfiotest.h). */
#include "vfiotest.h"

int vt_failures;

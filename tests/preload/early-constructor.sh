#!/bin/sh
# SPDX-License-Identifier: MIT
# Another preloaded library's constructor (early_ctor) calls open/ioctl/dup
# before or after the shim's: both preload orders.
#   early-constructor.sh LIB EARLY_CTOR PRELOAD_CHECKS
set -e
lib=$1 early=$2 checks=$3
LD_PRELOAD=$lib:$early "$checks" --early
LD_PRELOAD=$early:$lib "$checks" --early

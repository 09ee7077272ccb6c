// Picks the vector type for the instruction set this translation unit is
// compiled for (DLCORE_ISA_generic / _avx2 / _avx512, set by CMake).
#pragma once
#if defined(DLCORE_ISA_avx512)
#include "kernels/cpu/vec_avx512.h"
#elif defined(DLCORE_ISA_avx2)
#include "kernels/cpu/vec_avx2.h"
#else
#include "kernels/cpu/vec_generic.h"
#endif

// Runtime settings: threads and the instruction set the kernels use.
#pragma once
#include <string>
#include <vector>

#include "dlcore/dtype.h"

namespace dlcore {

void set_num_threads(int n);
int get_num_threads();

// The floating dtype that Python floats take in ops, that a float result of integer
// inputs takes (true division, sqrt of an int tensor), and that the factories use when
// given none: float32 unless set. set_default_dtype throws TypeError for a dtype other
// than float32 or float64.
DType default_dtype();
void set_default_dtype(DType dtype);

// "generic", "avx2" or "avx512": the kernel set chosen at load time.
std::string active_isa();
// Kernel sets this CPU can run, lowest first.
std::vector<std::string> available_isas();
// Kernel sets compiled into this build.
std::vector<std::string> compiled_isas();
// Switches the kernel set; throws ValueError for an unknown name and
// RuntimeError for one the CPU lacks.
void set_isa(const std::string& name);

// One entry per op of ops/op_list.h.
struct OpInfo {
  std::string name, family;
  bool differentiable;
};
std::vector<OpInfo> op_registry();

std::string version();
std::string compiler();
bool openmp_enabled();
bool cuda_available();

}  // namespace dlcore

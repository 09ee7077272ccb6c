// Runtime settings: threads and the instruction set the kernels use.
#pragma once
#include <string>
#include <vector>

namespace dlcore {

void set_num_threads(int n);
int get_num_threads();

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

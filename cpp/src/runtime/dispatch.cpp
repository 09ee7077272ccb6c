// Picks the kernel table once at load time: the best instruction set the CPU
// supports, or the lower one named by DLCORE_ISA. Also holds the thread count
// and the facts dlcore.config() reports.
#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <string>
#include <vector>

#include "dlcore/error.h"
#include "dlcore/runtime.h"
#include "kernels/cpu/kernels.h"

namespace dlcore {
namespace {

struct IsaEntry {
  const char* name;
  const kernels::KernelTable& (*table)();
  bool (*supported)();
};

bool always() { return true; }
#if defined(DLCORE_HAVE_X86_ISAS)
bool cpu_has_avx2() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
bool cpu_has_avx512() {
  __builtin_cpu_init();
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
}
#endif

const std::vector<IsaEntry>& isa_entries() {
  static const std::vector<IsaEntry> entries = {
      {"generic", &kernels::generic::table, &always},
#if defined(DLCORE_HAVE_X86_ISAS)
      {"avx2", &kernels::avx2::table, &cpu_has_avx2},
      {"avx512", &kernels::avx512::table, &cpu_has_avx512},
#endif
  };
  return entries;
}

const IsaEntry* find_isa(const std::string& name) {
  for (const auto& e : isa_entries())
    if (name == e.name) return &e;
  return nullptr;
}

std::string known_isas() {
  std::string s;
  for (const char* n : {"generic", "avx2", "avx512"}) s += (s.empty() ? "" : ", ") + std::string(n);
  return s;
}

std::atomic<const kernels::KernelTable*> g_table{nullptr};
std::atomic<int> g_threads{0};

const kernels::KernelTable* choose_default() {
  const char* env = std::getenv("DLCORE_ISA");
  if (env && *env) {
    set_isa(env);  // throws for an unknown or unsupported set
    return g_table.load();
  }
  const IsaEntry* best = nullptr;
  for (const auto& e : isa_entries())
    if (e.supported()) best = &e;
  return &best->table();
}

}  // namespace

void set_isa(const std::string& name) {
  if (name != "generic" && name != "avx2" && name != "avx512")
    throw ValueError("DLCORE_ISA: unknown instruction set '" + name + "'; expected one of " +
                     known_isas());
  const IsaEntry* e = find_isa(name);
  if (!e) throw RuntimeError("DLCORE_ISA: '" + name + "' kernels are not compiled into this build");
  if (!e->supported()) throw RuntimeError("DLCORE_ISA: this CPU does not support '" + name + "'");
  g_table.store(&e->table());
}

std::string active_isa() { return kernels::active().name; }

std::vector<std::string> available_isas() {
  std::vector<std::string> out;
  for (const auto& e : isa_entries())
    if (e.supported()) out.push_back(e.name);
  return out;
}

std::vector<std::string> compiled_isas() {
  std::vector<std::string> out;
  for (const auto& e : isa_entries()) out.push_back(e.name);
  return out;
}

void set_num_threads(int n) {
  if (n < 1) throw ValueError(str_cat("set_num_threads: expected a positive count, got ", n));
  g_threads.store(n);
}

namespace {
std::atomic<DType> g_default_dtype{DType::Float32};
}  // namespace

DType default_dtype() { return g_default_dtype.load(std::memory_order_relaxed); }

void set_default_dtype(DType dtype) {
  if (!is_floating(dtype))
    throw TypeError(
        str_cat("set_default_dtype: only float32 and float64 can be the default dtype, got ",
                dtype_name(dtype)));
  g_default_dtype.store(dtype);
}

int get_num_threads() {
  int n = g_threads.load(std::memory_order_relaxed);
  if (n == 0) {
    n = omp_get_max_threads();
    g_threads.store(n);
  }
  return n;
}

std::string version() { return DLCORE_VERSION; }
std::string compiler() { return DLCORE_COMPILER; }
bool openmp_enabled() { return true; }
bool cuda_available() { return false; }

namespace kernels {
const KernelTable& active() {
  const KernelTable* t = g_table.load(std::memory_order_acquire);
  if (!t) {
    t = choose_default();
    g_table.store(t);
  }
  return *t;
}
}  // namespace kernels

}  // namespace dlcore

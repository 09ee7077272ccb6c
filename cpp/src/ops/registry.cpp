// Exposes op_list.h as data (see runtime.h: op_registry).
#include "dlcore/runtime.h"

namespace dlcore {

std::vector<OpInfo> op_registry() {
  return {
#define DLCORE_OP(name, family, differentiable) {#name, #family, differentiable},
#include "ops/op_list.h"
#undef DLCORE_OP
  };
}

}  // namespace dlcore

// 64-byte-aligned host memory with a cache of freed blocks, so repeated ops
// of the same size reuse warm, already-mapped pages. On Linux, blocks of 2 MiB and
// more are mapped 2 MiB-aligned and advised for transparent huge pages (allocator.cpp).
#pragma once
#include <cstddef>

namespace dlcore {

void* cpu_alloc(size_t nbytes);
void cpu_free(void* p, size_t nbytes);
// Returns every cached block to the system.
void cpu_empty_cache();

}  // namespace dlcore

// Random number generation: a seeded generator per stream and a default one.
#pragma once
#include <cstdint>
#include <mutex>
#include <random>

namespace dlcore {

class Generator {
 public:
  explicit Generator(uint64_t seed = 5489u) { manual_seed(seed); }
  void manual_seed(uint64_t seed) {
    seed_ = seed;
    engine_.seed(seed);
    has_spare_ = false;
  }
  uint64_t initial_seed() const { return seed_; }
  uint64_t next_u64() { return engine_(); }
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }
  // Standard normal (Box-Muller, second value kept for the next call).
  double normal();
  std::mutex mutex;  // held while a tensor is filled

 private:
  uint64_t seed_ = 0;
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace dlcore

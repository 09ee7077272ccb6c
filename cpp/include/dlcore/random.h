// Random number generation: a seeded generator per stream and a default one.
#pragma once
#include <cstdint>
#include <mutex>
#include <random>
#include <string>

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
  // The whole state (seed, engine, the normal kept for the next call) as text, and back:
  // set_state(get_state()) makes the generator repeat the values it gave from that point.
  std::string get_state() const;
  void set_state(const std::string& state);
  std::mutex mutex;  // held while a tensor is filled

 private:
  uint64_t seed_ = 0;
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

Generator& default_generator();

// 64 random-looking bits from (seed, index): the splitmix64 finaliser of seed ^ index.
// Counter-based, so a mask drawn element by element on any thread is the same on every
// thread count, and a backward regenerates its forward's mask instead of storing it.
inline uint64_t counter_bits(uint64_t seed, uint64_t index) {
  uint64_t x = (seed ^ index) + 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
// Whether element `index` survives dropout with probability p of dropping: its top 24
// counter bits, read as a uniform number in [0, 1), are at least p.
inline bool dropout_keeps(uint64_t seed, uint64_t index, uint32_t threshold24) {
  return (counter_bits(seed, index) >> 40) >= threshold24;
}
// p in [0, 1] as the threshold of dropout_keeps (2^24 for p = 1: nothing is kept).
inline uint32_t dropout_threshold(double p) {
  const double t = p * 16777216.0;
  const uint32_t c = static_cast<uint32_t>(t);
  return c + (static_cast<double>(c) < t ? 1u : 0u);
}
void manual_seed(uint64_t seed);

}  // namespace dlcore

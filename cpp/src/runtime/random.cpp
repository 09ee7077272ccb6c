#include "dlcore/random.h"

#include <cmath>
#include <sstream>

#include "dlcore/error.h"

namespace dlcore {

double Generator::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u1;
  do {
    u1 = uniform();
  } while (u1 <= 0.0);
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * M_PI * u2;
  spare_ = r * std::sin(theta);
  has_spare_ = true;
  return r * std::cos(theta);
}

std::string Generator::get_state() const {
  std::ostringstream out;
  out.precision(17);
  out << "dlcore-mt19937_64 " << seed_ << ' ' << has_spare_ << ' ' << std::hexfloat << spare_ << ' '
      << engine_;
  return out.str();
}

void Generator::set_state(const std::string& state) {
  std::istringstream in(state);
  std::string tag;
  uint64_t seed = 0;
  bool has_spare = false;
  std::string spare_text;
  std::mt19937_64 engine;
  in >> tag >> seed >> has_spare >> spare_text >> engine;
  if (tag != "dlcore-mt19937_64" || in.fail())
    throw ValueError("set_rng_state: not a state saved by get_rng_state");
  seed_ = seed;
  has_spare_ = has_spare;
  spare_ = std::strtod(spare_text.c_str(), nullptr);
  engine_ = engine;
}

Generator& default_generator() {
  static Generator* g = new Generator(0x5eed);
  return *g;
}

void manual_seed(uint64_t seed) {
  Generator& g = default_generator();
  std::lock_guard<std::mutex> lock(g.mutex);
  g.manual_seed(seed);
}

}  // namespace dlcore

// dlcore's exceptions. The Python binding maps them to ValueError, TypeError,
// IndexError, RuntimeError and MemoryError.
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace dlcore {

struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Shapes, sizes, broadcasting, bad argument values.
struct ValueError : Error {
  using Error::Error;
};
// Dtypes and devices.
struct TypeError : Error {
  using Error::Error;
};
// Out-of-range indices and dims.
struct IndexError : Error {
  using Error::Error;
};
// Autograd misuse and other runtime states.
struct RuntimeError : Error {
  using Error::Error;
};
// An allocation the system refused.
struct MemoryError : Error {
  using Error::Error;
};

std::string shape_str(const std::vector<int64_t>& shape);

template <class... Args> std::string str_cat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

}  // namespace dlcore

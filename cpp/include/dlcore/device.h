// Where a tensor's storage lives. Only the CPU exists today; the CUDA backend
// fills in DeviceType::CUDA.
#pragma once
#include <string>

namespace dlcore {

enum class DeviceType : int { CPU = 0, CUDA = 1 };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const {
    return type == DeviceType::CPU ? "cpu" : "cuda:" + std::to_string(index);
  }
};

}  // namespace dlcore

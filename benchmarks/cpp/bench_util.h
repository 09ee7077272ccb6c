// What the C++ benchmark binaries share: their flags (--runs N, --json FILE), the median
// of repeated runs, and the table and JSON rows they print.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace bench {

struct Args {
  int runs = 7;
  const char* json = nullptr;
};

// Reads --runs and --json; exits with a usage line on anything else.
inline Args parse_args(int argc, char** argv, const char* name) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) {
      a.runs = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--json") && i + 1 < argc) {
      a.json = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--runs N] [--json FILE]\n", name);
      std::exit(2);
    }
  }
  return a;
}

// The median over `runs` timed calls of f, after one untimed call.
inline double median_seconds(const std::function<void()>& f, int runs) {
  f();
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto a = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Rows of (threads, case, milliseconds, GFLOP/s when flops > 0): printed as a table and
// kept for the JSON file.
class Report {
 public:
  void header() const { std::printf("%-8s %-34s %10s %10s\n", "threads", "case", "ms", "GFLOP/s"); }
  void add(int threads, const std::string& name, double seconds, double flops) {
    const double gflops = flops > 0 ? flops / seconds / 1e9 : 0.0;
    if (flops > 0)
      std::printf("%-8d %-34s %10.3f %10.1f\n", threads, name.c_str(), seconds * 1e3, gflops);
    else
      std::printf("%-8d %-34s %10.3f %10s\n", threads, name.c_str(), seconds * 1e3, "-");
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "%s{\"threads\": %d, \"case\": \"%s\", \"ms\": %.4f, \"gflops\": %.2f}",
                  rows_.empty() ? "" : ",\n ", threads, name.c_str(), seconds * 1e3, gflops);
    rows_ += buf;
  }
  // Writes the rows as a JSON list to path (if given); false on an I/O error.
  bool write_json(const char* path) const {
    if (!path) return true;
    FILE* f = std::fopen(path, "w");
    if (!f) {
      std::perror(path);
      return false;
    }
    std::fprintf(f, "[%s]\n", rows_.c_str());
    std::fclose(f);
    return true;
  }

 private:
  std::string rows_;
};

}  // namespace bench

// The GEMM driver: cache blocking, packing and threads around the per-ISA
// micro-kernels of gemm_microkernel.cpp (Goto/BLIS structure).
//
//   for each panel of B's columns (jc, at most panel_bytes() packed):
//     for each block of A's rows (ic, at most panel_bytes() packed):
//       for each k block p (kc deep, in order):
//         pack A[ic, p] and B[p, jc]                       (threads over slivers)
//         for each task = (block of nc columns) x (chunk of rows):  (threads over tasks)
//           for each MR-row sliver of A:        (kc x MR, stays in L1)
//             for each NR-column sliver of B:   (kc x NR, streamed from the L2 block)
//               micro-kernel on one MR x NR tile of C
//
// Packing each k block just before its products keeps it in L2 for them: packed whole
// first, a B of 4096 x 512 was written out to memory and read back, and the weight
// gradient of a Linear layer with 4096 rows ran at 0.65x PyTorch's speed when its inputs
// came from memory (the usual case in a training step). Where B needs no packing (packed
// ahead by the caller, or read from an image), A is packed for all k blocks first and
// each task runs the k blocks in turn: two parallel regions per panel, not two per k block.
//
// Large products on several threads skip the shared packing: C is cut into one band of
// rows or columns per thread, and each runs the loops above alone on its band
// (split_between_threads).
//
// K is never split between threads and the k blocks depend on K alone, so each
// element of C gets the same operations in the same order whatever the thread
// count: results are bitwise reproducible. Small problems skip the threads and
// read A in place instead of packing it; the smallest, with a row-major B, skip
// the blocking and read B in place too (direct_gemm), and a single column or row
// of C is computed by its own loop (dot_gemm, row_gemm).
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <mutex>
#include <new>
#include <string>
#include <vector>

#include "dlcore/error.h"
#include "dlcore/gemm.h"
#include "kernels/cpu/kernels.h"
#include "runtime/parallel.h"

namespace dlcore {
namespace {

using kernels::GemmKernels;
using kernels::GemmTile;

// Below this many multiply-adds a problem runs on the calling thread: a
// parallel region costs more than it saves.
constexpr int64_t kParallelMinFma = int64_t(1) << 17;
// The packing driver's threads may need more: each thread reads slivers another thread
// packed, and writes into buffer lines the other thread read in the last call, so a
// packed panel crosses between the cores' caches on every call. What that costs depends
// on the machine. Measured at 2 threads (1-thread time / 2-thread time) on a 2-core
// Sapphire Rapids VM: 0.5-0.8 for 0.16-1 M multiply-adds, 0.8-1.0 at 2 M, 0.8-1.24 at
// 3 M, 1.1-1.8 at 4 M; on a 2-core Zen 4 VM (where a core read 256 KiB written by the
// other at a third of its own cache's speed too): 1.2 at 0.5 M, 1.4 at 1 M, 1.45 at
// 2 M. So from kDriverParallelMinFma the driver always takes threads, and below it
// from the size driver_threads_from() measures on this machine.
constexpr int64_t kDriverParallelMinFma = int64_t(3) << 20;
// The fewest rows or columns of C a thread takes where each packs its own operands
// (split_between_threads): a band of 64 rows of a 128^3 product ran 6% slower than the
// threads' shared copies, its copy of B costing as much as the sharing.
constexpr int64_t kMinBand = 128;
// A is read in place below this many multiply-adds, or when B has at most eight
// column slivers (each sliver of A would serve too few micro-tiles to repay its
// packing: a Linear layer's products at 128..256 features ran 10-40% faster so) --
// unless A's rows lie a multiple of 4 KiB apart, where the MR rows read at once
// would all fall in one L1 set and evict each other.
constexpr int64_t kPackAMinFma = int64_t(1) << 22;
constexpr int64_t kPackAMinPanels = 8;
constexpr int64_t kAliasingStride = 4096;
// A patch matrix is read in place from its image (no packing) for products of at most
// this many rows: below it each packed value would serve too few multiply-adds to repay
// writing it (1 thread, 64-channel 3x3 patches: 59 vs 31 GFLOP/s at 16 rows, 68 vs 61 at
// 64), above it the packed panel's aligned loads win (65 vs 71 at 128).
constexpr int64_t kImageMaxRows = 96;
// From this many multiply-adds the task split searches for the best balance.
constexpr int64_t kSplitSearchMinFma = int64_t(1) << 22;
// Up to this many multiply-adds and this depth, a row-major B is read in place and
// nothing is blocked (direct_gemm); up to kDirectInL2MaxFma too where B takes at most
// half of L2, as a packed block of B does in the driver: each row tile of A then reads B
// from L2, and packing either would cost more than the aligned, contiguous loads of the
// packed copies save. On a 2-core Zen 4 VM (1 MiB L2), 1 thread, us, packing driver
// against B in place: 100^3 22.0 / 21.2, 64x128x128 20.5 / 19.2, 64x256x64 21.5 / 19.7,
// 128x512x64 84.4 / 76.8, 128x512x128 165 / 149, 256^3 304 / 292; at 2 threads
// up to 1.5x faster. Where B overflows L2 the blocking pays (32x1024x512 and
// larger; 512^3 and 1024^2x512 were even, or faster packed at 2 threads).
constexpr int64_t kDirectMaxFma = int64_t(1) << 18;
constexpr int64_t kDirectInL2MaxFma = int64_t(1) << 24;
constexpr int64_t kDirectMaxK = 512;
// The rows of C the narrow product (narrow_gemm) computes at a time (a multiple of NR).
constexpr int64_t kNarrowRows = 4096;

int64_t env_int(const char* name, int64_t fallback) {
  const char* s = std::getenv(name);
  if (!s || !*s) return fallback;
  char* end = nullptr;
  long long v = std::strtoll(s, &end, 10);
  return (end && *end == '\0' && v > 0) ? v : fallback;
}

int64_t cache_bytes(int name, int64_t fallback) {
  long v = sysconf(name);
  return v > 0 ? v : fallback;
}

int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
int64_t ceil_div(int64_t x, int64_t m) { return (x + m - 1) / m; }

GemmBlocking blocking_for(int64_t mr, int64_t nr, int64_t elem) {
  static const int64_t l1 = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 32 << 10);
  static const int64_t l2 = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 512 << 10);
  // A's kc x mr sliver takes 7/8 of L1, at most 384 deep (deeper blocks gave
  // nothing more in float32 here; float64's 14 x 256 sliver fills the 28 KiB);
  // B's kc x nc block half of L2. DLCORE_GEMM_KC / DLCORE_GEMM_NC override
  // both (for tuning runs).
  int64_t kc = std::clamp<int64_t>(l1 * 7 / 8 / (mr * elem) / 8 * 8, 64, 384);
  static const int64_t kc_env = env_int("DLCORE_GEMM_KC", 0);
  static const int64_t nc_env = env_int("DLCORE_GEMM_NC", 0);
  if (kc_env > 0) kc = kc_env;
  int64_t nc = std::max<int64_t>(nr, l2 / 2 / (kc * elem) / nr * nr);
  if (nc_env > 0) nc = round_up(nc_env, nr);
  return {kc, nc, mr, nr, l1, l2};
}

// The most bytes of packed A (rows x K) or packed B (K x columns) a thread
// holds at once: half the L3 cache, between 2 and 16 MiB, so a calling thread
// keeps at most 32 MiB of packing buffers. DLCORE_GEMM_PANEL_KIB sets another
// size (tests use a small one to cross many panels).
int64_t panel_bytes() {
  static const int64_t bytes = [] {
    const int64_t l3 = cache_bytes(_SC_LEVEL3_CACHE_SIZE, 8 << 20);
    const int64_t fallback = std::clamp<int64_t>(l3 / 2, int64_t(2) << 20, int64_t(16) << 20);
    return env_int("DLCORE_GEMM_PANEL_KIB", fallback >> 10) << 10;
  }();
  return bytes;
}

// A buffer per thread that only grows, so steady-state calls never allocate.
struct Workspace {
  void* p = nullptr;
  size_t cap = 0;
  ~Workspace() { std::free(p); }
  void* get(size_t bytes) {
    if (bytes > cap) {
      std::free(p);
      p = nullptr;
      cap = 0;
      size_t n = (bytes + 63) / 64 * 64;
      p = std::aligned_alloc(64, n);
      if (!p) throw std::bad_alloc();
      cap = n;
    }
    return p;
  }
};
thread_local Workspace tls_pack_a, tls_pack_b, tls_narrow;

template <class T>
const GemmKernels<T>& kernels_for() {
  if constexpr (std::is_same_v<T, float>) return kernels::active().gemm_f32;
  else return kernels::active().gemm_f64;
}

// C = act(beta * C + bias) for alpha == 0 or K == 0: A and B are not read.
template <class T>
void scale_only(const GemmProblem<T>& p, T* c) {
  const auto& ep = p.epilogue;
  for (int64_t i = 0; i < p.M; ++i)
    for (int64_t j = 0; j < p.N; ++j) {
      T& x = c[i * p.ldc + j];
      T v = p.beta == T(0) ? T(0) : p.beta * x;
      if (ep.bias) v += ep.bias[ep.bias_per_row ? i : j];
      if (ep.activation == GemmActivation::Relu) v = v > T(0) || v != v ? v : T(0);
      x = v;
    }
}

template <class T>
class Driver {
 public:
  // Threads split problems of at least threads_from multiply-adds.
  Driver(const GemmProblem<T>& p, const GemmKernels<T>& kern, int64_t threads_from)
      : p_(p),
        kern_(kern),
        blk_(blocking_for(kern.mr, kern.nr, sizeof(T))),
        mr_(kern.mr),
        nr_(kern.nr) {
    nk_ = ceil_div(p.K, blk_.kc);
    const int64_t fma = p.M * p.N * p.K;
    pack_a_ = fma >= kPackAMinFma &&
              (ceil_div(p.N, nr_) > kPackAMinPanels ||
               (p.a_cs == 1 && p.a_rs * int64_t(sizeof(T)) % kAliasingStride == 0));
    parallel_ = fma >= threads_from;
    // As few packed panels as the budgets allow, of balanced sizes (an operand
    // just over a budget splits in two halves, not a full panel and a sliver).
    const int64_t col_bytes = p.K * int64_t(sizeof(T));
    const int64_t n_panels = std::max<int64_t>(1, ceil_div(p.N * col_bytes, panel_bytes()));
    const int64_t m_panels = std::max<int64_t>(1, ceil_div(p.M * col_bytes, panel_bytes()));
    panel_n_ = round_up(ceil_div(p.N, n_panels), nr_);
    panel_m_ = round_up(ceil_div(p.M, m_panels), mr_);
    if (p.b_patches && p.M <= kImageMaxRows &&
        (p.b_patches->flat || reads_image_in_place(*p.b_patches))) {
      // B is not packed: the micro-kernel loads its vectors from the image, row k
      // koff_[k] values from where column j's patch starts (column_offset).
      const GemmPatches& g = *p.b_patches;
      koff_.resize(static_cast<size_t>(p.K));
      int64_t k = 0;
      for (int64_t c = 0; c < g.C; ++c)
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) koff_[k++] = (c * g.H + i * g.dh) * g.W + j * g.dw;
      image_ = true;
    }
  }

  bool parallel() const { return parallel_; }

  // One problem of the batch; `threads` false runs it on this thread only.
  void run(const T* a, const T* b, T* c, bool threads) {
    const int64_t M = p_.M, N = p_.N, K = p_.K;
    const int64_t pn = std::min(panel_n_, N), pm = std::min(panel_m_, M);
    // A pre-packed B serves when it is this problem's whole, single panel.
    const T* prepacked =
        p_.b_packed && N <= panel_n_ ? p_.b_packed->usable(K, N, &kern_, blk_.kc, nr_) : nullptr;
    // Where this call packs B, each k block is packed just before its products, so they
    // read it from L2; an operand packed again for every panel it serves then needs room
    // for one k block only (B with A in one panel, A with B in one panel or A in several).
    // Where B is pre-packed or read from an image, A is packed for every k block first and
    // the products run in one pass: per k block, packing and products would each be a
    // parallel region (a recurrent layer's step, 32 x 256 x 1024, would have six).
    const bool interleave = !prepacked && !image_;
    const int64_t kc_max = ceil_div(K, nk_);
    const bool b_blockwise = interleave && M <= panel_m_;
    const bool a_blockwise = interleave && (N <= panel_n_ || M > panel_m_);
    const int64_t b_depth = b_blockwise ? kc_max : K, a_depth = a_blockwise ? kc_max : K;
    T* bp = prepacked ? const_cast<T*>(prepacked)
            : image_  ? nullptr
                      : static_cast<T*>(tls_pack_b.get(sizeof(T) * b_depth * round_up(pn, nr_)));
    T* ap = pack_a_ ? static_cast<T*>(tls_pack_a.get(sizeof(T) * a_depth * round_up(pm, mr_)))
                    : nullptr;
    const bool par = threads && parallel_;
    for (int64_t jc = 0; jc < N; jc += panel_n_) {
      const int64_t nc = std::min(panel_n_, N - jc);
      for (int64_t ic = 0; ic < M; ic += panel_m_) {
        const int64_t mc = std::min(panel_m_, M - ic);
        // A is packed once when all its rows fit one panel; B once per panel.
        const Panel pa{a + ic * p_.a_rs, ap, a_blockwise, pack_a_ && (jc == 0 || M > panel_m_),
                       round_up(mc, mr_)};
        const Panel pb{b, bp, b_blockwise, ic == 0 && interleave, round_up(nc, nr_)};
        T* cp = c + ic * p_.ldc + jc;
        const Split sp = split(mc, nc, par);
        if (interleave) {
          for (int64_t blk = 0; blk < nk_; ++blk) {
            pack(blk, blk + 1, pa, mc, pb, jc, nc, par);
            compute(blk, blk + 1, pa, pb, cp, ic, jc, mc, nc, sp, par);
          }
        } else {
          pack(0, nk_, pa, mc, pb, jc, nc, par);
          compute(0, nk_, pa, pb, cp, ic, jc, mc, nc, sp, par);
        }
      }
    }
  }

 private:
  int64_t k_begin(int64_t blk) const { return blk * p_.K / nk_; }

  // A patch matrix whose every patch lies inside the image, at stride 1 along rows, with
  // output rows of whole vectors: each vector of a sliver's row k is `lanes` adjacent
  // values of the image, so B can be read where it lies.
  bool reads_image_in_place(const GemmPatches& g) const {
    return !g.flat && g.sw == 1 && g.Wo % kern_.lanes == 0 && kernels::patches_inside(g);
  }
  // Where column j's patch starts in the image (its value for k = 0).
  int64_t column_offset(int64_t j) const {
    const GemmPatches& g = *p_.b_patches;
    return (j / g.Wo * g.sh - g.ph) * g.W + j % g.Wo - g.pw;
  }

  // An operand's panel: its rows (A) or columns (B) where they lie, its packing buffer,
  // whether that holds one k block (blockwise) or all of them, whether this pass packs it
  // (fresh), and its packed width (rows of A or columns of B, in whole slivers).
  struct Panel {
    const T* src;
    T* buf;
    bool blockwise, fresh;
    int64_t width;
    T* block(int64_t k0) const { return buf ? buf + (blockwise ? 0 : k0 * width) : nullptr; }
  };

  // Packs k blocks [lo, hi) of the fresh operands: A's mc rows, B's columns [jc, jc + nc).
  // With threads, each packs an equal share of A's slivers and of B's (B's share in one
  // call, read row by row in long runs): a B sliver is kc x NR values against an A
  // sliver's kc x MR, so shares of whole jobs of either kind would be uneven.
  void pack(int64_t lo, int64_t hi, const Panel& pa, int64_t mc, const Panel& pb, int64_t jc,
            int64_t nc, bool par) {
    const int64_t sa = pa.fresh ? ceil_div(mc, mr_) : 0, sb = pb.fresh ? ceil_div(nc, nr_) : 0;
    if (sa + sb == 0) return;
    const int64_t nt = par ? std::min<int64_t>(get_num_threads(), sa + sb) : 1;
    auto share = [&](int64_t t_lo, int64_t t_hi) {
      for (int64_t t = t_lo; t < t_hi; ++t)
        for (int64_t blk = lo; blk < hi; ++blk) {
          const int64_t k0 = k_begin(blk), kc = k_begin(blk + 1) - k0;
          for (int64_t s = sa * t / nt; s < sa * (t + 1) / nt; ++s) {
            const int64_t i0 = s * mr_;
            kern_.pack_a(std::min<int64_t>(mr_, mc - i0), kc, pa.src + i0 * p_.a_rs + k0 * p_.a_cs,
                         p_.a_rs, p_.a_cs, pa.block(k0) + i0 * kc);
          }
          const int64_t j0 = sb * t / nt * nr_, j1 = std::min(nc, sb * (t + 1) / nt * nr_);
          if (j0 >= j1) continue;
          T* out = pb.block(k0) + j0 * kc;
          if (p_.b_patches)
            kern_.pack_b_patches(*p_.b_patches, pb.src, k0, kc, jc + j0, j1 - j0, out);
          else
            kern_.pack_b(kc, j1 - j0, pb.src + k0 * p_.b_rs + (jc + j0) * p_.b_cs, p_.b_rs, p_.b_cs,
                         out);
        }
    };
    if (nt > 1)
      parallel_for(0, nt, 1, share);
    else
      share(0, 1);
  }

  // The tile options of k block blk (whether it is the first and the last one); the bias
  // is set per tile.
  GemmTile<T> block_tile(int64_t blk) const {
    return {p_.alpha, p_.beta, blk == 0, blk == nk_ - 1, nullptr, nullptr,
            static_cast<kernels::GemmAct>(p_.epilogue.activation)};
  }

  // The products of k blocks [lo, hi) (each task runs them in order) into cp, from A's
  // packed blocks (or its rows in place) and B's packed blocks (or, with image_, the image
  // B is read from).
  struct Split;
  void compute(int64_t lo, int64_t hi, const Panel& pa, const Panel& pb, T* cp, int64_t ic,
               int64_t jc, int64_t mc, int64_t nc, const Split& sp, bool par) {
    const auto& ep = p_.epilogue;
    auto body = [&](int64_t t_lo, int64_t t_hi) {
      for (int64_t t = t_lo; t < t_hi; ++t) {
        const int64_t jb = t % sp.nblocks, mb = t / sp.nblocks;
        const int64_t j_lo = jb * sp.bw, j_hi = std::min(nc, j_lo + sp.bw);
        const int64_t i_lo = mb * sp.rows, i_hi = std::min(mc, i_lo + sp.rows);
        for (int64_t blk = lo; blk < hi; ++blk) {
          const int64_t k0 = k_begin(blk), kc = k_begin(blk + 1) - k0;
          const T* ab = pa.block(k0);
          const T* bb = image_ ? pb.src : pb.block(k0);
          GemmTile<T> tile = block_tile(blk);
          for (int64_t i0 = i_lo, step = 0; i0 < i_hi; i0 += step) {
            // Packed A comes in whole slivers; A read in place takes two short tiles for a
            // few rows more than one (8 + 8, not 14 + 2), as direct_gemm does.
            const int64_t left = i_hi - i0;
            step = pack_a_ || left <= mr_ || left > 2 * kern_.mr2 ? std::min<int64_t>(mr_, left)
                                                                  : kern_.mr2;
            const int m = static_cast<int>(step);
            // A's sliver: packed (MR values per k) or its rows in place.
            const T* as = pack_a_ ? ab + i0 * kc : pa.src + i0 * p_.a_rs + k0 * p_.a_cs;
            const int64_t a_rs = pack_a_ ? 1 : p_.a_rs, a_cs = pack_a_ ? mr_ : p_.a_cs;
            for (int64_t j0 = j_lo; j0 < j_hi; j0 += nr_) {
              const int n = static_cast<int>(std::min<int64_t>(nr_, nc - j0));
              if (ep.bias) {
                if (ep.bias_per_row) tile.bias_row = ep.bias + ic + i0;
                else tile.bias_col = ep.bias + jc + j0;
              }
              if (image_) {
                int64_t voff[kMaxVectors];
                for (int64_t v = 0; v < nr_ / kern_.lanes; ++v) {
                  const int64_t col = jc + j0 + v * kern_.lanes;
                  voff[v] = column_offset(col < p_.N ? col : jc + j0);
                }
                kern_.micro_image(kc, as, a_rs, a_cs, bb, koff_.data() + k0, voff,
                                  cp + i0 * p_.ldc + j0, p_.ldc, m, n, tile);
              } else {
                kern_.micro(kc, as, a_rs, a_cs, bb + j0 * kc, cp + i0 * p_.ldc + j0, p_.ldc, m, n,
                            tile);
              }
            }
          }
        }
      }
    };
    const int64_t tasks = sp.nblocks * sp.mchunks;
    if (par) parallel_for(0, tasks, 1, body);
    else body(0, tasks);
  }

  // The tasks of a panel: nblocks column blocks bw wide (whole slivers, at
  // most blk_.nc so a block of B stays in L2) times mchunks row chunks `rows`
  // tall (whole slivers). With threads, the split whose busiest thread gets
  // the least work (parallel_for hands each thread a contiguous run of
  // tasks), among those with at most 4 tasks per thread. Columns are split
  // further only into blocks of 4 slivers or more: where two threads write
  // neighbouring parts of every row of C, the cache lines at the seams bounce
  // between cores (64^3 ran 30% slower split by columns than by rows).
  struct Split {
    int64_t nblocks, bw, mchunks, rows;
  };
  Split split(int64_t mc, int64_t nc, bool par) const {
    const int64_t m_slivers = ceil_div(mc, mr_), n_slivers = ceil_div(nc, nr_);
    const int64_t nb_min = ceil_div(nc, blk_.nc);
    auto make = [&](int64_t nb, int64_t mch) {
      Split s;
      s.bw = round_up(ceil_div(nc, nb), nr_);
      s.nblocks = ceil_div(nc, s.bw);
      s.rows = ceil_div(m_slivers, mch) * mr_;
      s.mchunks = ceil_div(mc, s.rows);
      return s;
    };
    Split best = make(nb_min, 1);
    if (!par) return best;
    const int64_t nt = get_num_threads(), most = 4 * nt;
    if (p_.M * p_.N * p_.K < kSplitSearchMinFma) {
      // Small: the search (its 64-bit divisions) would cost more than an
      // uneven split; split the rows into about one chunk per thread.
      int64_t mch = 1;
      while (mch < m_slivers && (nb_min * mch) % nt != 0) ++mch;
      return make(nb_min, mch);
    }
    int64_t best_cost = -1;
    for (int64_t nb = nb_min; nb <= std::min(n_slivers, std::max(nb_min, most)); ++nb)
      for (int64_t mch = 1; mch <= m_slivers && nb * mch <= std::max(nb_min, most); ++mch) {
        const Split s = make(nb, mch);
        if (nb > nb_min && s.bw < 4 * nr_) continue;
        const int64_t tasks = s.nblocks * s.mchunks, threads = std::min(nt, tasks);
        const int64_t per = ceil_div(tasks, threads);
        int64_t worst = 0;
        for (int64_t t0 = 0; t0 < tasks; t0 += per) {
          int64_t work = 0;
          for (int64_t t = t0; t < std::min(tasks, t0 + per); ++t) {
            const int64_t jb = t % s.nblocks, mb = t / s.nblocks;
            const int64_t cols = std::min(nc - jb * s.bw, s.bw);
            const int64_t rows = std::min(mc - mb * s.rows, s.rows);
            work += round_up(rows, mr_) * round_up(cols, nr_) + mr_ * nr_;  // + a task's overhead
          }
          worst = std::max(worst, work);
        }
        if (best_cost < 0 || worst < best_cost) best = s, best_cost = worst;
      }
    return best;
  }

  const GemmProblem<T>& p_;
  const GemmKernels<T>& kern_;
  GemmBlocking blk_;
  int64_t mr_, nr_, nk_ = 1, panel_n_ = 0, panel_m_ = 0;
  bool pack_a_ = true, parallel_ = false;
  // B read in place from an image (GemmPatches): the offsets of its rows.
  static constexpr int64_t kMaxVectors = 8;
  bool image_ = false;
  std::vector<int64_t> koff_;
};

// The write-back of a tile that covers all of K (the first and the last k block), with
// the epilogue's bias from row i0 (per row) or column j0 (per column) on.
template <class T>
GemmTile<T> whole_k_tile(const GemmProblem<T>& p, int64_t i0, int64_t j0) {
  const auto& ep = p.epilogue;
  GemmTile<T> t{p.alpha, p.beta, true, true, nullptr, nullptr,
                static_cast<kernels::GemmAct>(ep.activation)};
  if (ep.bias && ep.bias_per_row) t.bias_row = ep.bias + i0;
  if (ep.bias && !ep.bias_per_row) t.bias_col = ep.bias + j0;
  return t;
}

// The fewest multiply-adds from which the packing driver runs on more than one thread,
// as measured now: square float32 products of 64^3 to 128^3 (0.26 to 2.1 M multiply-adds)
// through the driver, on the calling thread and on all threads, the fastest of 7
// alternating runs each. Threads take the smallest size from which every larger one ran
// at least 10% faster with them; none, kDriverParallelMinFma.
int64_t measure_threads_from() {
  const GemmKernels<float>& kern = kernels_for<float>();
  constexpr int64_t kSizes[] = {128, 101, 80, 64};  // largest first
  std::vector<float> a(128 * 128), b(128 * 128), c(128 * 128);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(i % 7) * 0.25f - 0.75f, b[i] = a[i] * 0.5f;
  int64_t from = kDriverParallelMinFma;
  for (const int64_t n : kSizes) {
    GemmProblem<float> p;
    p.M = p.N = p.K = n, p.a = a.data(), p.a_rs = n, p.b = b.data(), p.b_rs = n;
    p.c = c.data(), p.ldc = n;
    Driver<float> drv(p, kern, 0);
    auto seconds = [&](bool threads) {
      const auto t0 = std::chrono::steady_clock::now();
      drv.run(p.a, p.b, p.c, threads);
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    seconds(true), seconds(false);  // the threads started, the buffers grown
    double one = 1e30, all = 1e30;
    for (int r = 0; r < 7; ++r)
      one = std::min(one, seconds(false)), all = std::min(all, seconds(true));
    if (all > 0.9 * one) break;
    from = n * n * n;
  }
  return from;
}

// The threshold for a product of `fma` multiply-adds: measured only where it decides
// something, with more than one thread, outside a parallel region (inside one, nested
// regions run on one thread and the measurement would mean nothing). Measured at the
// first such product and again at the kRemeasureAt-th ones, keeping the smallest: a
// measurement disturbed by other work on the machine finds threads slower, never faster
// (once, with the other core taken, it found no gain at all where an undisturbed one
// finds 0.5 Mi). While the first measurement runs, other callers get
// kDriverParallelMinFma. DLCORE_GEMM_THREADS_FROM sets the threshold for every size
// instead (1: always threads).
constexpr int64_t kRemeasureAt[] = {0, 100, 10000};
int64_t driver_threads_from(int64_t fma) {
  static const int64_t env = env_int("DLCORE_GEMM_THREADS_FROM", 0);
  if (env > 0) return env;
  if (fma >= kDriverParallelMinFma || fma < kParallelMinFma || get_num_threads() <= 1 ||
      omp_in_parallel())
    return kDriverParallelMinFma;
  static std::atomic<int64_t> from{kDriverParallelMinFma}, calls{0};
  static std::mutex measuring;
  const int64_t n = calls.fetch_add(1, std::memory_order_relaxed);
  if (std::find(std::begin(kRemeasureAt), std::end(kRemeasureAt), n) != std::end(kRemeasureAt)) {
    std::lock_guard<std::mutex> lock(measuring);
    from.store(std::min(from.load(), measure_threads_from()));
  }
  return from.load(std::memory_order_relaxed);
}

// A small product with a row-major B: each MR x NR tile of C in one micro-kernel call,
// over the whole of K, with A and B read where they lie, except B's last, partial
// sliver, packed (zero-padded) so no load reaches past column N. Packing everything and
// the driver's set-up would cost more than the products (a 32^3 product ran 1.6x faster
// so). With `threads`, C is cut into one block per thread: rows first, in equal parts
// (not whole tiles: 64 rows run as 14 + 14 + 4 on each of two threads, not 42 and 22),
// then columns where there are too few rows.
template <class T>
void direct_gemm(const GemmProblem<T>& p, const GemmKernels<T>& kern, const T* a, const T* b, T* c,
                 bool threads) {
  const int64_t M = p.M, N = p.N, mr = kern.mr, nr = kern.nr, cols = ceil_div(N, nr);
  const int64_t j_tail = N % nr ? N / nr * nr : N;  // where the partial sliver starts
  // The tiles of rows [i_lo, i_hi) x slivers [s_lo, s_hi). Each thread packs the partial
  // sliver it needs itself: read from the calling thread's cache, one shared copy took
  // the second thread's whole gain on a 64 x 10 x 256 product.
  auto block = [&](int64_t i_lo, int64_t i_hi, int64_t s_lo, int64_t s_hi) {
    T* tail = nullptr;
    if (s_hi * nr > j_tail && j_tail < N) {
      tail = static_cast<T*>(tls_pack_b.get(sizeof(T) * p.K * nr));
      kern.pack_b(p.K, N - j_tail, b + j_tail, p.b_rs, 1, tail);
    }
    for (int64_t i0 = i_lo, m = 0; i0 < i_hi; i0 += m) {
      // Full tiles, but two short ones for a few rows more than one (8 + 8, not 14 + 2).
      const int64_t left = i_hi - i0;
      m = left <= mr ? left : left <= 2 * kern.mr2 ? kern.mr2 : mr;
      const T* as = a + i0 * p.a_rs;
      for (int64_t j0 = s_lo * nr; j0 < std::min(N, s_hi * nr); j0 += nr) {
        const GemmTile<T> tile = whole_k_tile(p, i0, j0);
        T* cs = c + i0 * p.ldc + j0;
        if (j0 < j_tail)
          kern.micro_strided(p.K, as, p.a_rs, p.a_cs, b + j0, p.b_rs, cs, p.ldc, int(m), int(nr),
                             tile);
        else
          kern.micro(p.K, as, p.a_rs, p.a_cs, tail, cs, p.ldc, int(m), int(N - j0), tile);
      }
    }
  };
  const int64_t nt = threads ? get_num_threads() : 1;
  if (nt <= 1) return block(0, M, 0, cols);
  // Row parts of at least 8 rows (even counts), then column parts of whole slivers.
  const int64_t rows = round_up(ceil_div(M, std::min(nt, ceil_div(M, 8))), 2);
  const int64_t per = ceil_div(cols, std::min(cols, ceil_div(nt, ceil_div(M, rows))));
  const int64_t col_parts = ceil_div(cols, per);
  parallel_for(0, ceil_div(M, rows) * col_parts, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      const int64_t i0 = t / col_parts * rows, s0 = t % col_parts * per;
      block(i0, std::min(M, i0 + rows), s0, std::min(cols, s0 + per));
    }
  });
}

// Whether direct_gemm takes the product (see kDirectMaxFma).
template <class T>
bool direct_fits(const GemmProblem<T>& p, const GemmKernels<T>& kern) {
  if (p.b_patches || p.b_packed || p.b_cs != 1 || p.K > kDirectMaxK) return false;
  const int64_t fma = p.M * p.N * p.K;
  return fma <= kDirectMaxFma ||
         (fma <= kDirectInL2MaxFma &&
          2 * p.K * p.N * int64_t(sizeof(T)) <= blocking_for(kern.mr, kern.nr, sizeof(T)).l2_bytes);
}

// A small product with fewer columns than a vector holds, A transposed in place (op(A)'s
// columns of unit stride) and a row-major B: C's rows would fill N of each vector's lanes
// (10 of 16: the weight gradient of a 10-class layer, 256 x 10 x 64), so C^T = B^T op(A)^T
// is computed instead, N rows by M columns with every lane used, as a direct_gemm product
// into a buffer, and written to C transposed with alpha, beta and the epilogue (the same
// arithmetic as the micro-kernel's write-back). Each value of C is the same chain of
// multiply-adds over k as on the other paths. With `threads`, each thread takes a run of
// C's rows (of whole slivers of C^T's columns).
template <class T>
bool narrow_fits(const GemmProblem<T>& p, const GemmKernels<T>& kern) {
  return p.a_rs == 1 && p.N < kern.lanes && p.N <= kern.mr && p.M >= 2 * kern.nr;
}

template <class T>
void narrow_gemm(const GemmProblem<T>& p, const GemmKernels<T>& kern, const T* a, const T* b, T* c,
                 bool threads) {
  const int64_t N = p.N;
  const auto& ep = p.epilogue;
  const bool read_c = p.beta != T(0), relu = ep.activation == GemmActivation::Relu;
  auto block = [&](int64_t lo, int64_t hi) {
    const int64_t w = hi - lo;
    T* t = static_cast<T*>(tls_narrow.get(sizeof(T) * N * w));
    GemmProblem<T> q;
    q.M = N, q.N = w, q.K = p.K;
    q.a = b, q.a_rs = p.b_cs, q.a_cs = p.b_rs;
    q.b = a + lo * p.a_rs, q.b_rs = p.a_cs, q.b_cs = p.a_rs;
    q.c = t, q.ldc = w;
    // C^T's rows as micro-kernel tiles: up to exact_rows rows as one tile (AVX-512: 12).
    // Past that and short of a full tile, a few rows over mr2 go as mr2 + the rest (AVX2:
    // 5 rows as 4 + 1); on AVX-512 no count between 12 and 14 is close enough to 8.
    for (int64_t r0 = 0, m = 0; r0 < N; r0 += m) {
      const int64_t left = N - r0;
      const bool split =
          left > kern.exact_rows && left < kern.mr && left - kern.mr2 <= kern.mr2 / 2;
      m = split ? kern.mr2 : left;
      GemmProblem<T> part = q;
      part.M = m, part.a = b + r0 * q.a_rs, part.c = t + r0 * w;
      direct_gemm(part, kern, part.a, part.b, part.c, false);
    }
    if (p.alpha == T(1) && !read_c && !ep.bias && !relu) {
      // C's rows lo..hi are the columns of t: the ISA's blocked transpose (8 x 8 floats
      // in registers) instead of a gather per element.
      const auto& kt = kernels::active();
      kernels::for_dtype<T>(kt.transpose_f32, kt.transpose_f64)(t, N, w, w, c + lo * p.ldc, p.ldc);
      return;
    }
    for (int64_t i = lo; i < hi; ++i) {
      T* crow = c + i * p.ldc;
      for (int64_t j = 0; j < N; ++j) {
        T x = t[j * w + (i - lo)];
        if (p.alpha != T(1)) x *= p.alpha;
        if (read_c) x = p.beta == T(1) ? crow[j] + x : std::fma(p.beta, crow[j], x);
        if (ep.bias) x += ep.bias[ep.bias_per_row ? i : j];
        if (relu) x = x > T(0) || x != x ? x : T(0);
        crow[j] = x;
      }
    }
  };
  // At most kNarrowRows rows of C at a time, so that the buffer stays small however tall
  // C is (a direct product may have 2^24 multiply-adds at depth 1).
  auto rows = [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; i += kNarrowRows) block(i, std::min(hi, i + kNarrowRows));
  };
  if (threads)
    parallel_for(0, p.M, kern.nr, rows, kern.nr);
  else
    rows(0, p.M);
}

// A matrix times a vector (N = 1, A's rows of unit stride): a dot product per row of C,
// with threads over rows; b is copied first when its values are not adjacent.
template <class T>
void dot_gemm(const GemmProblem<T>& p, const GemmKernels<T>& kern, const T* a, const T* b, T* c,
              bool threads) {
  if (p.b_rs != 1) {
    T* copy = static_cast<T*>(tls_pack_b.get(sizeof(T) * p.K));
    for (int64_t k = 0; k < p.K; ++k) copy[k] = b[k * p.b_rs];
    b = copy;
  }
  auto rows = [&](int64_t lo, int64_t hi) {
    kern.dot_rows(p.K, a + lo * p.a_rs, p.a_rs, b, c + lo * p.ldc, p.ldc, hi - lo,
                  whole_k_tile(p, lo, 0));
  };
  if (threads) parallel_for(0, p.M, 4, rows, 4);
  else rows(0, p.M);
}

// A row vector times a matrix (M = 1, B's rows of unit stride), with threads over runs of
// columns.
template <class T>
void row_gemm(const GemmProblem<T>& p, const GemmKernels<T>& kern, const T* a, const T* b, T* c,
              bool threads) {
  auto cols = [&](int64_t lo, int64_t hi) {
    kern.row_times(p.K, a, p.a_cs, b + lo, p.b_rs, c + lo, hi - lo, whole_k_tile(p, 0, lo));
  };
  if (threads) parallel_for(0, p.N, kern.nr, cols, kern.lanes);
  else cols(0, p.N);
}

// A packed product on all threads as one independent product per thread: C cut into
// bands of rows, or of columns (whole slivers), each thread packing what its band needs
// and running the driver on it alone. A row band needs all of B and a column band all of
// A, so each thread packs its own copy of that operand: the cut is along the side whose
// copies cost less (B's K x N or A's M x K values). Against one packed copy per k block
// shared by the threads (the driver's own threads), nothing a core wrote is read by the
// other and no barrier separates the k blocks. On a 2-core Zen 4 VM, 2 threads, GFLOP/s,
// shared / own copies: 512^3 142 / 202, 1024^3 170 / 203, 2048^3 193 / 209, float64
// 512^3 74 / 105, 256 x 4096 x 1024 (B transposed) 170 / 194, 4096 x 1024 x 256 180 / 208
// (in the minutes when the shared copies run at their best the two are even, 200-213 at
// 512^3 and 2048^3).
// DLCORE_GEMM_SHARED=1 keeps the shared copies. Returns false (and does nothing) where
// the product has no band wide enough for each thread, or B comes packed or as patches.
template <class T>
bool split_between_threads(const GemmProblem<T>& p, const GemmKernels<T>& kern, const T* a,
                           const T* b, T* c) {
  static const bool shared = env_int("DLCORE_GEMM_SHARED", 0) > 0;
  const int64_t nt = get_num_threads();
  if (shared || nt <= 1 || p.b_packed || p.b_patches || omp_in_parallel()) return false;
  const bool cols_fit = p.N >= nt * kMinBand, rows_fit = p.M >= nt * kMinBand;
  const bool by_cols = cols_fit && (!rows_fit || p.M < p.N);  // M K < K N: A's copies cost less
  if (!by_cols && !rows_fit) return false;
  parallel_for(0, nt, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      GemmProblem<T> q = p;
      q.batch = 1, q.a = a, q.b = b, q.c = c;
      if (by_cols) {
        const int64_t slivers = ceil_div(p.N, kern.nr);
        const int64_t j0 = slivers * t / nt * kern.nr;
        const int64_t j1 = std::min(p.N, slivers * (t + 1) / nt * kern.nr);
        q.N = j1 - j0, q.b += j0 * p.b_cs, q.c += j0;
        if (q.epilogue.bias && !q.epilogue.bias_per_row) q.epilogue.bias += j0;
      } else {
        const int64_t i0 = round_up(p.M * t / nt, 2);
        const int64_t i1 = t + 1 == nt ? p.M : round_up(p.M * (t + 1) / nt, 2);
        q.M = i1 - i0, q.a += i0 * p.a_rs, q.c += i0 * p.ldc;
        if (q.epilogue.bias && q.epilogue.bias_per_row) q.epilogue.bias += i0;
      }
      if (q.M <= 0 || q.N <= 0) continue;
      Driver<T> own(q, kern, std::numeric_limits<int64_t>::max());
      own.run(q.a, q.b, q.c, false);
    }
  });
  return true;
}

// Runs one(t, threads) for each problem t of the batch: with many problems, one per
// thread, each on its own (threads false); with few, threads inside each (where
// `parallel`, the problem is large enough for them).
template <class T, class F>
void for_each_problem(const GemmProblem<T>& p, bool parallel, const F& one) {
  const int64_t nt = get_num_threads();
  const bool across = p.batch > 1 && (!parallel || p.batch % nt == 0 || p.batch >= 4 * nt);
  if (across) {
    const int64_t fma = p.M * p.N * p.K;
    parallel_for(0, p.batch, std::max<int64_t>(1, kParallelMinFma / std::max<int64_t>(fma, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t t = lo; t < hi; ++t) one(t, false);
                 });
  } else {
    for (int64_t t = 0; t < p.batch; ++t) one(t, true);
  }
}

template <class T>
void check_problem(const GemmProblem<T>& p) {
  if (p.M < 0 || p.N < 0 || p.K < 0 || p.batch < 0)
    throw ValueError(str_cat("gemm: sizes must be non-negative, got M=", p.M, " N=", p.N,
                             " K=", p.K, " batch=", p.batch));
  if (p.M == 0 || p.N == 0 || p.batch == 0) return;
  if (!p.c) throw ValueError("gemm: C is null");
  if (p.ldc < p.N)
    throw ValueError(str_cat("gemm: the row stride of C (", p.ldc, ") is below N (", p.N, ")"));
  if (p.b_packed && (p.b_packed->K() != p.K || p.b_packed->N() < p.N || p.batch != 1))
    throw ValueError(str_cat("gemm: a packed B of ", p.b_packed->K(), " x ", p.b_packed->N(),
                             " does not fit K=", p.K, " N=", p.N, " batch=", p.batch));
  if (p.K > 0 && p.alpha != T(0) && (!p.a || !p.b)) throw ValueError("gemm: A or B is null");
  if (p.b_patches && p.b_packed) throw ValueError("gemm: B is given both packed and as patches");
  if (p.b_patches && p.b_patches->flat &&
      (p.b_patches->sh != 1 || p.b_patches->sw != 1 || p.b_patches->ph != 0 ||
       p.b_patches->pw != 0 || p.b_patches->Wo != p.b_patches->W))
    throw ValueError("gemm: a flat patch matrix needs stride 1, no padding and Wo = W");
  if (p.b_patches && (p.b_patches->rows() != p.K || p.b_patches->cols() != p.N))
    throw ValueError(str_cat("gemm: a patch matrix of ", p.b_patches->rows(), " x ",
                             p.b_patches->cols(), " does not fit K=", p.K, " N=", p.N));
}

// The path that reads A and B where they lie which gemm() takes for p, if any.
enum class InPlace { None, Dot, Row, Narrow, Direct };
template <class T>
InPlace in_place_path(const GemmProblem<T>& p, const GemmKernels<T>& kern) {
  const bool plain_b = !p.b_patches && !p.b_packed;
  if (plain_b && p.N == 1 && p.a_cs == 1) return InPlace::Dot;
  if (plain_b && p.M == 1 && p.b_cs == 1) return InPlace::Row;
  if (direct_fits(p, kern)) return narrow_fits(p, kern) ? InPlace::Narrow : InPlace::Direct;
  return InPlace::None;
}

}  // namespace

template <class T>
void gemm(const GemmProblem<T>& p) {
  check_problem(p);
  if (p.M == 0 || p.N == 0 || p.batch == 0) return;
  if (p.K == 0 || p.alpha == T(0)) {
    for (int64_t t = 0; t < p.batch; ++t) scale_only(p, p.c + t * p.c_bs);
    return;
  }
  const GemmKernels<T>& kern = kernels_for<T>();
  const int64_t fma = p.M * p.N * p.K;
  // The paths that read A and B where they lie, with threads inside a problem from
  // kParallelMinFma multiply-adds.
  auto in_place = [&](auto path) {
    const bool parallel = fma >= kParallelMinFma;
    for_each_problem(p, parallel, [&](int64_t t, bool threads) {
      path(p, kern, p.a + t * p.a_bs, p.b + t * p.b_bs, p.c + t * p.c_bs, threads && parallel);
    });
  };
  switch (in_place_path(p, kern)) {
    case InPlace::Dot: return in_place(dot_gemm<T>);
    case InPlace::Row: return in_place(row_gemm<T>);
    case InPlace::Narrow: return in_place(narrow_gemm<T>);
    case InPlace::Direct: return in_place(direct_gemm<T>);
    case InPlace::None: break;
  }
  Driver<T> drv(p, kern, driver_threads_from(fma));
  for_each_problem(p, drv.parallel(), [&](int64_t t, bool threads) {
    const T* a = p.a + t * p.a_bs;
    const T* b = p.b + t * p.b_bs;
    T* c = p.c + t * p.c_bs;
    if (!(threads && drv.parallel() && split_between_threads(p, kern, a, b, c)))
      drv.run(a, b, c, threads);
  });
}

template void gemm<float>(const GemmProblem<float>&);
template void gemm<double>(const GemmProblem<double>&);

template <class T>
bool gemm_reads_in_place(const GemmProblem<T>& p) {
  return in_place_path(p, kernels_for<T>()) != InPlace::None;
}
template bool gemm_reads_in_place<float>(const GemmProblem<float>&);
template bool gemm_reads_in_place<double>(const GemmProblem<double>&);

namespace {

template <class T>
GemmProblem<T> blas_problem(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, T alpha,
                            const T* A, int64_t lda, const T* B, int64_t ldb, T beta, T* C,
                            int64_t ldc) {
  const bool at = ta == Transpose::Yes, bt = tb == Transpose::Yes;
  // The stored shapes: A is M x K (or K x M), B is K x N (or N x K), row-major.
  const int64_t a_cols = at ? M : K, b_cols = bt ? K : N;
  if (lda < std::max<int64_t>(1, a_cols) || ldb < std::max<int64_t>(1, b_cols))
    throw ValueError(str_cat("gemm: lda (", lda, ") or ldb (", ldb,
                             ") is below the stored row length (", a_cols, ", ", b_cols, ")"));
  GemmProblem<T> p;
  p.M = M, p.N = N, p.K = K, p.alpha = alpha, p.beta = beta;
  p.a = A, p.a_rs = at ? 1 : lda, p.a_cs = at ? lda : 1;
  p.b = B, p.b_rs = bt ? 1 : ldb, p.b_cs = bt ? ldb : 1;
  p.c = C, p.ldc = ldc;
  return p;
}

}  // namespace

void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc) {
  gemm(blas_problem(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
}
void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
          int64_t ldc) {
  gemm(blas_problem(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc));
}
void gemm_strided_batched(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K,
                          float alpha, const float* A, int64_t lda, int64_t stride_a,
                          const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                          int64_t ldc, int64_t stride_c, int64_t batch) {
  auto p = blas_problem(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  p.batch = batch, p.a_bs = stride_a, p.b_bs = stride_b, p.c_bs = stride_c;
  gemm(p);
}
void gemm_strided_batched(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K,
                          double alpha, const double* A, int64_t lda, int64_t stride_a,
                          const double* B, int64_t ldb, int64_t stride_b, double beta,
                          double* C, int64_t ldc, int64_t stride_c, int64_t batch) {
  auto p = blas_problem(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  p.batch = batch, p.a_bs = stride_a, p.b_bs = stride_b, p.c_bs = stride_c;
  gemm(p);
}

template <class T>
GemmPackedB<T>::GemmPackedB(int64_t K, int64_t N, const T* b, int64_t rs, int64_t cs) {
  if (K < 0 || N < 0)
    throw ValueError(str_cat("gemm: sizes must be non-negative, got K=", K, " N=", N));
  const GemmKernels<T>& kern = kernels_for<T>();
  const GemmBlocking blk = blocking_for(kern.mr, kern.nr, sizeof(T));
  const int64_t np = round_up(std::max<int64_t>(N, 1), kern.nr), nk = ceil_div(K, blk.kc);
  T* buf = static_cast<T*>(
      std::aligned_alloc(64, round_up(sizeof(T) * std::max<int64_t>(K, 1) * np, 64)));
  if (!buf) throw std::bad_alloc();
  data_.reset(buf, [](T* q) { std::free(q); });
  // The driver's layout for one panel of N columns: per k block, its slivers in order.
  for (int64_t blk_i = 0; blk_i < nk; ++blk_i) {
    const int64_t k0 = blk_i * K / nk, kc = (blk_i + 1) * K / nk - k0;
    if (N > 0) kern.pack_b(kc, N, b + k0 * rs, rs, cs, buf + k0 * np);
  }
  K_ = K, N_ = N, kc_ = blk.kc, nr_ = kern.nr, kernels_ = &kern;
}

template <class T>
const T* GemmPackedB<T>::usable(int64_t K, int64_t N, const void* kernels, int64_t kc,
                                int64_t nr) const {
  // The first N columns of one k block are the first slivers of the packed copy; with more
  // k blocks, each block's slivers start N_ columns' worth after the last one's.
  const bool fits = data_ && K == K_ && (N == N_ || (N < N_ && K <= kc_)) && kernels == kernels_ &&
                    kc == kc_ && nr == nr_;
  return fits ? data_.get() : nullptr;
}

template class GemmPackedB<float>;
template class GemmPackedB<double>;

int64_t gemm_threads_from() { return driver_threads_from(kParallelMinFma); }

GemmBlocking gemm_blocking(bool double_precision) {
  const auto& t = kernels::active();
  return double_precision ? blocking_for(t.gemm_f64.mr, t.gemm_f64.nr, sizeof(double))
                          : blocking_for(t.gemm_f32.mr, t.gemm_f32.nr, sizeof(float));
}

}  // namespace dlcore

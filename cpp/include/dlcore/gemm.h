// General matrix multiply on raw memory, the kernel every matmul-shaped op of
// dlcore runs on (matmul and its gradients, Linear, convolution, recurrent
// cells, attention):
//
//   C = act(alpha * op(A) @ op(B) + beta * C + bias)
//
// in float32 or float64, with op(X) = X or X^T, arbitrary row and column
// strides for A and B (transposed views and slices need no copy), and a
// strided-batched form. Blocked for the caches, packed, SIMD micro-kernels per
// instruction set, OpenMP threads over output tiles (never over K): the result
// is bitwise the same for any thread count.
//
// C must not overlap A or B. With beta == 0, C is not read (NaNs in it are
// overwritten), and with alpha == 0 or K == 0, A and B are not read.
#pragma once
#include <cstdint>
#include <memory>

namespace dlcore {

enum class Transpose : int { No = 0, Yes = 1 };
enum class GemmActivation : int { None = 0, Relu = 1 };

// Fused into the write-back of C, after alpha and beta.
template <class T>
struct GemmEpilogue {
  // bias[j] added to column j (N values; Linear), or with bias_per_row,
  // bias[i] added to row i (M values; a convolution's output channels).
  const T* bias = nullptr;
  bool bias_per_row = false;
  GemmActivation activation = GemmActivation::None;
};

// B packed once for many products with the same B (a recurrent weight, used at every
// time step): the packing a GEMM would otherwise repeat on each call. Built for the
// instruction set and cache blocking active when it is made; a GEMM given one that no
// longer matches (another ISA was selected since) packs B itself as usual. A product
// may also use the first N' < N columns of the packed B (a causal attention strip's
// keys); the packed copy serves it where K fits one k block, else the GEMM packs those
// columns from b.
template <class T>
class GemmPackedB {
 public:
  GemmPackedB() = default;
  // Packs the K x N matrix B, element (k, j) at b[k * rs + j * cs].
  GemmPackedB(int64_t K, int64_t N, const T* b, int64_t rs, int64_t cs);
  bool defined() const { return data_ != nullptr; }
  int64_t K() const { return K_; }
  int64_t N() const { return N_; }
  // The packed panel when it fits this GEMM's shape and blocking, else null.
  const T* usable(int64_t K, int64_t N, const void* kernels, int64_t kc, int64_t nr) const;

 private:
  std::shared_ptr<T> data_;
  int64_t K_ = 0, N_ = 0, kc_ = 0, nr_ = 0;
  const void* kernels_ = nullptr;
};

// B as the patch matrix of one image (convolution as a GEMM, with the patches gathered
// straight into the packed panels instead of written out first): for an image x of
// C planes H x W, row k = (c kh + i) kw + j and column n = oh Wo + ow of B are
//   x[c][oh sh - ph + i dh][ow sw - pw + j dw]   (0 outside the planes),
// so B is rows() x cols(). Any offsets are allowed (a negative padding crops).
struct GemmPatches {
  int64_t C, H, W;  // the image's channels and plane size
  int64_t kh, kw;   // kernel
  int64_t sh, sw;   // stride
  int64_t ph, pw;   // padding at the top and left
  int64_t dh, dw;   // dilation
  int64_t Ho, Wo;   // output size
  // Rows that run on: column n of row (c, i, j) is the value (c H + i dh) W + j dw + n of
  // the flattened planes, whatever the row of the plane it falls in (stride 1, no padding
  // and Wo = W only). Each output row's last (kw - 1) dw columns then hold values from
  // the next row, for the caller to drop, and every row of B is one run of the image.
  // The image must stay readable for flat_slack() values past its C H W: B may be read
  // where it lies, and the columns that run past the image take what is there.
  bool flat = false;
  int64_t flat_slack() const { return (kw - 1) * dw + 64; }
  int64_t rows() const { return C * kh * kw; }
  int64_t cols() const { return Ho * Wo; }
};

// The general form. Element (i, k) of A is a[i * a_rs + k * a_cs], element
// (k, j) of B is b[k * b_rs + j * b_cs], element (i, j) of C is c[i * ldc + j].
// Problem t < batch adds t * a_bs, t * b_bs, t * c_bs to the three pointers.
template <class T>
struct GemmProblem {
  int64_t M = 0, N = 0, K = 0;
  T alpha = T(1), beta = T(0);
  const T* a = nullptr;
  int64_t a_rs = 0, a_cs = 1;
  const T* b = nullptr;
  int64_t b_rs = 0, b_cs = 1;
  T* c = nullptr;
  int64_t ldc = 0;
  int64_t batch = 1, a_bs = 0, b_bs = 0, c_bs = 0;
  GemmEpilogue<T> epilogue = {};
  // B already packed (K rows and at least N columns), or null; b must still be given
  // (and batch be 1): the GEMM packs from b where the packed copy does not fit its
  // blocking.
  const GemmPackedB<T>* b_packed = nullptr;
  // B is the patch matrix of the image at b (b_rs and b_cs unused), or null. K must be
  // b_patches->rows() and N b_patches->cols().
  const GemmPatches* b_patches = nullptr;
};

// Throws ValueError for negative sizes, null pointers or a row stride of C
// below N. Defined for float and double.
template <class T>
void gemm(const GemmProblem<T>& p);

// BLAS-style forms on row-major matrices: op(A) is M x K, op(B) is K x N, and
// lda / ldb / ldc are the row strides of A, B and C as stored.
void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, float alpha,
          const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
          int64_t ldc);
void gemm(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K, double alpha,
          const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
          int64_t ldc);
void gemm_strided_batched(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K,
                          float alpha, const float* A, int64_t lda, int64_t stride_a,
                          const float* B, int64_t ldb, int64_t stride_b, float beta, float* C,
                          int64_t ldc, int64_t stride_c, int64_t batch);
void gemm_strided_batched(Transpose ta, Transpose tb, int64_t M, int64_t N, int64_t K,
                          double alpha, const double* A, int64_t lda, int64_t stride_a,
                          const double* B, int64_t ldb, int64_t stride_b, double beta,
                          double* C, int64_t ldc, int64_t stride_c, int64_t batch);

// The cache blocking in use: the k block (kc), the columns of B kept in L2 per
// task (nc), the register tile (mr x nr), and the caches they were derived from.
struct GemmBlocking {
  int64_t kc, nc, mr, nr;
  int64_t l1_bytes, l2_bytes;
};
GemmBlocking gemm_blocking(bool double_precision);

// Whether gemm(p) reads A and B where they lie, packing neither (at most B's last, partial
// column sliver): a caller can then skip packing B ahead for a B it would reuse.
template <class T>
bool gemm_reads_in_place(const GemmProblem<T>& p);

// The fewest multiply-adds from which a packed product runs on more than one thread:
// 3 Mi at most, below that measured on this machine at the first such product and again
// at the 100th and the 10000th, keeping the smallest (about a millisecond each, at the
// thread count of that moment; 3 Mi while one thread is set), or as
// DLCORE_GEMM_THREADS_FROM says.
int64_t gemm_threads_from();

}  // namespace dlcore

// Fills this instruction set's KernelTable from the kernels compiled beside it.
#include "kernels/cpu/kernels.h"

namespace dlcore::kernels::DLCORE_ISA_NS {

void binary_f32(BinaryOp, const float*, int64_t, const float*, int64_t, float*, int64_t, int);
void binary_f64(BinaryOp, const double*, int64_t, const double*, int64_t, double*, int64_t, int);
void unary_f32(UnaryOp, const float*, float*, int64_t, int);
void unary_f64(UnaryOp, const double*, double*, int64_t, int);
double sum_f32(const float*, int64_t);
double sum_f64(const double*, int64_t);
float extreme_f32(const float*, int64_t, bool);
double extreme_f64(const double*, int64_t, bool);
void colsum_f32(const float*, int64_t, int64_t, int64_t, float*);
void colsum_f64(const double*, int64_t, int64_t, int64_t, double*);
void act_forward_f32(ActOp, double, double, const float*, float*, float*, int64_t);
void act_forward_f64(ActOp, double, double, const double*, double*, double*, int64_t);
void act_backward_f32(ActOp, double, double, const float*, const float*, float*, int64_t);
void act_backward_f64(ActOp, double, double, const double*, const double*, double*, int64_t);
void optim_f32(const OptimStep&, float*, const float*, float*, float*, float*, int64_t);
void optim_f64(const OptimStep&, double*, const double*, double*, double*, double*, int64_t);
void depthwise_forward_f32(const ConvGeometry&, const float*, const float*, float*,
                           const PlaneBatch&);
void depthwise_forward_f64(const ConvGeometry&, const double*, const double*, double*,
                           const PlaneBatch&);
void depthwise_backward_input_f32(const ConvGeometry&, const float*, const float*, float*,
                                  const PlaneBatch&);
void depthwise_backward_input_f64(const ConvGeometry&, const double*, const double*, double*,
                                  const PlaneBatch&);
void depthwise_backward_weight_f32(const ConvGeometry&, const float*, const float*, float*,
                                   const PlaneBatch&);
void depthwise_backward_weight_f64(const ConvGeometry&, const double*, const double*, double*,
                                   const PlaneBatch&);
void im2col_f32(const ConvGeometry&, const float*, float*, int64_t);
void im2col_f64(const ConvGeometry&, const double*, double*, int64_t);
void col2im_f32(const ConvGeometry&, const float*, float*);
void col2im_f64(const ConvGeometry&, const double*, double*);
void transpose_f32(const float*, int64_t, int64_t, int64_t, float*, int64_t);
void transpose_f64(const double*, int64_t, int64_t, int64_t, double*, int64_t);
void winograd_input_f32(const WinogradRow&, const float*, float*);
void winograd_input_f64(const WinogradRow&, const double*, double*);
void winograd_output_f32(const WinogradRow&, const float*, float*, const float*);
void winograd_output_f64(const WinogradRow&, const double*, double*, const double*);
void winograd_grad_output_f32(const WinogradRow&, const float*, float*);
void winograd_grad_output_f64(const WinogradRow&, const double*, double*);
void max_pool_2x2_f32(const float*, int64_t, int64_t, int64_t, float*, int64_t*);
void max_pool_2x2_f64(const double*, int64_t, int64_t, int64_t, double*, int64_t*);
void avg_pool_2x2_f32(const float*, int64_t, int64_t, int64_t, float, float*);
void avg_pool_2x2_f64(const double*, int64_t, int64_t, int64_t, double, double*);
void avg_pool_2x2_backward_f32(const float*, int64_t, int64_t, int64_t, float, float*);
void avg_pool_2x2_backward_f64(const double*, int64_t, int64_t, int64_t, double, double*);
void rnn_cell_forward_f32(RnnCell, int64_t, const float*, const float*, const float*, float*,
                          float*, float*);
void rnn_cell_forward_f64(RnnCell, int64_t, const double*, const double*, const double*, double*,
                          double*, double*);
void rnn_cell_backward_f32(RnnCell, int64_t, const float*, const float*, const float*,
                           const float*, float*, float*, float*);
void rnn_cell_backward_f64(RnnCell, int64_t, const double*, const double*, const double*,
                           const double*, double*, double*, double*);
void attn_softmax_online_f32(int64_t, int64_t, float*, int64_t, float*, float*, float*, int64_t,
                             int64_t, float);
void attn_softmax_online_f64(int64_t, int64_t, double*, int64_t, double*, double*, double*, int64_t,
                             int64_t, double);
void attn_softmax_probs_f32(int64_t, int64_t, float*, int64_t, const float*, float);
void attn_softmax_probs_f64(int64_t, int64_t, double*, int64_t, const double*, double);
void attn_softmax_dscores_f32(int64_t, int64_t, const float*, int64_t, float*, const float*, float);
void attn_softmax_dscores_f64(int64_t, int64_t, const double*, int64_t, double*, const double*,
                              double);
void attn_row_dots_f32(int64_t, int64_t, const float*, int64_t, const float*, int64_t, float*);
void attn_row_dots_f64(int64_t, int64_t, const double*, int64_t, const double*, int64_t, double*);
void attn_finish_f32(int64_t, int64_t, float*, int64_t, const float*, const float*, float, float*);
void attn_finish_f64(int64_t, int64_t, double*, int64_t, const double*, const double*, double,
                     double*);
void softmax_rows_f32(const float*, float*, int64_t, int64_t, bool);
void softmax_rows_f64(const double*, double*, int64_t, int64_t, bool);
void softmax_rows_backward_f32(const float*, const float*, float*, int64_t, int64_t, bool);
void softmax_rows_backward_f64(const double*, const double*, double*, int64_t, int64_t, bool);
void softmax_cols_f32(const float*, float*, int64_t, int64_t, int64_t, bool);
void softmax_cols_f64(const double*, double*, int64_t, int64_t, int64_t, bool);
void softmax_cols_backward_f32(const float*, const float*, float*, int64_t, int64_t, int64_t, bool);
void softmax_cols_backward_f64(const double*, const double*, double*, int64_t, int64_t, int64_t,
                               bool);
float exp_shift_sum_f32(const float*, float*, int64_t, float, float);
double exp_shift_sum_f64(const double*, double*, int64_t, double, double);
void row_norm_forward_f32(bool, int64_t, const float*, const float*, const float*, double, float*,
                          double&, double&);
void row_norm_forward_f64(bool, int64_t, const double*, const double*, const double*, double,
                          double*, double&, double&);
void rows_norm_backward_f32(bool, int64_t, int64_t, const float*, const float*, const float*,
                            const double*, const double*, float*, double*, double*);
void rows_norm_backward_f64(bool, int64_t, int64_t, const double*, const double*, const double*,
                            const double*, const double*, double*, double*, double*);
void channel_sums_f32(const float*, const float*, int64_t, double, double*);
void channel_sums_f64(const double*, const double*, int64_t, double, double*);
void channel_affine_f32(const float*, const float*, int64_t, const ChannelAffine&, float*);
void channel_affine_f64(const double*, const double*, int64_t, const ChannelAffine&, double*);
GemmKernels<float> gemm_kernels_f32();
GemmKernels<double> gemm_kernels_f64();

#define DLCORE_STR2(x) #x
#define DLCORE_STR(x) DLCORE_STR2(x)

const KernelTable& table() {
  static const KernelTable t = {DLCORE_STR(DLCORE_ISA_NS),
                                binary_f32,
                                binary_f64,
                                unary_f32,
                                unary_f64,
                                sum_f32,
                                sum_f64,
                                extreme_f32,
                                extreme_f64,
                                colsum_f32,
                                colsum_f64,
                                act_forward_f32,
                                act_forward_f64,
                                act_backward_f32,
                                act_backward_f64,
                                optim_f32,
                                optim_f64,
                                depthwise_forward_f32,
                                depthwise_forward_f64,
                                depthwise_backward_input_f32,
                                depthwise_backward_input_f64,
                                depthwise_backward_weight_f32,
                                depthwise_backward_weight_f64,
                                im2col_f32,
                                im2col_f64,
                                col2im_f32,
                                col2im_f64,
                                transpose_f32,
                                transpose_f64,
                                winograd_input_f32,
                                winograd_input_f64,
                                winograd_output_f32,
                                winograd_output_f64,
                                winograd_grad_output_f32,
                                winograd_grad_output_f64,
                                max_pool_2x2_f32,
                                max_pool_2x2_f64,
                                avg_pool_2x2_f32,
                                avg_pool_2x2_f64,
                                avg_pool_2x2_backward_f32,
                                avg_pool_2x2_backward_f64,
                                rnn_cell_forward_f32,
                                rnn_cell_forward_f64,
                                rnn_cell_backward_f32,
                                rnn_cell_backward_f64,
                                attn_softmax_online_f32,
                                attn_softmax_online_f64,
                                attn_softmax_probs_f32,
                                attn_softmax_probs_f64,
                                attn_softmax_dscores_f32,
                                attn_softmax_dscores_f64,
                                attn_row_dots_f32,
                                attn_row_dots_f64,
                                attn_finish_f32,
                                attn_finish_f64,
                                softmax_rows_f32,
                                softmax_rows_f64,
                                softmax_rows_backward_f32,
                                softmax_rows_backward_f64,
                                softmax_cols_f32,
                                softmax_cols_f64,
                                softmax_cols_backward_f32,
                                softmax_cols_backward_f64,
                                exp_shift_sum_f32,
                                exp_shift_sum_f64,
                                row_norm_forward_f32,
                                row_norm_forward_f64,
                                rows_norm_backward_f32,
                                rows_norm_backward_f64,
                                channel_sums_f32,
                                channel_sums_f64,
                                channel_affine_f32,
                                channel_affine_f64,
                                gemm_kernels_f32(),
                                gemm_kernels_f64()};
  return t;
}

}  // namespace dlcore::kernels::DLCORE_ISA_NS

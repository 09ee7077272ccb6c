// Umbrella header: everything a C++ program needs to use dlcore.
#pragma once
#include "dlcore/attention.h"
#include "dlcore/autograd.h"
#include "dlcore/device.h"
#include "dlcore/dtype.h"
#include "dlcore/error.h"
#include "dlcore/gemm.h"
#include "dlcore/ops.h"
#include "dlcore/optim.h"
#include "dlcore/random.h"
#include "dlcore/rnn.h"
#include "dlcore/runtime.h"
#include "dlcore/tensor.h"

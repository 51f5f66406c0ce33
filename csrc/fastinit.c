/* Entry points: one per distribution. Each validates its arguments (nothing is written on
 * failure), resolves the per-call parameters into an fi_call, and runs the dispatched kernel
 * over the range. */
#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "fastinit.h"
#include "fi_internal.h"
#include "fi_math.h"
#include "fi_mathspec.h"
#include "philox.h"

#define FI_BF16_MAX 0x1.fep127   /* largest finite bfloat16 */
#define FI_F16_MAX 65504.0       /* largest finite float16 */

static int is_float_dtype(int dtype)
{
    return dtype == FI_FLOAT32 || dtype == FI_FLOAT64 || dtype == FI_BFLOAT16 || dtype == FI_FLOAT16;
}

/* A parameter that must be a finite value of the output dtype. */
static int fits_dtype(double v, int dtype)
{
    if (!isfinite(v))
        return 0;
    switch (dtype) {
    case FI_FLOAT64: return 1;
    case FI_FLOAT32: return fabs(v) <= (double)FLT_MAX;
    case FI_BFLOAT16: return fabs(v) <= FI_BF16_MAX;
    case FI_FLOAT16: return fabs(v) <= FI_F16_MAX;
    default: return 0;
    }
}

static int check_range(const void *out, uint64_t count, uint64_t offset)
{
    if (count == 0)
        return FI_OK;
    if (out == NULL)
        return FI_E_NULL;
    if (offset > UINT64_MAX - (count - 1)) /* the last index offset + count - 1 must fit */
        return FI_E_RANGE;
    return FI_OK;
}

static void init_call(fi_call *call, uint64_t seed, uint64_t stream)
{
    *call = (fi_call){0};
    call->key[0] = (uint32_t)seed;
    call->key[1] = (uint32_t)(seed >> 32);
    call->stream[0] = (uint32_t)stream;
    call->stream[1] = (uint32_t)(stream >> 32);
}

/* The one place a kernel runs over a range: the dispatched kernel, split over threads. */
static int run(int dist, int dtype, void *out, uint64_t count, uint64_t offset, const fi_call *call)
{
    if (dtype < 0 || dtype >= FI_DTYPE_COUNT)
        return FI_E_DTYPE;
    if (fi_table_scalar.kernel[dist][dtype] == NULL)
        return FI_E_DTYPE;
    fi_kernel kernel = fi_active_table()->kernel[dist][dtype];
    if (kernel == NULL)
        kernel = fi_table_scalar.kernel[dist][dtype];
    static const size_t elem_size[FI_DTYPE_COUNT] = {4, 8, 2, 2, 4, 8};
    if (count > 0)
        fi_run_parallel(kernel, out, elem_size[dtype], count, offset, call);
    return FI_OK;
}

int fi_fill_bits(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream, uint64_t offset)
{
    if (dtype != FI_UINT32 && dtype != FI_UINT64)
        return FI_E_DTYPE;
    const int status = check_range(out, count, offset);
    if (status != FI_OK)
        return status;
    fi_call call;
    init_call(&call, seed, stream);
    return run(FI_DIST_BITS, dtype, out, count, offset, &call);
}

int fi_fill_uniform(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                    uint64_t offset, double low, double high)
{
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    if (!fits_dtype(low, dtype) || !fits_dtype(high, dtype) || !(low <= high))
        return FI_E_PARAM;
    const int status = check_range(out, count, offset);
    if (status != FI_OK)
        return status;
    fi_call call;
    init_call(&call, seed, stream);
    if (dtype == FI_FLOAT64) {
        call.low64 = low;
        call.high64 = high;
        call.range64 = high - low;
        call.below_high64 = nextafter(high, -HUGE_VAL);
        if (!isfinite(call.range64))
            return FI_E_PARAM;
    } else { /* float32 arithmetic, also for bfloat16 and float16 */
        call.low32 = (float)low;
        call.high32 = (float)high;
        call.range32 = call.high32 - call.low32;
        call.below_high32 = nextafterf(call.high32, -INFINITY);
        if (!isfinite(call.range32))
            return FI_E_PARAM;
    }
    return run(FI_DIST_UNIFORM, dtype, out, count, offset, &call);
}

static int check_mean_std(double mean, double std, int dtype)
{
    if (!fits_dtype(mean, dtype) || !isfinite(std) || !(std >= 0.0))
        return FI_E_PARAM;
    if (dtype != FI_FLOAT64 && !(std <= (double)FLT_MAX))
        return FI_E_PARAM;
    return FI_OK;
}

int fi_fill_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                   uint64_t offset, double mean, double std)
{
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    int status = check_mean_std(mean, std, dtype);
    if (status == FI_OK)
        status = check_range(out, count, offset);
    if (status != FI_OK)
        return status;
    fi_call call;
    init_call(&call, seed, stream);
    call.mean32 = (float)mean;
    call.std32 = (float)std;
    call.mean64 = mean;
    call.std64 = std;
    return run(FI_DIST_NORMAL, dtype, out, count, offset, &call);
}

/* The smallest float32 >= x (-inf for -inf), without converting an out-of-range double. */
static float f32_at_least(double x)
{
    if (x == -HUGE_VAL)
        return -INFINITY;
    if (x < -(double)FLT_MAX)
        return -FLT_MAX;
    if (x > (double)FLT_MAX)
        return INFINITY;
    const float f = (float)x;
    return (double)f < x ? nextafterf(f, INFINITY) : f;
}

/* Contract v2: the evaluation mode and float32 constants of a 32- or 16-bit truncated normal,
 * as fastinit/_params.trunc_normal_params32 computes them (alpha, beta in the mirrored frame). */
static void trunc_normal_setup32(fi_call *call, double alpha, double beta)
{
    const double qb = fi_norm_cdf(-beta);
    const double pa = call->tn_pa, mass = call->tn_mass;
    if (alpha <= -FI_NORMAL_F32_REACH && beta >= FI_NORMAL_F32_REACH)
        call->tn_mode = FI_TN_NORMAL;
    else if (mass >= FI_TRUNC_F32_MIN_MASS && mass >= FI_TRUNC_F32_MIN_REL * (pa < qb ? pa : qb))
        call->tn_mode = FI_TN_F32;
    else
        call->tn_mode = FI_TN_F64;
    call->tn_p2a = (float)(2.0 * pa);
    call->tn_m2 = (float)(2.0 * mass);
    call->tn_q2b = (float)(2.0 * qb);
    call->tn_std32 = (float)call->tn_sign * call->std32;
    call->tn_a32 = f32_at_least(call->tn_a);
    call->tn_b32 = -f32_at_least(-call->tn_b);
}

int fi_fill_trunc_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                         uint64_t offset, double mean, double std, double a, double b)
{
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    int status = check_mean_std(mean, std, dtype);
    if (status != FI_OK)
        return status;
    if (isnan(a) || isnan(b) || !(a < b))
        return FI_E_PARAM;
    double alpha, beta;
    if (std == 0.0) { /* a point mass at mean: allowed when mean lies in [a, b] */
        if (!(a <= mean && mean <= b))
            return FI_E_PARAM;
        alpha = -HUGE_VAL; /* HUGE_VAL: the double infinity (INFINITY is a float) */
        beta = HUGE_VAL;
    } else {
        alpha = (a - mean) / std;
        beta = (b - mean) / std;
    }
    /* Work from the nearer tail: an interval above the mean is mirrored below it, where
     * Phi keeps full relative precision. */
    double sign = 1.0;
    if (alpha > 0.0) {
        const double lower = -beta;
        beta = -alpha;
        alpha = lower;
        sign = -1.0;
    }
    const double pa = fi_norm_cdf(alpha);
    const double mass = fi_norm_cdf(beta) - pa;
    if (!(mass >= FI_TRUNC_MIN_MASS))
        return FI_E_PARAM;
    status = check_range(out, count, offset);
    if (status != FI_OK)
        return status;
    fi_call call;
    init_call(&call, seed, stream);
    call.mean64 = mean;
    call.std64 = std;
    call.tn_pa = pa;
    call.tn_mass = mass;
    call.tn_sign = sign;
    call.tn_a = a;
    call.tn_b = b;
    call.mean32 = (float)mean;
    call.std32 = (float)std;
    if (dtype != FI_FLOAT64)
        trunc_normal_setup32(&call, alpha, beta);
    return run(FI_DIST_TRUNC_NORMAL, dtype, out, count, offset, &call);
}

int fi_fill_constant(void *out, uint64_t count, int dtype, double value)
{
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    const int status = check_range(out, count, 0);
    if (status != FI_OK)
        return status;
    fi_call call;
    init_call(&call, 0, 0);
    call.value32 = (float)value;
    call.value64 = value;
    return run(FI_DIST_CONSTANT, dtype, out, count, 0, &call);
}

void fi_philox4x32(const uint32_t counter[4], const uint32_t key[2], uint32_t out[4])
{
    fi_philox4x32_10(counter, key, out);
}

double fi_normal_cdf(double x) { return fi_norm_cdf(x); }

int fi_contract_version(void) { return FI_CONTRACT_VERSION; }

double fi_normal_ppf(double p) { return fi_norm_ppf(p); }

const char *fi_status_string(int status)
{
    switch (status) {
    case FI_OK: return "ok";
    case FI_E_DTYPE: return "dtype not supported by this distribution";
    case FI_E_PARAM: return "distribution parameter out of its domain";
    case FI_E_RANGE: return "offset + count exceeds 2^64";
    case FI_E_NULL: return "NULL buffer";
    case FI_E_ISA: return "unknown or unsupported instruction set";
    default: return "unknown status";
    }
}

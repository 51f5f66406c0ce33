/* Entry points. fi_prepare is the one place a fill's arguments are checked (nothing is
 * written on failure) and resolved into an fi_prepared; fi_run_prepared writes any sub-range
 * of it with the dispatched kernel, split over threads. The public fi_fill_* functions are
 * fi_prepare + fi_run_prepared over the whole range. */
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

/* ---- resolution: one function per distribution, parameters in fi_prepare's order ---- */

static int resolve_bits(fi_call *call, int dtype, const double *p)
{
    (void)call;
    (void)p;
    return dtype == FI_UINT32 || dtype == FI_UINT64 ? FI_OK : FI_E_DTYPE;
}

static int resolve_uniform(fi_call *call, int dtype, const double *p)
{
    const double low = p[0], high = p[1];
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    if (!fits_dtype(low, dtype) || !fits_dtype(high, dtype) || !(low <= high))
        return FI_E_PARAM;
    if (dtype == FI_FLOAT64) {
        call->low64 = low;
        call->high64 = high;
        call->range64 = high - low;
        call->below_high64 = nextafter(high, -HUGE_VAL);
        if (!isfinite(call->range64))
            return FI_E_PARAM;
    } else { /* float32 arithmetic, also for bfloat16 and float16 */
        call->low32 = (float)low;
        call->high32 = (float)high;
        call->range32 = call->high32 - call->low32;
        call->below_high32 = nextafterf(call->high32, -INFINITY);
        if (!isfinite(call->range32))
            return FI_E_PARAM;
    }
    return FI_OK;
}

static int check_mean_std(double mean, double std, int dtype)
{
    if (!fits_dtype(mean, dtype) || !isfinite(std) || !(std >= 0.0))
        return FI_E_PARAM;
    if (dtype != FI_FLOAT64 && !(std <= (double)FLT_MAX))
        return FI_E_PARAM;
    return FI_OK;
}

static int resolve_normal(fi_call *call, int dtype, const double *p)
{
    const double mean = p[0], std = p[1];
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    const int status = check_mean_std(mean, std, dtype);
    if (status != FI_OK)
        return status;
    call->mean32 = (float)mean;
    call->std32 = (float)std;
    call->mean64 = mean;
    call->std64 = std;
    return FI_OK;
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

static int resolve_trunc_normal(fi_call *call, int dtype, const double *p)
{
    const double mean = p[0], std = p[1], a = p[2], b = p[3];
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    const int status = check_mean_std(mean, std, dtype);
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
    call->mean64 = mean;
    call->std64 = std;
    call->tn_pa = pa;
    call->tn_mass = mass;
    call->tn_sign = sign;
    call->tn_a = a;
    call->tn_b = b;
    call->mean32 = (float)mean;
    call->std32 = (float)std;
    if (dtype != FI_FLOAT64)
        trunc_normal_setup32(call, alpha, beta);
    return FI_OK;
}

static int resolve_constant(fi_call *call, int dtype, const double *p)
{
    if (!is_float_dtype(dtype))
        return FI_E_DTYPE;
    call->value32 = (float)p[0];
    call->value64 = p[0];
    return FI_OK;
}

typedef int (*fi_resolver)(fi_call *call, int dtype, const double *p);
static const fi_resolver resolvers[FI_DIST_COUNT] = {
    [FI_DIST_BITS] = resolve_bits,
    [FI_DIST_UNIFORM] = resolve_uniform,
    [FI_DIST_NORMAL] = resolve_normal,
    [FI_DIST_TRUNC_NORMAL] = resolve_trunc_normal,
    [FI_DIST_CONSTANT] = resolve_constant,
};

void fi_prepared_key(fi_prepared *prep, uint64_t seed, uint64_t stream)
{
    prep->call.key[0] = (uint32_t)seed;
    prep->call.key[1] = (uint32_t)(seed >> 32);
    prep->call.stream[0] = (uint32_t)stream;
    prep->call.stream[1] = (uint32_t)(stream >> 32);
}

/* The one place a call is checked and resolved (see fi_internal.h). */
int fi_prepare(fi_prepared *prep, int dist, int dtype, void *out, uint64_t count, uint64_t seed,
               uint64_t stream, uint64_t offset, const double *params)
{
    static const double none[4] = {0.0, 0.0, 0.0, 0.0};
    if (dist < 0 || dist >= FI_DIST_COUNT)
        return FI_E_PARAM;
    if (dtype < 0 || dtype >= FI_DTYPE_COUNT)
        return FI_E_DTYPE;
    *prep = (fi_prepared){0};
    fi_call *call = &prep->call;
    int status = resolvers[dist](call, dtype, params ? params : none);
    if (status == FI_OK)
        status = check_range(out, count, offset);
    if (status != FI_OK)
        return status;
    if (fi_table_scalar.kernel[dist][dtype] == NULL) /* a resolver accepted an unserved pair */
        return FI_E_DTYPE;
    fi_prepared_key(prep, seed, stream);
    prep->dist = dist;
    prep->dtype = dtype;
    prep->out = out;
    prep->count = count;
    prep->offset = offset;
    prep->elem_size = (size_t)FI_ELEM_SIZE(dtype);
    prep->kernel = fi_active_table()->kernel[dist][dtype];
    if (prep->kernel == NULL) /* a SIMD table without this kernel: the scalar one serves */
        prep->kernel = fi_table_scalar.kernel[dist][dtype];
    return FI_OK;
}

/* The one place a kernel runs over a range: the dispatched kernel, split over threads. */
void fi_run_prepared(const fi_prepared *prep, uint64_t begin, uint64_t n)
{
    if (n > 0)
        fi_run_parallel(prep->kernel, prep->out + begin * prep->elem_size, prep->elem_size, n,
                        prep->offset + begin, &prep->call);
}

static int fill(int dist, int dtype, void *out, uint64_t count, uint64_t seed, uint64_t stream,
                uint64_t offset, const double *params)
{
    fi_prepared prep;
    const int status = fi_prepare(&prep, dist, dtype, out, count, seed, stream, offset, params);
    if (status == FI_OK)
        fi_run_prepared(&prep, 0, count);
    return status;
}

int fi_fill_bits(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream, uint64_t offset)
{
    return fill(FI_DIST_BITS, dtype, out, count, seed, stream, offset, NULL);
}

int fi_fill_uniform(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                    uint64_t offset, double low, double high)
{
    const double p[2] = {low, high};
    return fill(FI_DIST_UNIFORM, dtype, out, count, seed, stream, offset, p);
}

int fi_fill_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                   uint64_t offset, double mean, double std)
{
    const double p[2] = {mean, std};
    return fill(FI_DIST_NORMAL, dtype, out, count, seed, stream, offset, p);
}

int fi_fill_trunc_normal(void *out, uint64_t count, int dtype, uint64_t seed, uint64_t stream,
                         uint64_t offset, double mean, double std, double a, double b)
{
    const double p[4] = {mean, std, a, b};
    return fill(FI_DIST_TRUNC_NORMAL, dtype, out, count, seed, stream, offset, p);
}

int fi_fill_constant(void *out, uint64_t count, int dtype, double value)
{
    const double p[1] = {value};
    return fill(FI_DIST_CONSTANT, dtype, out, count, 0, 0, 0, p);
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

/* Vector types for the SIMD kernels (GCC/clang vector extensions), FI_VBYTES wide. */
#ifndef FI_SIMD_TYPES_H
#define FI_SIMD_TYPES_H

#include <stdint.h>

typedef float fi_vf __attribute__((vector_size(FI_VBYTES)));
typedef int32_t fi_vi __attribute__((vector_size(FI_VBYTES)));
typedef uint32_t fi_vu __attribute__((vector_size(FI_VBYTES)));
typedef double fi_vd __attribute__((vector_size(FI_VBYTES)));
typedef int64_t fi_vl __attribute__((vector_size(FI_VBYTES)));
typedef uint64_t fi_vq __attribute__((vector_size(FI_VBYTES)));
typedef float fi_vf_half __attribute__((vector_size(FI_VBYTES / 2)));
typedef int32_t fi_vi_half __attribute__((vector_size(FI_VBYTES / 2)));
typedef uint16_t fi_vh __attribute__((vector_size(FI_VBYTES / 2)));

#endif /* FI_SIMD_TYPES_H */

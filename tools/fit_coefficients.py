"""Derive the polynomial coefficients of fastinit's math approximations.

This script is provenance, not part of the build: it prints the coefficients that
``fastinit/_mathspec.py`` freezes (the stream contract depends on those exact values, so
they are never regenerated automatically). Each polynomial is a near-minimax fit by
Chebyshev interpolation (mpmath.chebyfit) of a smooth function on the reduced interval,
rounded to the target precision:

- ln:   ln(1+f) = f - s*(f - R),  s = f/(2+f),  R(z) = z*P(z),  z = s^2 in [0, ((sqrt2-1)/(sqrt2+1))^2]
        (P approximates (2*atanh(s)/s - 2)/z; the atanh form is the classic one, e.g. Cody & Waite,
        "Software Manual for the Elementary Functions" (1980)).
- sin:  sin(pi/2*f) = f*S(f^2),   f in [-1/2, 1/2]  (angle measured in quarter turns)
- cos:  cos(pi/2*f) = 1 + f^2*C(f^2)
- exp:  Taylor coefficients 1/k! (used only for Phi, once per call)
- Phi^-1 in float32 (contract v2): H = Phi^-1(p) / (2 (2p - 1)) as a function of
        w = -ln(4 p (1 - p)) on [0, 5] (PPF32_C, centred at 2.5, 9 coefficients) and of
        s = sqrt(w) on [sqrt(5), 4] (PPF32_T1, centred at 3.125, 10) and [4, 6.6]
        (PPF32_T2, centred at 5.25, 8); 6.6 covers tail probabilities down to 2^-64

Run: python tools/fit_coefficients.py
"""
import mpmath as mp

mp.mp.dps = 50


def chebyfit(func, lo, hi, n):
    coeffs, err = mp.chebyfit(func, [lo, hi], n, error=True)
    return list(reversed(coeffs)), err  # lowest degree first


def p_ln(z):
    if z == 0:
        return mp.mpf(2) / 3
    s = mp.sqrt(z)
    return (2 * mp.atanh(s) / s - 2) / z


def p_sin(t):
    if t == 0:
        return mp.pi / 2
    f = mp.sqrt(t)
    return mp.sin(mp.pi / 2 * f) / f


def p_cos(t):
    if t == 0:
        return -(mp.pi / 2) ** 2 / 2
    f = mp.sqrt(t)
    return (mp.cos(mp.pi / 2 * f) - 1) / t


def h_of_w(w):
    """Phi^-1(p) / (2 (2p - 1)) with w = -ln(4 p (1 - p)), p > 1/2 (the function is even)."""
    w = mp.mpf(w)
    if w == 0:
        return mp.sqrt(2 * mp.pi) / 4
    x = mp.sqrt(-mp.expm1(-w))  # 2p - 1
    return mp.sqrt(2) * mp.erfinv(x) / (2 * x)


def centred_fit(func, lo, hi, n, centre):
    """Chebyshev fit of func(centre + t) for t in [lo - centre, hi - centre], lowest degree first."""
    coeffs = mp.chebyfit(lambda t: func(t + centre), [lo - centre, hi - centre], n)
    return list(reversed(coeffs))


def as_f32_hex(x):
    import numpy as np
    return float(np.float32(float(x))).hex()


def as_f64_hex(x):
    return float(x).hex()


def main():
    zmax = ((mp.sqrt(2) - 1) / (mp.sqrt(2) + 1)) ** 2
    for name, func, hi, n32, n64 in (
        ("LN", p_ln, zmax, 3, 7),
        ("SIN", p_sin, mp.mpf(1) / 4, 4, 7),
        ("COS", p_cos, mp.mpf(1) / 4, 4, 7),
    ):
        c32, e32 = chebyfit(func, 0, hi, n32)
        c64, e64 = chebyfit(func, 0, hi, n64)
        print(f"{name}_F32 = {[as_f32_hex(c) for c in c32]}  # fit error {mp.nstr(e32, 3)}")
        print(f"{name}_F64 = {[as_f64_hex(c) for c in c64]}  # fit error {mp.nstr(e64, 3)}")
    ln2 = mp.log(2)
    import numpy as np
    hi32 = float(np.float32(float(ln2)))
    hi32 = float.fromhex("0x1.62e4p-1")  # ln2 with its low bits cleared: e*hi exact for |e| < 2^9
    lo32 = float(np.float32(float(ln2 - mp.mpf(hi32))))
    hi64 = float(mp.floor(ln2 * 2**32) / 2**32)  # 32 significant bits: e*hi exact for |e| < 2^21
    lo64 = float(ln2 - mp.mpf(hi64))
    print("LN2_HI_F32, LN2_LO_F32 =", hi32.hex(), lo32.hex())
    print("LN2_HI_F64, LN2_LO_F64 =", hi64.hex(), lo64.hex())
    print("EXP_F64 =", [as_f64_hex(1 / mp.factorial(k)) for k in range(0, 15)])
    print("PPF32_C =", [as_f32_hex(c) for c in centred_fit(h_of_w, 0, 5, 9, 2.5)])
    print("PPF32_T1 =", [as_f32_hex(c) for c in centred_fit(lambda s: h_of_w(s * s), mp.sqrt(5), 4, 10, 3.125)])
    print("PPF32_T2 =", [as_f32_hex(c) for c in centred_fit(lambda s: h_of_w(s * s), 4, 6.6, 8, 5.25)])
    print("INV_LN2 =", float(1 / ln2).hex(), " INV_SQRT_2PI =", float(1 / mp.sqrt(2 * mp.pi)).hex())


if __name__ == "__main__":
    main()

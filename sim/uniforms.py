"""Float32 uniforms from PCG64's raw output: `Generator.random`'s numbers, drawn faster."""

from __future__ import annotations

import numpy as np

__all__ = ["float32_uniforms"]

_SCALE = np.float32(1.0 / 16777216.0)  # 2**-24


def float32_uniforms(g: np.random.Generator, shape: tuple[int, ...], out: np.ndarray) -> None:
    """Write ``g.random(shape, dtype=np.float32)`` into ``out`` (any array of that shape,
    strided or not), leaving ``g`` where that call would.

    numpy makes a float32 uniform from 32 random bits as ``(bits >> 8) * 2**-24`` and takes
    the bits from each 64-bit output low half first (PCG64 keeps the high half for the next
    draw). Drawing the 64-bit outputs at once and converting them in whole arrays gives the
    same floats: ``bits >> 8`` is below 2**24, exact in float32, and the power-of-two scale is
    exact. Only for an even count drawn from a generator with no half-output kept (the high
    half an odd float32 draw leaves): otherwise it calls `Generator.random`. The generator's
    state afterwards differs from that call's only in the stale high half it would keep
    (``uinteger``, unread while ``has_uint32`` is 0).
    """
    count = int(np.prod(shape))
    if count % 2 or g.bit_generator.state["has_uint32"]:
        out[...] = g.random(shape, dtype=np.float32)
        return
    bits = g.bit_generator.random_raw(count // 2).view(np.uint32)  # little-endian: low half first
    np.right_shift(bits, 8, out=bits)
    # the bits widen to float32 inside the loop (exact), no temporary array
    np.multiply(bits.reshape(shape), _SCALE, out=out, casting="unsafe", dtype=np.float32)

"""float32_uniforms gives Generator.random's float32 numbers and moves the generator as it does."""

import numpy as np
import pytest

from sim.draws import block_generator
from sim.uniforms import float32_uniforms


def _position(g: np.random.Generator) -> tuple:
    s = g.bit_generator.state
    return s["state"]["state"], s["has_uint32"]


@pytest.mark.parametrize("shape", [(104, 10, 256), (3, 7, 256), (1, 2), (5,), (2, 3)])
@pytest.mark.parametrize("odd_before", [False, True])
def test_same_numbers_as_generator_random(shape: tuple[int, ...], odd_before: bool) -> None:
    ours, numpys = block_generator(20260917, 3), block_generator(20260917, 3)
    if odd_before:  # a half output kept from an odd draw: the slow path must take it first
        ours.random(1, dtype=np.float32)
        numpys.random(1, dtype=np.float32)
    out = np.empty(shape, np.float32)
    float32_uniforms(ours, shape, out)
    expected = numpys.random(shape, dtype=np.float32)
    assert np.array_equal(out.view(np.uint32), expected.view(np.uint32))
    assert _position(ours) == _position(numpys)
    assert np.array_equal(ours.random(9, dtype=np.float32), numpys.random(9, dtype=np.float32))
    assert np.array_equal(ours.random(9), numpys.random(9))


def test_writes_into_a_strided_view() -> None:
    ours, numpys = block_generator(1, 0), block_generator(1, 0)
    big = np.zeros((4, 3, 600), np.float32)
    float32_uniforms(ours, (4, 3, 256), big[:, :, 256:512])
    assert np.array_equal(big[:, :, 256:512], numpys.random((4, 3, 256), dtype=np.float32))
    assert not big[:, :, :256].any() and not big[:, :, 512:].any()

import math

import pytest

from vcon import schedules

Q = 100


@pytest.mark.parametrize("shape,expected", [
    ("linear", [1.0, 0.5, 0.0, 0.0]),
    ("cosine", [1.0, 0.5, 0.0, 0.0]),
    ("exponential", [1.0, (math.exp(-2.5) - math.exp(-5)) / (1 - math.exp(-5)), 0.0, 0.0]),
    ("staircase", [1.0, 0.5, 0.0, 0.0]),
])
def test_beta_at_named_steps(shape, expected):
    got = [schedules.beta(shape, t, Q) for t in (0, Q // 2, Q, 2 * Q)]
    assert got == pytest.approx(expected, abs=1e-12)
    assert got[2] == 0.0 and got[3] == 0.0


def test_linear_is_max_one_minus_t_over_q():
    assert [schedules.beta("linear", t, 8) for t in range(10)] == [1 - t / 8 for t in range(9)] + [0.0]


def test_step_is_a_four_stair_case():
    assert [schedules.beta("staircase", t, 8) for t in range(0, 9)] == [1.0, 1.0, 0.75, 0.75, 0.5, 0.5, 0.25, 0.25, 0.0]


@pytest.mark.parametrize("shape", sorted(schedules.BETA_SCHEDULES))
def test_q_zero_is_post_shot(shape):
    assert schedules.beta(shape, 0, 0) == 0.0
    assert schedules.beta(shape, 5, 0) == 0.0


@pytest.mark.parametrize("shape", sorted(schedules.BETA_SCHEDULES))
def test_beta_never_increases(shape):
    values = [schedules.beta(shape, t, 37) for t in range(50)]
    assert all(a >= b for a, b in zip(values, values[1:]))


def test_unknown_shape_names_valid_ones():
    with pytest.raises(ValueError, match="valid schedules: linear, cosine, exponential, staircase"):
        schedules.beta("sigmoid", 1, 10)


def test_cubic_sparsity_ramp():
    assert schedules.gradual_sparsity(0, 100, 0.9) == 0.0
    assert schedules.gradual_sparsity(50, 100, 0.9) == pytest.approx(0.9 * (1 - 0.5 ** 3))
    assert schedules.gradual_sparsity(100, 100, 0.9) == 0.9
    assert schedules.gradual_sparsity(250, 100, 0.9) == 0.9


def test_cubic_sparsity_in_discrete_updates():
    values = [schedules.gradual_sparsity(t, 100, 0.8, every=25) for t in (0, 24, 25, 49, 50, 99, 100)]
    ramp = lambda t: 0.8 * (1 - (1 - t / 100) ** 3)  # noqa: E731
    assert values == pytest.approx([0.0, 0.0, ramp(25), ramp(25), ramp(50), ramp(75), 0.8])


def test_incremental_share_inq_stages():
    got = [schedules.incremental_share(t, 90) for t in (0, 29, 30, 59, 60, 89, 90, 200)]
    assert got == [0.5, 0.5, 0.75, 0.75, 0.875, 0.875, 1.0, 1.0]


def test_stepwise_rank():
    got = [schedules.stepwise_rank(t, 100, 64, 16, stages=2) for t in (0, 49, 50, 99, 100)]
    assert got == [64, 64, 32, 32, 16]


def test_negative_step_is_an_error():
    with pytest.raises(ValueError, match="step must be >= 0"):
        schedules.beta("linear", -1, 10)

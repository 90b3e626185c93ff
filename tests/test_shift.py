"""The shift arithmetic of the paper's Algorithm 1 (calibrated held-out probability,
shifted loss) against hand-computed cases."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from skmat._shift import SHIFT_EPS, calibration_matrix, logit_shift, tempered_proba

PROBA = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
Y = np.array([0, 0, 1, 1])


def test_temperature_one_keeps_probabilities():
    assert_allclose(tempered_proba(PROBA, 1.0), PROBA)


def test_tiny_temperature_gives_one_hot():
    q = tempered_proba(PROBA, 1e-3)
    assert_allclose(q, np.eye(2)[PROBA.argmax(axis=1)], atol=1e-12)


def test_temperature_sharpens_by_hand():
    # softmax(log p / 0.5) = p^2 / sum p^2
    expected = PROBA**2 / (PROBA**2).sum(axis=1, keepdims=True)
    assert_allclose(tempered_proba(PROBA, 0.5), expected)


def test_calibration_matrix_by_hand():
    C = calibration_matrix(PROBA, Y, 2)
    # column sums of q: class 0 -> 0.9+0.8+0.3+0.6 = 2.6, class 1 -> 1.4
    # C[0, 0] = (0.9 + 0.8) / 2.6, C[1, 1] = (0.7 + 0.4) / 1.4
    expected = np.array([[1.7 / 2.6, 0.9 / 2.6], [0.3 / 1.4, 1.1 / 1.4]])
    assert_allclose(C, expected)
    assert_allclose(C.sum(axis=1), 1.0)


def test_calibration_rows_sum_to_one_for_many_classes():
    rng = np.random.RandomState(0)
    proba = rng.dirichlet(np.ones(4), size=50)
    y = rng.randint(4, size=50)
    C = calibration_matrix(tempered_proba(proba, 0.1), y, 4)
    assert C.shape == (4, 4)
    assert_allclose(C.sum(axis=1), 1.0)


def test_calibration_row_without_mass_is_the_prior():
    q = np.array([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    y = np.array([0, 2, 1])
    C = calibration_matrix(q, y, 3)
    assert_allclose(C[2], [1 / 3, 1 / 3, 1 / 3])
    assert_allclose(C[0], [0.5, 0.0, 0.5])


def test_calibration_weights_count_like_repetitions():
    weighted = calibration_matrix(PROBA, Y, 2, sample_weight=np.array([2, 1, 1, 1]))
    repeated = calibration_matrix(np.vstack([PROBA, PROBA[:1]]), np.r_[Y, 0], 2)
    assert_allclose(weighted, repeated)


@pytest.mark.parametrize("strength", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("temperature", [0.01, 0.1, 1.0])
def test_shift_equals_lambda_log_q_times_C(strength, temperature):
    shift, C = logit_shift(PROBA, Y, temperature=temperature, shift_strength=strength)
    q = tempered_proba(PROBA, temperature)
    assert_allclose(C, calibration_matrix(q, Y, 2))
    assert_allclose(shift, strength * np.log(q @ C + SHIFT_EPS))


def test_shift_by_hand_at_temperature_one():
    shift, _ = logit_shift(PROBA, Y, temperature=1.0, shift_strength=1.0)
    C = np.array([[1.7 / 2.6, 0.9 / 2.6], [0.3 / 1.4, 1.1 / 1.4]])
    p0 = 0.9 * C[0] + 0.1 * C[1]
    assert_allclose(shift[0], np.log(p0 + SHIFT_EPS))


def test_without_calibration_the_shift_is_log_q():
    shift, _ = logit_shift(
        PROBA, Y, temperature=0.5, shift_strength=1.0, calibrate=False
    )
    assert_allclose(shift, np.log(tempered_proba(PROBA, 0.5) + SHIFT_EPS))


def test_zero_strength_gives_zero_shift():
    shift, _ = logit_shift(PROBA, Y, temperature=0.1, shift_strength=0.0)
    assert np.all(shift == 0)


def test_exact_zero_probabilities_give_finite_shift_and_loss():
    import torch

    proba = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 1, 1])  # the last example is a held-out mistake
    for calibrate in (True, False):
        shift, C = logit_shift(
            proba, y, temperature=0.001, shift_strength=1.0, calibrate=calibrate
        )
        assert np.all(np.isfinite(shift)) and np.all(np.isfinite(C))
        logits = torch.zeros(3, 2, requires_grad=True)
        loss = torch.nn.functional.cross_entropy(
            logits + torch.as_tensor(shift, dtype=torch.float32), torch.as_tensor(y)
        )
        loss.backward()
        assert torch.isfinite(loss) and torch.all(torch.isfinite(logits.grad))
    # uncalibrated, the mistaken example's label gets log(eps): large but finite
    assert_allclose(shift[2, 1], np.log(SHIFT_EPS))

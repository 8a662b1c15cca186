"""The Boltzmann prediction of the plane-wave relaxation (chargetransport.relaxation_prediction)."""
import numpy as np
import pytest

import chargetransport as ct
from chargetransport import boltzmann as bz
from chargetransport import relaxation_prediction as rp


def test_boltzmann_prediction_of_plane_wave_observables():
    p = np.array([0.11, 0.23])
    T = np.array([0.0, 1.0])
    pred = rp.plane_wave_boltzmann_prediction(d=2, momentum=p, T=T, bump_centers=[p])
    m = float(bz.collision_rate(float(ct.dispersion(p)), 2))
    assert pred["survival"] == pytest.approx(np.exp(-m * T), rel=1e-14)
    assert np.allclose(pred["current"], np.exp(-m * T)[:, None] * bz.group_velocity(p))
    assert pred["bumps"][0, 0] == pytest.approx(1.0)
    assert np.all(pred["kinetic_energy"] == pytest.approx(float(ct.dispersion(p))))


def test_momentum_bump_is_periodic_with_peak_one():
    q = np.array([0.95, 0.1])
    assert rp.momentum_bump(q, q, 0.05) == pytest.approx(1.0)
    assert rp.momentum_bump(q + 1.0, q, 0.05) == pytest.approx(1.0)
    assert rp.momentum_bump(np.array([0.05, 0.1]), q, 0.05) == pytest.approx(np.exp(-2.0))

"""Sampling people: a seeded point set in the unit cube, mapped through each source's distribution.

Person ``i`` of a run is row ``i`` of the design for ``(sampler, n_people, seed)``: the design
is computed whole (a Sobol or Latin-hypercube set depends on every row), never per chunk, so a
person's parameters do not depend on how the run is chunked or on which worker solves them.
Plain Monte Carlo draws person ``i`` from ``numpy.random.default_rng([seed, i])``.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from scipy import stats
from scipy.stats import qmc

from iliopsoas.population.spec import Bernoulli, Constant, LogNormal, Normal, Spec, Uniform

Array = NDArray[np.float64]


def unit_design(sampler: str, n_people: int, dims: int, seed: int) -> Array:
    """``(n_people, dims)`` points in ``[0, 1)``."""
    if n_people < 1:
        raise ValueError(f"the number of people must be at least 1, got {n_people}")
    if dims == 0:
        return np.zeros((n_people, 0))
    if sampler == "sobol":
        with warnings.catch_warnings():  # balance properties need 2**m points; any n is still valid
            warnings.simplefilter("ignore", UserWarning)
            return qmc.Sobol(dims, scramble=True, rng=np.random.default_rng(seed)).random(n_people)
    if sampler == "lhs":
        return qmc.LatinHypercube(dims, rng=np.random.default_rng(seed)).random(n_people)
    if sampler == "monte_carlo":
        return np.stack([np.random.default_rng([seed, i]).random(dims) for i in range(n_people)])
    raise ValueError(f"unknown sampler {sampler!r}: use sobol, lhs or monte_carlo")


def transform(dist: object, u: Array) -> Array:
    """Map uniform ``u`` ``(n,)`` through a distribution's inverse CDF."""
    u = np.clip(u, 1e-12, 1 - 1e-12)
    if isinstance(dist, Normal):
        a = -np.inf if dist.low is None else (dist.low - dist.mean) / dist.sd
        b = np.inf if dist.high is None else (dist.high - dist.mean) / dist.sd
        return np.asarray(stats.truncnorm.ppf(u, a, b, loc=dist.mean, scale=dist.sd), dtype=float)
    if isinstance(dist, LogNormal):
        return np.asarray(dist.median * np.exp(dist.sigma * stats.norm.ppf(u)), dtype=float)
    if isinstance(dist, Uniform):
        return dist.low + u * (dist.high - dist.low)
    if isinstance(dist, Bernoulli):
        return (u < dist.p).astype(float)
    if isinstance(dist, Constant):
        return np.full(u.shape, dist.value)
    raise TypeError(f"unknown distribution {type(dist).__name__}")


def sample_people(spec: Spec, n_people: int, seed: int) -> dict[str, Array]:
    """Every source's value for every person: ``{source: (n_people,)}``, in the spec's order."""
    names = list(spec.sources)
    U = unit_design(spec.sampler, n_people, len(names), seed)
    return {name: transform(spec.sources[name].distribution, U[:, j]) for j, name in enumerate(names)}

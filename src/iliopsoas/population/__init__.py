"""Populations: the model's verdicts across thousands of simulated people.

A spec names what varies between people (each with its citation), what to measure and which
published statistics to answer. :func:`run_population` samples the people (seeded Sobol, Latin
hypercube or Monte Carlo), solves them in chunks on Dask (a local cluster by default, or any
scheduler), and stores one Parquet row per person x scenario; :func:`report` computes the
statistics beside the published figures and the sensitivity indices.

>>> from iliopsoas.population import example_spec, run_population, report   # doctest: +SKIP
>>> run_population(example_spec(), n_people=1024, out="run1", seed=1)          # doctest: +SKIP
>>> report("run1").statistics[0].model                                          # doctest: +SKIP
"""

from iliopsoas.population.report import PopulationReport, plot, report
from iliopsoas.population.runner import RunSummary, run_population
from iliopsoas.population.spec import Spec, SpecError, example_spec, example_text, load_spec, parse_spec
from iliopsoas.population.store import StoreError

__all__ = [
    "PopulationReport",
    "RunSummary",
    "Spec",
    "SpecError",
    "StoreError",
    "example_spec",
    "example_text",
    "load_spec",
    "parse_spec",
    "plot",
    "report",
    "run_population",
]

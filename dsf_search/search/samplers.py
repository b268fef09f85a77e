"""The Optuna samplers a space (or --sampler) can name."""

from __future__ import annotations

import warnings

import optuna

from dsf_search.errors import InputError
from dsf_search.defaults import SAMPLERS


class GridSampler(optuna.samplers.BruteForceSampler):
    """Optuna's brute-force sampler for an ask-and-tell driver. Optuna's own `after_trial` calls
    `study.stop()` once every point has been tried, which raises outside `study.optimize`; here
    the driver decides that the space is exhausted (when asks stop yielding new candidates), so
    nothing is done after a trial."""

    def after_trial(self, study, trial, state, values) -> None:  # noqa: D102 - see the class docstring
        return None


def make_sampler(name: str, seed: int, n_objectives: int, parallel: int) -> optuna.samplers.BaseSampler:
    """A seeded sampler. 'grid' enumerates the (conditional) space exhaustively in random order.

    TPE runs multivariate with grouping (conditional spaces) and, when several trials run at
    once, the constant liar so parallel asks do not pile onto one point.
    """
    if name == "tpe":
        with warnings.catch_warnings():
            # multivariate/group are marked experimental; they are what conditional spaces need
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(seed=seed, multivariate=True, group=True, constant_liar=parallel > 1)
    if name == "nsga2":
        return optuna.samplers.NSGAIISampler(seed=seed)
    if name == "nsga3":
        return optuna.samplers.NSGAIIISampler(seed=seed)
    if name == "gp":
        try:
            import scipy  # noqa: F401 - GPSampler needs it
        except ImportError:
            raise InputError("sampler 'gp' needs scipy: pip install scipy") from None
        return optuna.samplers.GPSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "grid":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # the brute-force sampler is marked so
            return GridSampler(seed=seed)
    raise InputError(f"unknown sampler {name!r}; samplers: {', '.join(SAMPLERS)}")

"""The choices and defaults that the CLI's parsers show and that live in heavy modules: the
default protocol, the samplers, output formats, trial states, the report's and the coefficient
maps' defaults, the confirmation's resamples.

A leaf module (nothing imported) so that `dsf-search COMMAND --help` loads none of the layers
whose values it shows. It sits beside errors.py rather than in each layer because the modules
that own these values import torch, Optuna, pandas or the whole core (evaluate/candidate.py,
search/settings.py and samplers.py, results/formats.py, query.py, report.py, coefficients.py,
confirm.py; they read them here), and dsf_search/results/`__init__` loads the tables eagerly:
its `table` and `pareto` functions share their names with submodules, so they cannot be
exported lazily.
"""

DEFAULT_PROTOCOL = "evaluators/quick.yaml"
SAMPLERS = ("tpe", "nsga2", "nsga3", "gp", "random", "grid")

FORMATS = ("table", "csv", "json", "markdown", "parquet")
STATES = ("COMPLETE", "FAIL", "PRUNED", "RUNNING", "WAITING")
ALL = "ALL"
REPORT_DIR = "report"
DEFAULT_MAPS = 3
DEFAULT_MAX_LEN = 64
RESAMPLES = 1000

"""The choices and defaults of the results layer that the CLI's parsers show: output formats,
trial states, the report's and the coefficient maps' defaults, the confirmation's resamples.

A leaf module (no pandas, Optuna or torch) so that `dsf-search COMMAND --help` imports nothing
heavy. It sits beside errors.py rather than in dsf_search/results/ because that package's
`__init__` loads the tables (pandas, Optuna) eagerly: its `table` and `pareto` functions share
their names with submodules, so they cannot be exported lazily. The modules that use these
values (results/formats.py, query.py, report.py, coefficients.py, confirm.py) read them here.
"""

FORMATS = ("table", "csv", "json", "markdown", "parquet")
STATES = ("COMPLETE", "FAIL", "PRUNED", "RUNNING", "WAITING")
ALL = "ALL"
REPORT_DIR = "report"
DEFAULT_MAPS = 3
DEFAULT_MAX_LEN = 64
RESAMPLES = 1000

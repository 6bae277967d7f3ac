"""Pipeline expressions: Spinnaker's ``${…}`` SpEL subset, evaluated safely.

The public surface:

- ``evaluate_config(config, root) -> (evaluated, summary)``: what the engine calls when a
  stage starts. Every ``${…}`` in the config is evaluated; one that fails keeps its text and
  adds to ``summary`` (Orca's ``expressionEvaluationSummary`` shape, plus ``column``).
- ``evaluate_template(text, root)``: one string as written in a config (``"${trigger.tag}"``,
  ``"image-${trigger.tag}"``); raises ``ExpressionError``. The playground and the
  ``manage.py expression eval`` command use it.
- ``evaluate_expression(expression, root)``: one bare SpEL expression, no ``${}``.
- ``stage_scope(stage, execution) -> root``: ``#root`` for a stage, as Orca builds it.
- ``Environment``: what the engine knows beyond the data (current stage id, user, pipeline
  lookup, URL policy) and ``unknown_keys_are_null`` (Orca's allowUnknownKeys: ``a.missing`` on
  a map is null; off by default, so it is an error unless written ``a?.missing`` or
  ``a['missing']``). ``Limits``: the limits; by default from settings
  (``SPINUI_EXPRESSION_*``).
- ``ExpressionError`` (``.message``, ``.column``): the only exception raised for bad input.

The interpreter only indexes dicts and lists and calls methods it implements itself; URL
helpers fetch only from SPINUI_EXPRESSION_URL_ALLOWLIST (empty by default).
"""

from .errors import ExpressionError, LimitExceeded
from .evaluate import Environment, evaluate_config, evaluate_expression, evaluate_template
from .fetch import UrlPolicy
from .limits import Limits
from .scope import stage_scope

__all__ = [
    "Environment",
    "ExpressionError",
    "LimitExceeded",
    "Limits",
    "UrlPolicy",
    "evaluate_config",
    "evaluate_expression",
    "evaluate_template",
    "stage_scope",
]

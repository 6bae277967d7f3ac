"""Limits that stop runaway or hostile expressions; exceeding one is an ExpressionError."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    # Characters inside one ${...}.
    max_expression_length: int = 10_000
    # Nodes in one parsed expression, and how deeply they may nest.
    max_ast_nodes: int = 2_000
    max_depth: int = 64
    # Node evaluations (and elements walked by selections, comparisons, conversions).
    max_steps: int = 100_000
    # Characters of strings plus elements of lists and maps in any value built or returned.
    max_result_size: int = 2_000_000
    # Characters and elements one expression may build along the way, kept or not.
    max_allocation: int = 10_000_000
    # Characters and elements of all the values evaluate_config puts into one config.
    max_config_size: int = 10_000_000
    # Characters in a regular expression, and the time one match may take.
    max_regex_length: int = 1_000
    regex_timeout_seconds: float = 0.25
    # #fromUrl and friends.
    url_timeout_seconds: float = 5.0
    url_max_bytes: int = 1_048_576
    url_max_redirects: int = 5


def limits_from_settings() -> Limits:
    """Limits as configured in Django settings (SPINUI_EXPRESSION_*), defaults otherwise."""
    from django.conf import settings

    defaults = Limits()
    return Limits(
        max_expression_length=getattr(
            settings, "SPINUI_EXPRESSION_MAX_LENGTH", defaults.max_expression_length
        ),
        max_steps=getattr(settings, "SPINUI_EXPRESSION_MAX_STEPS", defaults.max_steps),
        max_result_size=getattr(
            settings, "SPINUI_EXPRESSION_MAX_RESULT_SIZE", defaults.max_result_size
        ),
        url_timeout_seconds=getattr(
            settings, "SPINUI_EXPRESSION_URL_TIMEOUT", defaults.url_timeout_seconds
        ),
        url_max_bytes=getattr(settings, "SPINUI_EXPRESSION_URL_MAX_BYTES", defaults.url_max_bytes),
    )

"""Template helpers of the infrastructure pages."""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def health_squares(squares: list[dict]) -> SafeString:
    """One square per instance, coloured by health, titled with its health and address.

    A filter rather than a loop in the template, with the standard library's escape rather
    than format_html: the clusters page draws thousands of them.
    """
    html = []
    for square in squares:
        health = str(square["health"])
        port = f":{square['port']}" if square.get("port") else ""
        title = escape(f"{health} {square['host']}{port}")
        html.append(f'<span class="sq {escape(health.lower())}" title="{title}"></span>')
    return mark_safe("".join(html))  # noqa: S308 - every value above is escaped

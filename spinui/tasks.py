"""Celery tasks of spinui: thin, they load ids and call a service."""

from celery import shared_task
from django.conf import settings

from spinui import infrastructure
from spinui.models import Region


@shared_task
def infrastructure_refresh() -> None:
    """Beat's entry: one message per region, so regions refresh in parallel and a slow one
    holds up nobody. A message older than one interval is dropped, not queued up."""
    expires = max(settings.SPINUI_INFRASTRUCTURE_REFRESH_SECONDS, 1)
    for region_id in Region.objects.values_list("id", flat=True):
        region_refresh.apply_async((region_id,), expires=expires)


@shared_task
def region_refresh(region_id: int) -> None:
    region = Region.objects.select_related("account").filter(pk=region_id).first()
    if region is not None:
        infrastructure.region_refresh(region=region)

"""Reading Prometheus metrics over HTTP, as a scraper would."""

import requests
from prometheus_client.parser import text_string_to_metric_families


def metric_sum(url: str, name: str, **labels: str) -> float:
    """The sum of `name`'s samples with `labels` in the Prometheus text at url (0 when absent)."""
    text = requests.get(url, timeout=5).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )

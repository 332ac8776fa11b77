"""The price table (`prices.json`): dated, per region and table class, every figure a Decimal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path

PRICES_FILE = Path(__file__).with_name("prices.json")
TABLE_CLASSES = {"standard": "Standard", "standard_ia": "Standard-IA"}


@dataclass(frozen=True)
class ClassPrices:
    write_request_per_million: Decimal
    read_request_per_million: Decimal
    replicated_write_request_per_million: Decimal
    wcu_hour: Decimal
    rcu_hour: Decimal
    replicated_wcu_hour: Decimal
    storage_gb_month: Decimal


@dataclass(frozen=True)
class RegionPrices:
    region: str
    name: str
    classes: dict[str, ClassPrices]
    pitr_gb_month: Decimal
    backup_gb_month: Decimal
    restore_gb: Decimal
    stream_reads_per_100k: Decimal


@dataclass(frozen=True)
class PriceTable:
    source: str
    read_on: str
    effective_from: str
    currency: str
    notes: list[str]
    free_storage_gb_standard: Decimal
    free_stream_reads: Decimal
    regions: dict[str, RegionPrices]

    def region(self, region: str) -> RegionPrices:
        return self.regions[region]


@cache
def price_table() -> PriceTable:
    raw = json.loads(PRICES_FILE.read_text(), parse_float=Decimal)
    regions = {}
    for code, data in raw["regions"].items():
        regions[code] = RegionPrices(
            region=code,
            name=data["name"],
            classes={
                table_class: ClassPrices(**{name: Decimal(value) for name, value in data[table_class].items()})
                for table_class in TABLE_CLASSES
            },
            pitr_gb_month=Decimal(data["pitr_gb_month"]),
            backup_gb_month=Decimal(data["backup_gb_month"]),
            restore_gb=Decimal(data["restore_gb"]),
            stream_reads_per_100k=Decimal(data["stream_reads_per_100k"]),
        )
    return PriceTable(
        source=raw["source"],
        read_on=raw["read_on"],
        effective_from=raw["effective_from"],
        currency=raw["currency"],
        notes=list(raw["notes"]),
        free_storage_gb_standard=Decimal(raw["free_tier"]["storage_gb_standard"]),
        free_stream_reads=Decimal(raw["free_tier"]["stream_reads"]),
        regions=regions,
    )


def regions() -> list[str]:
    return list(price_table().regions)

"""The price table: dated, sourced, every figure a Decimal."""

from decimal import Decimal

from costs.prices import price_table, regions


def test_prices_are_decimals_with_a_date_and_a_source():
    table = price_table()
    us = table.region("us-east-1").classes["standard"]

    assert table.read_on and "aws.amazon.com/dynamodb/pricing" in table.source
    assert (us.write_request_per_million, us.read_request_per_million) == (Decimal("0.625"), Decimal("0.125"))
    assert (us.wcu_hour, us.rcu_hour) == (Decimal("0.00065"), Decimal("0.00013"))
    assert set(table.regions) >= {"us-east-1", "us-west-2", "eu-west-1"}
    assert all(isinstance(value, Decimal) for value in us.__dict__.values())


def test_the_free_tier_is_25_gb_of_standard_storage_and_2_5_million_stream_reads():
    table = price_table()

    assert (table.free_storage_gb_standard, table.free_stream_reads) == (Decimal(25), Decimal(2_500_000))


def test_regions_lists_the_priced_regions_in_the_tables_order():
    assert regions() == list(price_table().regions)

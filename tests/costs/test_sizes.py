"""DynamoDB's own rules, checked against the examples in AWS's documentation."""

from decimal import Decimal

from costs import sizes


def test_a_3_kb_write_is_3_units_and_6_inside_a_transaction():
    three_kb = 3 * 1024

    assert sizes.write_units(three_kb) == 3
    assert sizes.write_units(three_kb, transactional=True) == 6


def test_writes_round_each_item_up_to_whole_kilobytes():
    assert sizes.write_units(1) == 1
    assert sizes.write_units(1024) == 1
    assert sizes.write_units(1025) == 2


def test_an_8_kb_read_is_2_units_strong_1_eventual_4_transactional():
    eight_kb = 8 * 1024

    assert sizes.read_units(eight_kb, consistency="strong") == 2
    assert sizes.read_units(eight_kb, consistency="eventual") == 1
    assert sizes.read_units(eight_kb, consistency="transactional") == 4


def test_a_3500_byte_read_costs_what_a_4_kb_read_costs():
    assert sizes.read_units(3500, consistency="strong") == sizes.read_units(4096, consistency="strong") == 1


def test_a_query_sums_item_sizes_before_rounding_where_batch_get_rounds_each_item():
    # AWS's BatchGetItem example: 1.5 KB and 6.5 KB items count as 4 KB + 8 KB = 12 KB.
    items = [1536, 6656]

    assert sizes.query_read_units(items, consistency="strong") == 2  # 8 KB
    assert sizes.batch_get_read_units(items, consistency="strong") == 3  # 12 KB


def test_a_query_of_many_small_items_is_one_unit_not_one_per_item():
    assert sizes.query_read_units([100] * 26, consistency="eventual") == Decimal("0.5")


def test_item_size_counts_names_and_values_by_type():
    item = {
        "id": {"S": "pay_1"},  # 2 + 5
        "amount": {"N": "2500"},  # 6 + (2 significant digits -> 1 byte) + 1
        "ok": {"BOOL": True},  # 2 + 1
        "card": {"M": {"last4": {"S": "4242"}}},  # 4 + 3 + (1 + 5 + 4)
        "tags": {"L": [{"S": "a"}, {"S": "bc"}]},  # 4 + 3 + (1 + 1) + (1 + 2)
    }

    assert sizes.item_size(item) == 7 + 8 + 3 + 17 + 12


def test_numbers_take_a_byte_per_two_significant_digits_plus_one():
    assert sizes.number_size("0") == 2
    assert sizes.number_size("12345") == 4
    assert sizes.number_size("1000000") == 2  # trailing zeros are trimmed
    assert sizes.number_size("-12") == 3


def test_storage_adds_100_bytes_per_item():
    assert sizes.stored_bytes(412) == 512

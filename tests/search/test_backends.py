"""The query builders of both databases, without a server: the PostgreSQL tsquery and the SQLite FTS5
query are made from the same groups, and nothing the user typed reaches the SQL text."""

from __future__ import annotations

import pytest

from search import backends, terms
from search.terms import Term

pytestmark = pytest.mark.pure

GROUPS = [(Term("order", True), Term("h0123456789abcdef", False)), (Term("5381", True), Term("m5381", False))]


def test_postgres_tsquery_uses_prefix_matches_for_words_and_exact_hashes():
    assert backends.tsquery(GROUPS) == "(order:* | h0123456789abcdef) & (5381:* | m5381)"


def test_sqlite_fts5_query_quotes_every_token():
    assert backends.fts5_query(GROUPS) == '("order"* OR "h0123456789abcdef") AND ("5381"* OR "m5381")'


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite"])
def test_the_query_is_a_bound_parameter_never_sql_text(vendor, settings):
    hostile = "x'); DROP TABLE search_entry; -- & | ! :* \" OR NEAR("
    groups = terms.query_groups("mer_1", hostile)

    sql, params = backends.match_subquery(vendor, groups)

    assert "DROP" not in sql and "%s" in sql and len(params) == 1
    assert set(params[0]) <= set('abcdefghijklmnopqrstuvwxyz0123456789 ()&|:*"ORAND')


def test_postgres_migration_adds_a_generated_tsvector_with_a_gin_index():
    created = " ".join(backends.POSTGRES_CREATE)
    assert "GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED" in created
    assert "USING GIN (terms_tsv)" in created


def test_an_unknown_database_is_refused():
    with pytest.raises(NotImplementedError):
        backends.match_subquery("mysql", GROUPS)


def test_query_words_become_groups_of_alternatives(settings):
    groups = terms.query_groups("mer_1", "PAY_01JD Order 12.50 5381")

    assert groups[0] == (Term("pay01jd", True),)
    assert groups[1][0] == Term("order", True) and groups[1][1].token.startswith("h") and not groups[1][1].prefix
    assert groups[2] == (Term("m12p50", False),)
    assert [t.token for t in groups[3]][0::2] == ["5381", "m5381"]


def test_the_same_prefix_hashes_differently_at_two_merchants():
    assert terms.pii_hash("mer_a", "jane") != terms.pii_hash("mer_b", "jane")
    assert terms.pii_hash("mer_a", "jane") == terms.pii_hash("mer_a", "jane")


def test_amount_tokens_follow_the_currency_exponent():
    assert terms.amount_tokens(1250, "usd") == ["m12p50"]
    assert terms.amount_tokens(1200, "usd") == ["m12p00", "m12"]
    assert terms.amount_tokens(5000, "jpy") == ["m5000"]

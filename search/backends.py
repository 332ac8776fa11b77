"""The full-text match per database, as one subquery of matching `search_entry` ids.

SQLite: an FTS5 table (`search_entry_fts`, external content over `search_entry`, kept by triggers).
PostgreSQL: a generated `tsvector` column (`terms_tsv`, `simple` configuration) with a GIN index.
Both are made by migration 0001; the rest of the app is plain ORM over `SearchEntry`."""

from __future__ import annotations

from search.terms import Group


def fts5_query(groups: list[Group]) -> str:
    """`("order"* OR "h1a2b...") AND ("5381"*)`. Tokens are [a-z0-9] only, quoted all the same."""
    return " AND ".join(
        "(" + " OR ".join(f'"{term.token}"' + ("*" if term.prefix else "") for term in group) + ")" for group in groups
    )


def tsquery(groups: list[Group]) -> str:
    """`(order:* | h1a2b...) & (5381:*)` for `to_tsquery('simple', ...)`."""
    return " & ".join(
        "(" + " | ".join(term.token + (":*" if term.prefix else "") for term in group) + ")" for group in groups
    )


def match_subquery(vendor: str, groups: list[Group]) -> tuple[str, list[str]]:
    """SQL selecting the ids of the rows whose terms match every group, and its parameters."""
    if vendor == "postgresql":
        return "SELECT id FROM search_entry WHERE terms_tsv @@ to_tsquery('simple', %s)", [tsquery(groups)]
    if vendor == "sqlite":
        return "SELECT rowid FROM search_entry_fts WHERE search_entry_fts MATCH %s", [fts5_query(groups)]
    raise NotImplementedError(f"The search index needs SQLite or PostgreSQL, not {vendor}.")


SQLITE_CREATE = [
    "CREATE VIRTUAL TABLE search_entry_fts USING fts5(terms, content='search_entry', content_rowid='id')",
    """CREATE TRIGGER search_entry_ai AFTER INSERT ON search_entry BEGIN
        INSERT INTO search_entry_fts(rowid, terms) VALUES (new.id, new.terms);
    END""",
    """CREATE TRIGGER search_entry_ad AFTER DELETE ON search_entry BEGIN
        INSERT INTO search_entry_fts(search_entry_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
    END""",
    """CREATE TRIGGER search_entry_au AFTER UPDATE ON search_entry BEGIN
        INSERT INTO search_entry_fts(search_entry_fts, rowid, terms) VALUES ('delete', old.id, old.terms);
        INSERT INTO search_entry_fts(rowid, terms) VALUES (new.id, new.terms);
    END""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS search_entry_au",
    "DROP TRIGGER IF EXISTS search_entry_ad",
    "DROP TRIGGER IF EXISTS search_entry_ai",
    "DROP TABLE IF EXISTS search_entry_fts",
]
POSTGRES_CREATE = [
    "ALTER TABLE search_entry ADD COLUMN terms_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', terms)) STORED",
    "CREATE INDEX search_entry_terms_tsv ON search_entry USING GIN (terms_tsv)",
]
POSTGRES_DROP = ["DROP INDEX IF EXISTS search_entry_terms_tsv", "ALTER TABLE search_entry DROP COLUMN terms_tsv"]

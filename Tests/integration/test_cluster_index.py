"""Cluster mode's PostgreSQL index (issue 21 item 2): the index seam's semantics tests
(Tests/DepotStorageTests/IndexStoreTests.swift, PostgresIndexTests.swift) run against a private
PostgreSQL. Those Swift tests run only when DEPOT_TEST_POSTGRES_INDEX names a database; this test
starts the server, sets it and runs the test bundle of the build DEPOT_BIN belongs to; likewise the
engine over the PostgreSQL index (PostgresIndexEngineTests)."""
import re

from cluster_support import fresh_database, postgres, run_swift_suites  # noqa: F401 (fixtures)


def test_the_index_store_semantics_hold_on_postgresql(fresh_database):
    # The test bundle the same build made beside DEPOT_BIN (`swift build --build-tests`; `make
    # test` does), run directly: `swift test` would wait for SwiftPM's build lock.
    output = run_swift_suites("IndexStoreTests|PostgresIndexTests", 300, DEPOT_TEST_POSTGRES_INDEX=fresh_database)
    # The PostgreSQL cases ran (the shared tests take it as a third kind) and none failed.
    assert re.search(r"putGetContainsDeleteAndTablesAreSeparate\(kind:\) with 3 test cases passed", output), output[-4000:]
    assert "Suite PostgresIndexTests passed" in output, output[-4000:]


def test_the_engine_runs_over_the_postgresql_index(postgres, fresh_database):
    """Tests/DepotEngineTests/PostgresIndexEngineTests.swift: ingest, ranged reads, dedup, list,
    multipart, delete and fsck with every index row in PostgreSQL (migrated by the test)."""
    output = run_swift_suites("PostgresIndexEngineTests", 300, DEPOT_TEST_POSTGRES_ENGINE=fresh_database)
    assert "Suite PostgresIndexEngineTests passed" in output, output[-4000:]
    database = fresh_database.rsplit("/", 1)[1]
    # The engine's rows really are in PostgreSQL (meta keeps its counters after every delete).
    assert int(postgres.psql("SELECT count(*) FROM depot_meta", database)) > 0

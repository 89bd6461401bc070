# Depot's two set-up commands: `make run` and `make test`. Each installs what it needs first.
SWIFT ?= swift
PYTHON ?= python3
APT_PACKAGES := liblmdb-dev libssl-dev pkg-config curl rclone openssl chromium chromium-driver ffmpeg librdkafka-dev librabbitmq-dev rabbitmq-server systemd postgresql haproxy nginx
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Kafka: Depot links Debian's librdkafka (2.0.2 on Debian 12), which cannot talk to the test broker
# (tansu); every command here loads the newer, ABI-compatible librdkafka.so.1 that the confluent-kafka
# wheel ships instead (Sources/DepotEventBrokers/README-brokers.md says why).
BROKERS_DIR := $(CURDIR)/.build-brokers
export LD_LIBRARY_PATH := $(BROKERS_DIR)/lib$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))
# Release builds with testability, so the unit tests' `@testable import`s compile and one build
# serves the unit tests, the server the integration tests start and `make run` (other flags would
# rebuild every module). `make bench` builds without it.
BUILD_FLAGS := -c release -Xswiftc -enable-testing

.PHONY: deps build run test unit integration bench bench-peers bench-cluster bench-build bench-micro fuzz

# System libraries for the systemLibrary targets, and the Python clients the integration tests drive.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
	@$(PYTHON) -m pip install -q -r Tests/integration/requirements.txt
	@$(PYTHON) Tests/integration/brokers.py link-librdkafka $(BROKERS_DIR)/lib

build: deps
	$(SWIFT) build $(BUILD_FLAGS) --product depot

# Starts Depot on the embedded default configuration: 127.0.0.1:9000, data in ./data.
run: build
	.build/release/depot serve

# Every test, in release mode so one build serves the unit tests and the server the
# integration tests start.
test: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build
	DEPOT_BIN=$(CURDIR)/.build/release/depot $(PYTHON) -m pytest -q -p no:cacheprovider Tests/integration
	$(CLUSTER_RUN)

# The real-client suites (awscli, minio, s3cmd, rclone, the agent-like Vault client, boto3's
# put/get/list/multipart/copy/delete) again, each server a cluster node: index in PostgreSQL,
# chunks in packs on moto_server (DEPOT_TEST_CLUSTER=1, Tests/integration/cluster_mode.py).
CLUSTER_CLIENT_TESTS := $(addprefix Tests/integration/,test_clients_awscli.py test_clients_minio.py \
	test_clients_s3cmd.py test_clients_rclone.py test_vault.py test_vault_fidelity.py test_tus_resume.py \
	test_tus_headers.py test_tus_limits.py test_range_requests.py test_basic_s3.py test_s3_copy.py \
	test_s3_edges.py test_s3_subresources.py test_presigned.py test_s3_streaming.py)
CLUSTER_RUN = DEPOT_TEST_CLUSTER=1 DEPOT_BIN=$(CURDIR)/.build/release/depot $(PYTHON) -m pytest -q -p no:cacheprovider \
	$(CLUSTER_CLIENT_TESTS)

unit: deps
	$(SWIFT) build $(BUILD_FLAGS) --build-tests
	$(SWIFT) test $(BUILD_FLAGS) --skip-build

integration: build
	DEPOT_BIN=$(CURDIR)/.build/release/depot $(PYTHON) -m pytest -q -p no:cacheprovider Tests/integration
	$(CLUSTER_RUN)

# Depot against this machine's limits and moto_server, in one run: writes Benchmarks/RESULTS.md.
# PEERS=1 also runs bench-peers' comparison after it.
bench: bench-build
	$(PYTHON) Benchmarks/run_bench.py
	$(if $(filter 1,$(PEERS)),$(PYTHON) Benchmarks/bench_peers.py)

# Depot beside Ceph RGW, OpenStack Swift (s3api) and moto_server, started by the bench one at a
# time (installed with apt-get/pip when missing; only this target does that, never test or CI),
# with server CPU per GiB: replaces its section of Benchmarks/RESULTS.md. BENCH_PEER_SECONDS=20
# is the phase length, BENCH_PEERS=depot,rgw,swift,moto the servers and their order.
bench-peers: bench-build
	$(PYTHON) Benchmarks/bench_peers.py

# Cluster mode against embedded mode (one node; index in a private PostgreSQL with fsync on, packs on
# moto_server), index commits and rows per object, and pgbench's bounds: replaces its section of
# Benchmarks/RESULTS.md. BENCH_CLUSTER_SECONDS=10 is the phase length.
bench-cluster: bench-build
	$(PYTHON) Benchmarks/bench_cluster.py

bench-build: deps
	$(SWIFT) build -c release --product depot
	cd Benchmarks && $(SWIFT) build -c release --product depot-load

bench-micro:
	Benchmarks/run-micro.sh

# libFuzzer over the parsers that face the network (Fuzz/, its own package: `make test` never builds it).
# Each target runs FUZZ_SECONDS; crashing inputs land in Fuzz/Crashes/. FUZZ_TARGETS picks a subset.
FUZZ_SECONDS ?= 60
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) SWIFT=$(SWIFT) Fuzz/run-fuzz.sh $(FUZZ_TARGETS)

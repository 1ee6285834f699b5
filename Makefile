# Spawnpoint front door. `make run` and `make test` are the quick start.
BUILD ?= build
JOBS ?= $(shell nproc)
BUILD_TYPE ?= RelWithDebInfo

.PHONY: all deps build run test unit-test integration-test bench clean

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

# Runs spawnd on the embedded default: its own router, state in /var/lib/spawnpoint
# (or $$SPAWNPOINT_STATE_DIR). Then, in another terminal: build/bin/spawnctl scan
run: build
	$(BUILD)/bin/spawnd run $(if $(CONFIG),-c $(CONFIG))

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 600

unit-test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

integration-test: build
	cd $(BUILD) && ctest --output-on-failure -L integration

# Benchmarks, ours and the peers' in one run (bench/*.sh print their method and a table).
bench: build
	BUILD_DIR=$(abspath $(BUILD)) bench/startup.sh
	BUILD_DIR=$(abspath $(BUILD)) bench/scale.sh
	BUILD_DIR=$(abspath $(BUILD)) bench/pull.sh

clean:
	rm -rf $(BUILD)

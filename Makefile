# The two commands a new user needs:
#   make run   - install what is missing, build release, serve on 127.0.0.1:2785 (SQLite under ./data)
#   make test  - install what is missing, build, and run the whole test suite
SWIFT ?= swift

.PHONY: run demo build release test check-imports perf clean

run: release
	./.build/release/openwa serve

# The gateway plus an in-process WhatsApp simulator with one phone: link a session offline.
demo: release
	./.build/release/openwa serve --with-simulator

build:
	./scripts/setup.sh build
	$(SWIFT) build

release:
	./scripts/setup.sh build
	$(SWIFT) build -c release --product openwa

test:
	./scripts/test.sh

check-imports:
	./scripts/check-imports.sh

perf:
	./perf/http-bench.sh

clean:
	rm -rf .build

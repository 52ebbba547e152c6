# izin - one build for the server, the CLI, the tests and the fuzz drivers.
#
#   make            build bin/izin
#   make test       install missing packages, build, run unit + fuzz-replay + black-box +
#                   browser tests, the unit tests and fuzz replay again under ASan/UBSan and
#                   TSan (make sanitizers), then izin serve under valgrind (make valgrind)
#   make demo       build and start `izin demo`
#   make SANITIZE=address,undefined test    the same under ASan/UBSan
#   make fuzz       build the libFuzzer drivers (clang) into build/fuzz/ and run each
#                   for FUZZ_TIME seconds (default 30); fails on a crash
#   make format     apply .clang-format

CC      ?= cc
PKGS    := libmicrohttpd jansson libcurl sqlite3 libpq libcrypto libsodium libzip expat
WARN    := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
           -Wpointer-arith -Wformat=2 -Wvla
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -MMD -MP
LDLIBS  :=
ifneq ($(SANITIZE),)
CFLAGS  += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=$(SANITIZE)
# ThreadSanitizer cannot share objects with ASan: a folder of its own.
BUILD   := $(if $(findstring thread,$(SANITIZE)),build/tsan,build/san)
export TSAN_OPTIONS ?= suppressions=$(CURDIR)/tsan.supp halt_on_error=1 second_deadlock_stack=1
else
BUILD   := build/rel
endif

DEPS_OK := build/.deps-ok
GEN     := build/gen
CFLAGS  += -I$(GEN)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

LIB_SRC  := $(sort $(wildcard src/core/*.c src/sys/*.c src/store/*.c src/index/*.c src/domain/*.c src/net/*.c src/iys/*.c src/api/*.c src/sim/*.c src/sms/*.c src/bulk/*.c src/hook/*.c src/web/*.c))
LIB_ASM  := src/core/holidays_data.S src/core/places_data.S src/api/openapi_data.S src/core/plans_data.S
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(LIB_ASM:%.S=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
LIB      := $(BUILD)/libizin.a
# The command line's parts but main(), for the unit tests of src/cli/.
CLI_LIB  := $(BUILD)/libizin-cli.a
BIN      := $(BUILD)/izin

UNIT_SRC := $(sort $(wildcard tests/unit/*/test_*.c))
UNIT_BIN := $(UNIT_SRC:%.c=$(BUILD)/%)
# The unit programs that open a test store (tests/unit/testutil.h
# iz_test_store_open): they run a second time on PostgreSQL.
UNIT_PG_SRC := $(sort $(shell grep -l iz_test_store_open $(UNIT_SRC)))
UNIT_PG_BIN := $(UNIT_PG_SRC:%.c=$(BUILD)/%)
FUZZ_SRC := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_REPLAY := $(FUZZ_SRC:fuzz/%.c=$(BUILD)/fuzz/%-replay)

PYTEST := /usr/bin/python3 -m pytest

.PHONY: all deps test unit fuzz-replay blackbox browser test-pg demo fuzz fuzz-build format clean bench conformance valgrind sanitizers unit-threaded test-suite sqlite-lane
comma := ,
all: $(BIN)
	@mkdir -p bin && cp $(BIN) bin/izin

deps: $(DEPS_OK)
$(DEPS_OK): scripts/deps.sh
	@sh scripts/deps.sh
	@mkdir -p $(@D) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

# The error table is data (data/hcodes.tsv): turned into a sorted C array.
$(GEN)/hcode_table.inc: data/hcodes.tsv
	@mkdir -p $(@D)
	LC_ALL=C grep -v '^#' $< | LC_ALL=C sort -t '	' -k1,1 | awk -F'\t' \
	  'NF != 4 { print "hcodes.tsv: bad line " NR > "/dev/stderr"; exit 1 } \
	   function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); return "\"" s "\"" } \
	   { printf "    {%s, %d, %s, %s},\n", q($$1), $$2, q($$3), q($$4) }' > $@.tmp && mv $@.tmp $@

$(BUILD)/src/core/hcode.o: $(GEN)/hcode_table.inc

$(BUILD)/src/core/plans_data.o: src/core/plans_data.S data/plans.conf
	@mkdir -p $(@D)
	$(CC) -c $< -o $@

$(BUILD)/src/core/holidays_data.o: src/core/holidays_data.S data/tr-holidays.csv
	@mkdir -p $(@D)
	$(CC) -c $< -o $@

$(BUILD)/src/core/places_data.o: src/core/places_data.S data/tr-cities.tsv data/tr-towns.tsv
	@mkdir -p $(@D)
	$(CC) -c $< -o $@

$(BUILD)/src/api/openapi_data.o: src/api/openapi_data.S data/openapi.json
	@mkdir -p $(@D)
	$(CC) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(CLI_LIB): $(filter-out $(BUILD)/src/cli/main.o,$(CLI_OBJ))
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(PKG_LIBS)

# A unit test is one file linking the library (the command line's parts
# too, for tests/unit/cli) and cmocka.
$(BUILD)/tests/unit/%: tests/unit/%.c $(CLI_LIB) $(LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(CLI_LIB) $(LIB) $(PKG_LIBS) -lcmocka

# Fuzz drivers built with a small main that replays the committed corpus.
$(BUILD)/fuzz/%-replay: fuzz/%.c fuzz/replay_main.c $(CLI_LIB) $(LIB) | $(DEPS_OK)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< fuzz/replay_main.c $(CLI_LIB) $(LIB) \
	  $(PKG_LIBS)

unit: $(UNIT_BIN)
	@set -e; pass=0; for t in $(UNIT_BIN); do \
	  echo "== $$t"; IZIN_HOLIDAYS=data/tr-holidays.csv $$t; pass=$$((pass+1)); done; \
	  echo "unit: $$pass test programs passed"

fuzz-replay: $(FUZZ_REPLAY)
	@set -e; for f in $(FUZZ_REPLAY); do \
	  n=$$(basename $$f -replay); n=$${n#fuzz_}; $$f fuzz/corpus/$$n; done

# test_openapi.py runs Stoplight Prism (tests/openapi/, pinned); deps.sh
# --openapi installs it with npm ci when missing (quick when it is there).
blackbox: $(BIN)
	@sh scripts/deps.sh --openapi
	IZIN_BIN=$(CURDIR)/$(BIN) $(PYTEST) -q -p no:cacheprovider --durations=15 tests/blackbox

# The pages in Debian's Chromium driven by playwright-core (tests/browser);
# screenshots land in build/browser/. deps.sh --browser installs what is
# missing (quick when nothing is).
BROWSER_TESTS := $(notdir $(wildcard tests/browser/*.test.mjs))
browser: $(BIN)
	@sh scripts/deps.sh --browser
	cd tests/browser && IZIN_BIN=$(CURDIR)/$(BIN) IZIN_SCREENSHOTS=$(CURDIR)/build/browser \
	  node --test $(BROWSER_TESTS)

# The PostgreSQL pass (issue 15): a private server of its own
# (scripts/pg.sh: initdb in a temporary folder, a unix socket there, no
# TCP), then the store's unit programs and the black-box suite again with
# IZIN_TEST_PG naming it - every test store a fresh database - and the
# server stopped by its PID at the end, however the tests ended.
test-pg: $(UNIT_PG_BIN) $(BIN)
	@sh scripts/deps.sh --openapi
	@set -e; dir=$$(mktemp -d /tmp/izin-pgpass-XXXXXX); \
	  trap 'sh scripts/pg.sh stop '"$$dir"' >/dev/null 2>&1 || true; rm -rf '"$$dir" EXIT INT TERM; \
	  url=$$(sh scripts/pg.sh start $$dir | tail -n 1); echo "PostgreSQL pass on $$url"; \
	  pass=0; for t in $(UNIT_PG_BIN); do echo "== $$t (PostgreSQL)"; \
	    IZIN_TEST_PG=$$url IZIN_HOLIDAYS=data/tr-holidays.csv $$t; pass=$$((pass+1)); done; \
	  echo "unit (PostgreSQL): $$pass test programs passed"; \
	  IZIN_TEST_PG=$$url IZIN_BIN=$(CURDIR)/$(BIN) $(PYTEST) -q -p no:cacheprovider --durations=15 \
	    --basetemp=$$dir/bb $(SIM_ONLY:%=--ignore=%) tests/blackbox

# The emulator's own tests, which never open izin's store, run in the
# SQLite pass only.
SIM_PAT := 'izin[(]|"serve"|make_store|Module[(]'
SIM_ONLY := $(shell grep -LE $(SIM_PAT) tests/blackbox/test_sim_*.py)

# Two lines of work at once: the suite and, beside it from the start, the
# sanitizers (one job at a time, at the lowest priority: they fill what the
# suite leaves idle). The suite builds and runs the unit programs and the
# fuzz replay, then its two lanes side by side: SQLite's (the black-box
# suite, the browser tests, valgrind) and PostgreSQL's (make test-pg, the
# longer pass). Their servers bind port 0 and keep to temporary folders of
# their own; each target's output is printed whole when it ends (-Otarget).
# One after the other the lanes took 844-890 s on two cores, most of it
# waiting on timers; side by side the suite stays well within 15 minutes.
test: deps
	@$(MAKE) --no-print-directory -j3 test-suite $(if $(SANITIZE),,sanitizers)

test-suite: unit fuzz-replay
	@sh scripts/deps.sh --openapi
	@$(MAKE) --no-print-directory -j2 -Otarget sqlite-lane test-pg

sqlite-lane:
	@$(MAKE) --no-print-directory blackbox
	@$(MAKE) --no-print-directory browser
	@$(if $(SANITIZE),echo "valgrind: not under SANITIZE (the sanitizers check memory there)",$(MAKE) --no-print-directory valgrind)

# The emulator against İYS's OpenAPI document through Stoplight Prism's
# validating proxy (scripts/prism-check.py; docs/IYS-EMULATOR.md). Not part
# of `make test`: it uses the Prism of tests/openapi/ (scripts/deps.sh
# --openapi installs it from the npm registry). IYS_SPEC names the document
# (default: the copy beside the checkout, ../shared/reference/).
IYS_SPEC ?= ../shared/reference/iys-openapi.json
conformance: $(BIN)
	@sh scripts/deps.sh --openapi
	/usr/bin/python3 scripts/prism-check.py --bin $(BIN) --spec $(IYS_SPEC) \
	  --json build/conformance.json

demo: $(BIN)
	./$(BIN) demo

# `izin serve` under valgrind's memcheck through a short API scenario
# (scripts/valgrind.py; about a minute): fails on any memcheck error or a
# definite leak. Build without SANITIZE (valgrind and ASan do not mix).
# ThreadSanitizer: `make SANITIZE=thread unit` (objects in build/tsan;
# suppressions of races inside uninstrumented libraries in tsan.supp).
# The sanitizers, run by make test beside the suite at the lowest CPU and
# I/O priority, one job at a time (two compilers beside the black-box tests
# slowed them by a third; one takes what the suite leaves idle): ASan+UBSan
# over the unit programs and the fuzz corpora's replay (build/san), then
# ThreadSanitizer over the unit programs that run threads (build/tsan).
# About 3 minutes of CPU; not under SANITIZE (that build is sanitized
# itself).
sanitizers:
	@nice -n 19 ionice -c 3 $(MAKE) -j1 --no-print-directory SANITIZE=address,undefined unit fuzz-replay
	@nice -n 19 ionice -c 3 $(MAKE) -j1 --no-print-directory SANITIZE=thread unit-threaded

# The unit programs whose code under test runs threads (ThreadSanitizer's
# work in make sanitizers; make SANITIZE=thread unit runs them all).
UNIT_THREADED := $(addprefix $(BUILD)/tests/unit/,core/test_histo domain/test_domain \
  hook/test_hook index/test_index iys/test_budget iys/test_client iys/test_sync \
  net/test_client net/test_http net/test_page net/test_ratelimit sim/test_simstore \
  sms/test_gateway store/test_durable store/test_store sys/test_log)
unit-threaded: $(UNIT_THREADED)
	@set -e; for t in $(UNIT_THREADED); do \
	  echo "== $$t"; IZIN_HOLIDAYS=data/tr-holidays.csv $$t; done; \
	  echo "unit: $(words $(UNIT_THREADED)) threaded test programs passed"

valgrind: $(BIN)
	@sh scripts/deps.sh valgrind
	/usr/bin/python3 scripts/valgrind.py --bin $(BIN) $(VALGRIND_ARGS)

# The send filter's figures (not part of `make test`: it takes minutes and
# gigabytes): the index, SQLite and Redis side by side on 10M consents, then
# 10M recipients through the HTTP check; then durable writes a second with
# group commit (bench_writes); then the İYS emulator's bulk processing, 30
# requests of 1000 consents end to end (bench_sim_bulk.py); then İYS delivery
# against the emulator at İYS's live limits (bench/delivery.py: a drain after
# an outage, the lone change, the one-request-per-change baseline; about 5
# minutes at most); then the bulk file readers' rows a second (bench_readers:
# 1M-row CSV, JSON and XLSX files written to TMPDIR and removed; about a
# minute); then `izin import` beside sqlite3's .import (bench/import.py); last
# the SMS figures (bench/sms.py: a 100,000-recipient campaign queued and
# handed to a real Kannel on loopback, with and without delivery reports,
# beside Kannel alone; inbound messages through the JSON interface with wrk
# beside one client; about 3 minutes); last the store engines side by side
# (bench/cluster.py: durable writes and checks a second over HTTP with wrk,
# SQLite and PostgreSQL on the same work, then 2 and 3 nodes on one
# PostgreSQL; about a minute; CLUSTER_ARGS="--seconds 10"); then crash
# the load figures of one node beside the targets and the store's own
# group-commit ceiling and the checks' ceiling on this machine (bench/load.py:
# writes, single checks, JSON checks of 1000, mixed, with wrk, each three
# times; bench/null_http.c answers the checks' wrk with nothing but a fixed
# answer; about 2 minutes; LOAD_ARGS="--seconds 10"); then crash
# consistency at length (bench/chaos.py: every writer at once through 100
# SIGKILLs of izin, the emulator killed and the SMS gateway gone once, every
# promise checked after; about 2 minutes; CHAOS_ARGS="--kills 300").
# BENCH_ARGS passes options to bench/run.py, e.g. make bench
# BENCH_ARGS="--n 1000000"; DELIVERY_ARGS to bench/delivery.py, e.g.
# DELIVERY_ARGS="--n 1000" (--strict: exit 1 when a target is missed);
# READERS_ARGS to bench_readers, e.g. READERS_ARGS="--rows 200000";
# IMPORT_ARGS to bench/import.py, e.g. IMPORT_ARGS="--n 1000000"; SMS_ARGS to
# bench/sms.py, e.g. SMS_ARGS="--n 20000" (--strict: exit 1 on a missed target).
BENCH_DEPS := build/.bench-deps-ok
BENCH_BIN  := $(BUILD)/bench/bench_index
$(BENCH_DEPS): scripts/deps.sh
	@sh scripts/deps.sh redis-server libhiredis-dev sqlite3 kannel wrk
	@mkdir -p $(@D) && touch $@

$(BUILD)/bench/%: bench/%.c $(LIB) | $(DEPS_OK) $(BENCH_DEPS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(PKG_CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(PKG_LIBS) -lhiredis

bench: $(BIN) $(BENCH_BIN) $(BUILD)/bench/bench_writes $(BUILD)/bench/bench_readers $(BUILD)/bench/null_http $(BENCH_DEPS)
	/usr/bin/python3 bench/run.py --izin $(BIN) --bench-bin $(BENCH_BIN) $(BENCH_ARGS)
	$(BUILD)/bench/bench_writes
	/usr/bin/python3 bench/bench_sim_bulk.py --izin $(BIN)
	/usr/bin/python3 bench/delivery.py --izin $(BIN) $(DELIVERY_ARGS)
	$(BUILD)/bench/bench_readers $(READERS_ARGS)
	/usr/bin/python3 bench/import.py --izin $(BIN) $(IMPORT_ARGS)
	/usr/bin/python3 bench/sms.py --izin $(BIN) $(SMS_ARGS)
	/usr/bin/python3 bench/cluster.py --izin $(BIN) $(CLUSTER_ARGS)
	/usr/bin/python3 bench/load.py --izin $(BIN) --bench-writes $(BUILD)/bench/bench_writes \
	  --null-http $(BUILD)/bench/null_http $(LOAD_ARGS)
	/usr/bin/python3 bench/chaos.py --izin $(BIN) $(CHAOS_ARGS)

# libFuzzer: `make fuzz` builds every driver with clang (libFuzzer, ASan,
# UBSan) into build/fuzz/ and runs each for FUZZ_TIME seconds (default 30) on
# a scratch copy of its corpus: what it finds goes to build/fuzz/new-NAME,
# never into fuzz/corpus; a crash's input is build/fuzz/crash-NAME-*, and the
# target fails. FUZZ=name1,name2 runs only those drivers. scripts/deps.sh
# --fuzz installs clang and libclang-rt-14-dev when missing. The library is
# compiled again with clang (build/fuzz/obj/); the data blobs (.S) are the
# release build's.
FUZZ_TIME ?= 30
FUZZ_DIR  := build/fuzz
FUZZ_NAMES := $(patsubst fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -g -O1 -Isrc -I$(GEN) -Ifuzz -fno-omit-frame-pointer
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_OBJ := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(LIB_SRC) $(filter-out src/cli/main.c,$(CLI_SRC)))
FUZZ_LIB := $(FUZZ_DIR)/libizin-fuzz.a
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_DIR)/%)
FUZZ_DEPS_OK := $(FUZZ_DIR)/.deps-ok

$(FUZZ_DEPS_OK): scripts/deps.sh | $(DEPS_OK)
	@sh scripts/deps.sh --fuzz
	@mkdir -p $(@D) && touch $@

$(FUZZ_DIR)/obj/%.o: %.c $(GEN)/hcode_table.inc | $(FUZZ_DEPS_OK)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_SAN) -MMD -MP -c $< -o $@

$(FUZZ_LIB): $(FUZZ_OBJ) $(LIB_ASM:%.S=$(BUILD)/%.o)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB) | $(FUZZ_DEPS_OK)
	clang $(FUZZ_CFLAGS) $(PKG_CFLAGS) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $< $(FUZZ_LIB) \
	  $(PKG_LIBS)

fuzz-build: $(FUZZ_BIN)

fuzz: fuzz-build
	@sh scripts/fuzz-run.sh $(FUZZ_TIME) $(if $(FUZZ),$(subst $(comma), ,$(FUZZ)),$(FUZZ_NAMES))

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build bin

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(FUZZ_OBJ:.o=.d)

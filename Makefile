# lucid: reinforcement learning inside learned worlds, in C.
# `make` builds build/liblucid.{a,so} and build/lucid; `make test` runs every
# Check suite; `make asan` runs them under ASan+UBSan. See README.md.

BUILD   ?= build
PREFIX  ?= /usr/local
PYTHON  ?= /usr/bin/python3
MARCH   ?= -march=native
OPT     ?= -O2
CC      ?= cc
# std=c11 keeps -ffp-contract off (no silent FMA), so the physics stays exact.
# -fvisibility=hidden: liblucid.so exports only what public headers declare between
# LC_API_BEGIN and LC_API_END (core/api.h).
CFLAGS_BASE = -std=c11 -D_DEFAULT_SOURCE $(OPT) $(MARCH) -g -Wall -Wextra -fPIC -fvisibility=hidden -I. $(EXTRA_CFLAGS)
LDFLAGS_EXTRA ?=

CONFIG := $(BUILD)/config.mk
ifeq ($(filter clean,$(MAKECMDGOALS)),)
include $(CONFIG)
endif

CFLAGS = $(CFLAGS_BASE) $(DEP_CFLAGS)
LIBS   = $(DEP_LIBS)

LAYERS    = core nn env worldmodel policy loops agents
LIB_SRC   = $(foreach d,$(LAYERS),$(wildcard $(d)/*.c))
LIB_OBJ   = $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_SRC   = $(wildcard cli/*.c)
CLI_OBJ   = $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC  = $(wildcard tests/test_*.c)
TEST_BIN  = $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
TEST_DRV  = $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/drv_*.c))
TEST_HELP = $(wildcard tests/helpers/*.c)
TEST_HOBJ = $(TEST_HELP:%.c=$(BUILD)/obj/%.o)
BENCH_SRC = $(wildcard bench/bench_*.c)
BENCH_BIN = $(BENCH_SRC:bench/%.c=$(BUILD)/bench/%)
EX_SRC    = $(wildcard examples/*.c)
EX_BIN    = $(EX_SRC:examples/%.c=$(BUILD)/examples/%)
HEADERS   = $(foreach d,$(LAYERS),$(wildcard $(d)/*.h))
# The installed headers: lucid.h and the headers that mark a public API.
PUBLIC_HEADERS = core/api.h $(shell grep -l '^LC_API_BEGIN' $(HEADERS))

.SECONDARY:
.PHONY: FORCE valgrind all test asan bench demo install clean check-long fuzz fuzz-long fuzz-clang examples tests
all: $(BUILD)/liblucid.a $(BUILD)/liblucid.so $(BUILD)/lucid

$(CONFIG): scripts/deps.sh
	@mkdir -p $(BUILD)
	@sh scripts/deps.sh $@

# Objects depend on the flags they were built with: a changed CFLAGS (a new warning,
# -fvisibility, a sanitizer) rebuilds them instead of linking stale ones.
FLAGS = $(BUILD)/cflags.txt
$(FLAGS): FORCE
	@mkdir -p $(BUILD)
	@echo '$(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS_EXTRA)' | cmp -s - $@ || echo '$(CFLAGS) $(CHECK_CFLAGS) $(LDFLAGS_EXTRA)' > $@
FORCE:

$(BUILD)/obj/%.o: %.c $(CONFIG) $(FLAGS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/liblucid.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/liblucid.so: $(LIB_OBJ)
	$(CC) -shared -o $@ $^ $(LIBS) $(LDFLAGS_EXTRA)

$(BUILD)/lucid: $(CLI_OBJ) $(BUILD)/liblucid.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/liblucid.a $(LIBS) $(LDFLAGS_EXTRA)

$(BUILD)/tests/%: tests/%.c $(TEST_HOBJ) $(BUILD)/liblucid.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CHECK_CFLAGS) -o $@ $< $(TEST_HOBJ) $(BUILD)/liblucid.a $(LIBS) $(CHECK_LIBS) $(LDFLAGS_EXTRA)

$(BUILD)/bench/%: bench/%.c bench/bench_util.h $(BUILD)/liblucid.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/liblucid.a $(LIBS) $(LDFLAGS_EXTRA)

# Examples link against liblucid.so, so they can only use the public API (lucid.h).
$(BUILD)/examples/%: examples/%.c $(BUILD)/liblucid.so
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< -L$(BUILD) -llucid -Wl,-rpath,$(abspath $(BUILD)) $(LIBS) $(LDFLAGS_EXTRA)

tests: $(TEST_BIN) $(TEST_DRV) $(BUILD)/lucid
examples: $(EX_BIN)

# Every suite; prints a closing "N passed, N failed" line. SUITES=name limits it.
# Python tests run in BUILD/venv (scripts/pyenv.sh: Debian's python3 + PyPI's
# gymnasium, cffi, pytest and the references the tests compare against).
VENV_PY = $$(sh scripts/pyenv.sh $(BUILD))
test: tests examples
	@sh scripts/run_tests.sh $(BUILD) $(VENV_PY) $(SUITES)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build-asan OPT=-O1 \
	  EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS_EXTRA="-fsanitize=address,undefined" test

# Every suite under valgrind (leaks are errors). valgrind cannot decode AVX-512,
# so this build targets x86-64-v3; Check runs without fork so leaks are seen.
valgrind:
	$(MAKE) BUILD=build-vg MARCH=-march=x86-64-v3 tests
	@for t in build-vg/tests/test_*; do echo "== $$t"; \
	  CK_FORK=no LUCID_BUILD=build-vg LUCID_PYTHON=$(VENV_PY) valgrind -q --error-exitcode=9 \
	    --leak-check=full --errors-for-leak-kinds=definite $$t > /dev/null || exit 1; done
	@echo "valgrind: no errors, no leaks"

# libFuzzer targets (need clang; apt-get as root): fuzz_proto, the wire protocol's
# decoder (agents/proto.c), its corpus seeded with one valid message of each type;
# fuzz_file, the file reader and every loader's from-memory path, seeded from
# tests/fuzz/corpus_file/ (small valid files of each kind). `make fuzz` runs each for
# FUZZ_RUNS inputs, `make fuzz-long` for FUZZ_LONG_RUNS (10 million by default).
FUZZ_RUNS ?= 200000
FUZZ_LONG_RUNS ?= 10000000
FUZZ_TARGETS = proto file
FUZZ_FLAGS = -std=c11 -D_DEFAULT_SOURCE -O1 $(MARCH) -g -I. -fsanitize=fuzzer-no-link,address,undefined \
  -fno-sanitize-recover=undefined
FUZZ_OBJ = $(LIB_SRC:%.c=build-fuzz/obj/%.o)
FUZZ_BIN = $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)

fuzz-clang:
	@command -v clang >/dev/null 2>&1 || { if [ "$$(id -u)" = 0 ]; then \
	  apt-get update -qq >&2; apt-get install -y -qq clang >&2 || exit 1; \
	  else echo "lucid: make fuzz needs clang: sudo apt-get install -y clang" >&2; exit 1; fi; }

build-fuzz/obj/%.o: %.c $(CONFIG) | fuzz-clang
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(DEP_CFLAGS) -c $< -o $@

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	clang $(FUZZ_FLAGS) -fsanitize=fuzzer $(DEP_CFLAGS) -o $@ $< $(FUZZ_OBJ) $(DEP_LIBS)

# Each target over a working corpus in build-fuzz/corpus_NAME (fuzz_file's starts as a
# copy of the committed seeds); -malloc_limit_mb makes an allocation a declared size
# drove (instead of the data) a failure. FUZZ_N is the number of inputs per target.
FUZZ_N ?= $(FUZZ_RUNS)
fuzz: $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus_$$t; \
	  if [ -d tests/fuzz/corpus_$$t ]; then cp -n tests/fuzz/corpus_$$t/* build-fuzz/corpus_$$t/; fi; \
	  echo "== fuzz_$$t: $(FUZZ_N) inputs"; \
	  start=$$(date +%s); \
	  build-fuzz/fuzz_$$t -runs=$(FUZZ_N) -seed=1 -max_len=65536 -malloc_limit_mb=1024 \
	    -rss_limit_mb=2048 -print_final_stats=1 build-fuzz/corpus_$$t 2>build-fuzz/fuzz_$$t.log \
	    || { tail -60 build-fuzz/fuzz_$$t.log; exit 1; }; \
	  grep -E "stat::number_of_executed_units|stat::peak_rss_mb" build-fuzz/fuzz_$$t.log; \
	  echo "fuzz_$$t: $(FUZZ_N) inputs in $$(( $$(date +%s) - start )) s, no crash"; \
	done

fuzz-long:
	$(MAKE) fuzz FUZZ_N=$(FUZZ_LONG_RUNS)

# Long training runs that do not belong in `make test`.
check-long: tests
	@LUCID_LONG=1 sh scripts/run_tests.sh $(BUILD) $(VENV_PY) $(SUITES)

bench: $(BENCH_BIN) $(BUILD)/lucid
	@for b in $(BENCH_BIN); do echo "== $$b"; $$b || exit 1; done
	@echo "== bench/bench_python.py"; $$(sh scripts/pyenv.sh $(BUILD) bench) bench/bench_python.py
	@echo "== bench/bench_remote_ale.py"; $$(sh scripts/pyenv.sh $(BUILD) bench) bench/bench_remote_ale.py

demo: $(BUILD)/lucid
	$(BUILD)/lucid demo

install: all
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(BUILD)/liblucid.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/liblucid.so $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/lucid $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/include/lucid
	install -m 644 lucid.h $(DESTDIR)$(PREFIX)/include/lucid/lucid.h
	for h in $(sort $(PUBLIC_HEADERS)); do install -d $(DESTDIR)$(PREFIX)/include/lucid/$$(dirname $$h); \
	  install -m 644 $$h $(DESTDIR)$(PREFIX)/include/lucid/$$h; done
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@REQUIRES@|$(PC_REQUIRES)|' lucid.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/lucid.pc

clean:
	rm -rf build build-asan build-fuzz build-vg

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_HOBJ:.o=.d)

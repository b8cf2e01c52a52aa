# ngx_http_voice_module: build, test and demo against the system nginx.
#
#   make          build build/ngx_http_voice_module.so for the installed nginx
#   make test     unit tests (ASan/UBSan) + nginx integration tests
#   make demo     the offline providers, nginx and a spoken call
#   make deps     install only the Debian packages that are missing
#
# Every output goes under build/ (git-ignored).

BUILD      ?= build
NGX_SRC    ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
TOP        := $(CURDIR)
NGX_TREE   := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_voice_module.so
ASAN_TREE  := $(BUILD)/asan/nginx
ASAN_MODULE := $(BUILD)/asan/ngx_http_voice_module.so
SIM        := $(BUILD)/voice-sim
PROVIDERS  := $(BUILD)/voice-providers

CC         ?= cc
WARN       := -Wall -Wextra -Werror
PURE_SRCS  := $(wildcard src/voice_*.c)
PURE_HDRS  := $(wildcard src/voice_*.h)
NGX_SRCS   := ngx_http_voice_module.c $(wildcard src/ngx_http_voice_*.c) \
              $(wildcard src/ngx_http_voice_*.h)
PURE_LIBS  := -lyajl -lcrypto -lspeexdsp -lm
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,\
                $(wildcard t/unit/test_*.c))
FUZZERS    := $(patsubst t/fuzz/%.c,$(BUILD)/fuzz/%,\
                $(wildcard t/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 10
BENCH_SECONDS ?= 10

.PHONY: all deps module asan-module sim providers unit fuzz integration test demo bench clean

all: module sim providers

deps:
	@tools/deps.sh

module: deps $(MODULE)

# Copy the nginx-dev tree once and configure it with the packaged nginx's
# own flags, so the module is binary-compatible with /usr/sbin/nginx.
$(NGX_TREE)/objs/Makefile: config $(NGX_SRC)/conf_flags
	@rm -rf $(NGX_TREE) && mkdir -p $(BUILD)
	cp -r $(NGX_SRC) $(NGX_TREE)
	cd $(NGX_TREE) && bash -c '. ./conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="$(WARN)" \
	    --add-dynamic-module=$(TOP)' > configure.log 2>&1 \
	    || { tail -20 $(NGX_TREE)/configure.log; exit 1; }

$(MODULE): $(NGX_TREE)/objs/Makefile $(NGX_SRCS) $(PURE_SRCS) $(PURE_HDRS)
	$(MAKE) -s -C $(NGX_TREE) -f objs/Makefile modules
	cp $(NGX_TREE)/objs/ngx_http_voice_module.so $@

# The same module built with AddressSanitizer and UBSan: the integration
# tests run the packaged nginx with it and the sanitizer runtimes preloaded.
$(ASAN_TREE)/objs/Makefile: config $(NGX_SRC)/conf_flags
	@rm -rf $(ASAN_TREE) && mkdir -p $(dir $(ASAN_TREE))
	cp -r $(NGX_SRC) $(ASAN_TREE)
	cd $(ASAN_TREE) && bash -c '. ./conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" \
	    --with-cc-opt="$(WARN) $(SAN)" --with-ld-opt="$(SAN)" \
	    --add-dynamic-module=$(TOP)' > configure.log 2>&1 \
	    || { tail -20 $(ASAN_TREE)/configure.log; exit 1; }

$(ASAN_MODULE): $(ASAN_TREE)/objs/Makefile $(NGX_SRCS) $(PURE_SRCS) $(PURE_HDRS)
	$(MAKE) -s -C $(ASAN_TREE) -f objs/Makefile modules
	cp $(ASAN_TREE)/objs/ngx_http_voice_module.so $@

asan-module: deps $(ASAN_MODULE)

sim: deps $(SIM)

# The call simulator (tools/sim): Twilio's side of calls
SIM_SRCS   := $(wildcard tools/sim/*.c)
SIM_HDRS   := $(wildcard tools/sim/*.h)

$(SIM): $(SIM_SRCS) $(SIM_HDRS) $(PURE_SRCS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 -g $(WARN) -Isrc -Itools/sim -o $@ $(SIM_SRCS) \
	    $(PURE_SRCS) -lcurl -lssl $(PURE_LIBS)

# The offline stand-ins for the STT, LLM and TTS providers (tools/providers)
PROVIDERS_SRCS := $(wildcard tools/providers/*.c) src/voice_g711.c \
                  src/voice_json.c src/voice_resample.c src/voice_wav.c
PROVIDERS_HDRS := $(wildcard tools/providers/*.h)

providers: deps $(PROVIDERS)

$(PROVIDERS): $(PROVIDERS_SRCS) $(PROVIDERS_HDRS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 -g $(WARN) -Isrc -Itools/providers \
	    $(shell pkg-config --cflags pocketsphinx sphinxbase) -o $@ \
	    $(PROVIDERS_SRCS) -lpocketsphinx -lsphinxbase -lespeak-ng -lyajl \
	    -lspeexdsp -lm

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(PURE_SRCS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O1 -g $(WARN) $(SAN) -Isrc -o $@ $< $(PURE_SRCS) \
	    $(PURE_LIBS)

unit: deps $(UNIT_TESTS)
	@tools/run-unit.sh $(UNIT_TESTS)

# libFuzzer targets of every parser; make test runs each for FUZZ_SECONDS,
# make fuzz FUZZ_SECONDS=600 for a real session.  Corpora stay in build/.
$(BUILD)/fuzz/%: t/fuzz/%.c $(PURE_SRCS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -o $@ $< \
	    $(PURE_SRCS) $(PURE_LIBS)

fuzz: deps $(FUZZERS)
	@for f in $(FUZZERS); do \
	    mkdir -p $$f.corpus; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	        -artifact_prefix=$$f- -print_final_stats=1 \
	        $$f.corpus > $$f.log 2>&1 \
	        || { tail -40 $$f.log; exit 1; }; \
	    echo "$$(basename $$f): $$(grep -o 'stat::number_of_executed_units: *[0-9]*' $$f.log | grep -o '[0-9]*$$') runs in $(FUZZ_SECONDS)s, no crash"; \
	done

# The integration suite runs against the sanitizer build: any invalid
# access or leak shows in error.log, which every test checks.
integration: module asan-module sim providers
	VOICE_MODULE=$(TOP)/$(ASAN_MODULE) VOICE_SIM=$(TOP)/$(SIM) \
	    VOICE_PROVIDERS=$(TOP)/$(PROVIDERS) \
	    VOICE_PRELOAD="$$($(CC) -print-file-name=libasan.so) $$($(CC) -print-file-name=libubsan.so)" \
	    NGINX_BIN=$(NGINX) prove -r t/

test: unit fuzz integration

demo: module sim providers
	@tools/demo.sh $(TOP)/$(MODULE) $(TOP)/$(SIM) $(TOP)/$(PROVIDERS)

BENCH ?= all
BENCH_CALLS ?= 1 100 500
BENCH_AGENT_CALLS ?= 1 100
BENCH_TURNS ?= 4
BENCH_TURNS_LONG ?= 500
BENCH_PROVIDERS := $(BUILD)/bench-providers

# BENCH=echo: echo calls (worker CPU and memory per call); BENCH=agent:
# the agent's own latency per hand-off, and the memory of a long call
bench: module sim $(BENCH_PROVIDERS)
	@case "$(BENCH)" in echo|agent|all) ;; \
	    *) echo "make bench BENCH=echo|agent|all" >&2; exit 2 ;; esac
	@if [ "$(BENCH)" != agent ]; then BENCH_SECONDS=$(BENCH_SECONDS) \
	    tools/bench/bench.sh $(TOP)/$(MODULE) $(TOP)/$(SIM) \
	    $(BENCH_CALLS); fi
	@if [ "$(BENCH)" = all ]; then echo; fi
	@if [ "$(BENCH)" != echo ]; then BENCH_TURNS=$(BENCH_TURNS) \
	    BENCH_TURNS_LONG=$(BENCH_TURNS_LONG) tools/bench/bench-agent.sh \
	    $(TOP)/$(MODULE) $(TOP)/$(SIM) $(TOP)/$(BENCH_PROVIDERS) \
	    $(BENCH_AGENT_CALLS); fi

# The benchmarks' fake providers and relay (tools/bench/providers)
BENCH_PROVIDERS_SRCS := $(wildcard tools/bench/providers/*.c) src/voice_ws.c
BENCH_PROVIDERS_HDRS := $(wildcard tools/bench/providers/*.h) src/voice_ws.h

$(BENCH_PROVIDERS): $(BENCH_PROVIDERS_SRCS) $(BENCH_PROVIDERS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu99 -O2 -g $(WARN) -Isrc -Itools/bench/providers -o $@ \
	    $(BENCH_PROVIDERS_SRCS)

clean:
	rm -rf $(BUILD)

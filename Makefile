# ngx_http_voice_module: build, test and demo against the system nginx.
#
#   make          build/ngx_http_voice_module.so for the installed nginx
#   make test     unit tests (ASan/UBSan), fuzzers briefly, nginx integration
#                 tests
#   make fuzz     each fuzzer for FUZZ_SECONDS (600) on its kept corpus
#   make demo     the offline providers, nginx and a spoken call
#   make bench    CPU, memory and latency (docs/BENCHMARKS.md)
#   make deb      build/deb/libnginx-mod-http-voice_VERSION_ARCH.deb
#   make sim, make providers   the call simulator, the offline providers
#
# Each target first installs the Debian packages it needs and is missing
# (tools/deps.sh GROUP; make deps: all of them).  Every output goes under
# build/ (git-ignored).

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
BENCH_PROVIDERS := $(BUILD)/bench-providers
BENCH_FLOOR := $(BUILD)/bench-floor

CC         ?= cc
WARN       := -Wall -Wextra -Werror
PURE_SRCS  := $(wildcard src/voice_*.c)
PURE_HDRS  := $(wildcard src/voice_*.h)
NGX_SRCS   := ngx_http_voice_module.c $(wildcard src/ngx_http_voice_*.c) \
              $(wildcard src/ngx_http_voice_*.h)
PURE_LIBS  := -lyajl -lcrypto -lspeexdsp -lm
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
TOOLS_CFLAGS := -std=gnu99 -O2 -g $(WARN) -Isrc
UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,\
                $(wildcard t/unit/test_*.c))
FUZZERS    := $(patsubst t/fuzz/%.c,$(BUILD)/fuzz/%,\
                $(wildcard t/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 10
BENCH_SECONDS ?= 10

.PHONY: all deps module asan-module sim providers unit fuzz fuzz-smoke \
        fuzz-merge fuzz-coverage integration test demo bench deb clean

all: module

deps:
	@tools/deps.sh all

# deps-GROUP: the packages of that group of tools/deps.sh
deps-%:
	@tools/deps.sh $*

module: deps-module $(MODULE)

asan-module: deps-module $(ASAN_MODULE)

# nginx-dev provides it; a clean machine gets it from the deps step
$(NGX_SRC)/conf_flags:
	@tools/deps.sh module

# Each nginx tree is a copy of nginx-dev's, configured with the packaged
# nginx's own flags, so that the module is binary-compatible with
# /usr/sbin/nginx, and ours: the release build with NGX_CC_OPT, the one
# with AddressSanitizer and UBSan for the integration tests (which run the
# packaged nginx with the sanitizer runtimes preloaded) with $(SAN) too.
NGX_CC_OPT := $(WARN)
NGX_LD_OPT :=
$(ASAN_TREE)/objs/Makefile: NGX_CC_OPT := $(WARN) $(SAN)
$(ASAN_TREE)/objs/Makefile: NGX_LD_OPT := $(SAN)

$(NGX_TREE)/objs/Makefile $(ASAN_TREE)/objs/Makefile: %/objs/Makefile: \
        config $(NGX_SRC)/conf_flags
	@rm -rf $* && mkdir -p $(dir $*)
	cp -r $(NGX_SRC) $*
	cd $* && bash -c '. ./conf_flags && ./configure \
	    "$${NGX_CONF_FLAGS[@]}" --with-cc-opt="$(NGX_CC_OPT)" \
	    $(if $(NGX_LD_OPT),--with-ld-opt="$(NGX_LD_OPT)") \
	    --add-dynamic-module=$(TOP)' > configure.log 2>&1 \
	    || { tail -20 $*/configure.log; exit 1; }

$(MODULE) $(ASAN_MODULE): %/ngx_http_voice_module.so: \
        %/nginx/objs/Makefile $(NGX_SRCS) $(PURE_SRCS) $(PURE_HDRS)
	$(MAKE) -s -C $*/nginx -f objs/Makefile modules
	cp $*/nginx/objs/ngx_http_voice_module.so $@

# The call simulator (tools/sim): Twilio's side of calls
SIM_SRCS   := $(wildcard tools/sim/*.c)
SIM_HDRS   := $(wildcard tools/sim/*.h)

sim: deps-sim $(SIM)

$(SIM): $(SIM_SRCS) $(SIM_HDRS) $(PURE_SRCS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -Itools/sim -o $@ $(SIM_SRCS) $(PURE_SRCS) \
	    -lcurl -lssl $(PURE_LIBS)

# The offline stand-ins for the STT, LLM and TTS providers (tools/providers)
PROVIDERS_SRCS := $(wildcard tools/providers/*.c) src/voice_g711.c \
                  src/voice_json.c src/voice_utf8.c src/voice_resample.c \
                  src/voice_wav.c src/voice_ws.c src/voice_vad.c
PROVIDERS_HDRS := $(wildcard tools/providers/*.h)

providers: deps-providers $(PROVIDERS)

$(PROVIDERS): $(PROVIDERS_SRCS) $(PROVIDERS_HDRS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -Itools/providers \
	    $(shell pkg-config --cflags pocketsphinx sphinxbase) -o $@ \
	    $(PROVIDERS_SRCS) -lpocketsphinx -lsphinxbase -lespeak-ng -lyajl \
	    -lspeexdsp -lcrypto -lm

# The benchmarks' fake providers and relay (tools/bench/providers)
BENCH_PROVIDERS_SRCS := $(wildcard tools/bench/providers/*.c) src/voice_ws.c \
                        src/voice_ws_client.c src/voice_buf.c
BENCH_PROVIDERS_HDRS := $(wildcard tools/bench/providers/*.h) src/voice_ws.h \
                        src/voice_ws_client.h src/voice_buf.h

$(BENCH_PROVIDERS): $(BENCH_PROVIDERS_SRCS) $(BENCH_PROVIDERS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -Itools/bench/providers -o $@ \
	    $(BENCH_PROVIDERS_SRCS) -lcrypto

# The floor of BENCH=side: a bare epoll echo (tools/bench/floor.c)
$(BENCH_FLOOR): tools/bench/floor.c
	@mkdir -p $(dir $@)
	$(CC) $(TOOLS_CFLAGS) -o $@ $< -lcrypto

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(PURE_SRCS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O1 -g $(WARN) $(SAN) -Isrc -o $@ $< $(PURE_SRCS) \
	    $(PURE_LIBS)

unit: deps-unit $(UNIT_TESTS)
	@tools/run-unit.sh $(UNIT_TESTS)

# libFuzzer targets of every parser, each on its kept corpus
# (t/fuzz/corpus/<target>/) and a working one in build/fuzz/ that a run
# adds to.  make fuzz runs each for FUZZ_SECONDS, make test for
# FUZZ_SMOKE_SECONDS (make fuzz-smoke); FUZZ_TARGETS=fuzz_twilio picks
# targets.  make fuzz-merge folds the working corpora's new coverage into
# the kept ones, make fuzz-coverage prints the source lines the corpora
# reach (docs/fuzzing.md).
FUZZ_TARGETS ?= $(notdir $(FUZZERS))
FUZZ_PICKED := $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS))

$(BUILD)/fuzz/%: t/fuzz/%.c $(PURE_SRCS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -o $@ $< \
	    $(PURE_SRCS) $(PURE_LIBS)

fuzz: deps-fuzz $(FUZZ_PICKED)
	@t/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_PICKED)

fuzz-smoke: deps-fuzz $(FUZZ_PICKED)
	@t/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_PICKED)

fuzz-merge: deps-fuzz $(FUZZ_PICKED)
	@t/fuzz/run.sh -merge $(FUZZ_PICKED)

fuzz-coverage: deps-fuzz
	@t/fuzz/coverage.sh $(BUILD) $(FUZZ_TARGETS)

# The integration suite runs against the sanitizer build: any invalid
# access or leak shows in error.log, which every test checks.  The tests
# mostly wait on calls in real time, so they run TEST_JOBS at once; each
# has its own nginx, ports and directory.
TEST_JOBS ?= 2

# the sanitizers' runtimes, preloaded into nginx for the ASan module
SAN_PRELOAD = $$($(CC) -print-file-name=libasan.so) \
    $$($(CC) -print-file-name=libubsan.so)

integration: deps-test module asan-module sim providers deb
	VOICE_MODULE=$(TOP)/$(ASAN_MODULE) VOICE_SIM=$(TOP)/$(SIM) \
	    VOICE_PROVIDERS=$(TOP)/$(PROVIDERS) VOICE_DEB=$(TOP)/$(DEB) \
	    VOICE_PRELOAD="$(SAN_PRELOAD)" \
	    NGINX_BIN=$(NGINX) prove -j$(TEST_JOBS) --timer -r t/

test: unit fuzz-smoke integration

demo: module sim providers
	@tools/demo.sh $(TOP)/$(MODULE) $(TOP)/$(SIM) $(TOP)/$(PROVIDERS)

BENCH ?= all
BENCH_CALLS ?= 1 100 500
BENCH_AGENT_CALLS ?= 1 100
BENCH_STREAM_CALLS ?= 1 100
BENCH_BARGE_CALLS ?= 10
BENCH_SIDE_CALLS ?= 200
BENCH_CAPACITY_CALLS ?= 500 1000 1500 2000 2500 3000 3500 4000
BENCH_INSTR_CALLS ?= 10
BENCH_INSTR_SECONDS ?= 5
BENCH_TURNS ?= 4
BENCH_TURNS_LONG ?= 500

# BENCH=echo: echo calls (worker CPU and memory per call); BENCH=agent:
# the agent's own latency per hand-off, and the memory of a long call;
# BENCH=stream: voice-to-voice with batch STT, streaming STT and
# speculative turns, the streaming hand-offs and connection memory;
# BENCH=barge: barge-in over the line's echo of the agent; BENCH=side: the
# same echo load on the module, a Node ws bridge and a bare C epoll echo;
# BENCH=capacity: the most echo calls one worker carries at round-trip
# p99 under 5 ms with no frame lost (not in all: it takes minutes);
# BENCH=instr: user-space instructions per echoed message, module and
# floor, counted by callgrind
bench: deps-bench module sim providers $(BENCH_PROVIDERS) $(BENCH_FLOOR)
	@case "$(BENCH)" in \
	    echo|agent|stream|barge|side|capacity|instr|all) ;; \
	    *) echo "make bench BENCH=echo|agent|stream|barge|side|capacity|\
	instr|all" >&2; exit 2 ;; esac
	@if [ "$(BENCH)" = echo ] || [ "$(BENCH)" = all ]; then \
	    BENCH_SECONDS=$(BENCH_SECONDS) tools/bench/bench.sh \
	    $(TOP)/$(MODULE) $(TOP)/$(SIM) $(BENCH_CALLS); fi
	@if [ "$(BENCH)" = all ]; then echo; fi
	@if [ "$(BENCH)" = agent ] || [ "$(BENCH)" = all ]; then \
	    BENCH_TURNS=$(BENCH_TURNS) BENCH_TURNS_LONG=$(BENCH_TURNS_LONG) \
	    tools/bench/bench-agent.sh $(TOP)/$(MODULE) $(TOP)/$(SIM) \
	    $(TOP)/$(BENCH_PROVIDERS) $(BENCH_AGENT_CALLS); fi
	@if [ "$(BENCH)" = all ]; then echo; fi
	@if [ "$(BENCH)" = stream ] || [ "$(BENCH)" = all ]; then \
	    BENCH_TURNS=$(BENCH_TURNS) tools/bench/bench-stream.sh \
	    $(TOP)/$(MODULE) $(TOP)/$(SIM) $(TOP)/$(BENCH_PROVIDERS) \
	    $(BENCH_STREAM_CALLS); fi
	@if [ "$(BENCH)" = all ]; then echo; fi
	@if [ "$(BENCH)" = barge ] || [ "$(BENCH)" = all ]; then \
	    tools/bench/bench-barge.sh $(TOP)/$(MODULE) $(TOP)/$(SIM) \
	    $(TOP)/$(PROVIDERS) $(BENCH_BARGE_CALLS); fi
	@if [ "$(BENCH)" = all ]; then echo; fi
	@if [ "$(BENCH)" = side ] || [ "$(BENCH)" = all ]; then \
	    BENCH_SECONDS=$(BENCH_SECONDS) tools/bench/bench-side.sh \
	    $(TOP)/$(MODULE) $(TOP)/$(SIM) $(TOP)/$(BENCH_FLOOR) \
	    $(BENCH_SIDE_CALLS); fi
	@if [ "$(BENCH)" = capacity ]; then \
	    BENCH_SECONDS=$(BENCH_SECONDS) BENCH_FLOOR=$(TOP)/$(BENCH_FLOOR) \
	    tools/bench/bench-capacity.sh \
	    $(TOP)/$(MODULE) $(TOP)/$(SIM) $(BENCH_CAPACITY_CALLS); fi
	@if [ "$(BENCH)" = instr ] || [ "$(BENCH)" = all ]; then echo; fi
	@if [ "$(BENCH)" = instr ] || [ "$(BENCH)" = all ]; then \
	    BENCH_INSTR_SECONDS=$(BENCH_INSTR_SECONDS) \
	    tools/bench/bench-instr.sh $(TOP)/$(MODULE) $(TOP)/$(SIM) \
	    $(TOP)/$(BENCH_FLOOR) $(BENCH_INSTR_CALLS); fi

# The Debian package, as Debian packages nginx modules (dh_nginx): built
# by dpkg-buildpackage from a copy of the tree, so the tree stays clean
DEB_VERSION = $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
DEB_ARCH = $(shell dpkg --print-architecture)
DEB = $(BUILD)/deb/libnginx-mod-http-voice_$(DEB_VERSION)_$(DEB_ARCH).deb

deb: deps-deb
	@rm -rf $(BUILD)/deb && mkdir -p $(BUILD)/deb/src
	tar --exclude=./build --exclude=./.git -cf - . \
	    | tar -xf - -C $(BUILD)/deb/src
	cd $(BUILD)/deb/src && dpkg-buildpackage -b -us -uc \
	    > ../dpkg-buildpackage.log 2>&1 \
	    || { tail -30 ../dpkg-buildpackage.log; exit 1; }
	@rm -rf $(BUILD)/deb/src
	@ls $(DEB)

clean:
	rm -rf $(BUILD)

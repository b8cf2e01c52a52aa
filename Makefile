# ngx_http_voice_module: build, test and demo against the system nginx.
#
#   make          build build/ngx_http_voice_module.so for the installed nginx
#   make test     unit tests (ASan/UBSan) + nginx integration tests
#   make demo     start nginx with conf/demo.conf and place a call
#   make deps     install only the Debian packages that are missing
#
# Every output goes under build/ (git-ignored).

BUILD      ?= build
NGX_SRC    ?= /usr/share/nginx/src
NGINX      ?= /usr/sbin/nginx
TOP        := $(CURDIR)
NGX_TREE   := $(BUILD)/nginx
MODULE     := $(BUILD)/ngx_http_voice_module.so

CC         ?= cc
WARN       := -Wall -Wextra -Werror
PURE_SRCS  := $(wildcard src/voice_*.c)
PURE_HDRS  := $(wildcard src/voice_*.h)
NGX_SRCS   := ngx_http_voice_module.c $(wildcard src/ngx_http_voice_*.c) \
              $(wildcard src/ngx_http_voice_*.h)
PURE_LIBS  := -lyajl -lcrypto
SAN        := -fsanitize=address,undefined -fno-omit-frame-pointer \
              -fno-sanitize-recover=all
UNIT_TESTS := $(patsubst t/unit/%.c,$(BUILD)/unit/%,\
                $(wildcard t/unit/test_*.c))

.PHONY: all deps module unit integration test demo clean

all: module

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

$(BUILD)/unit/%: t/unit/%.c t/unit/unit.h $(PURE_SRCS) $(PURE_HDRS)
	@mkdir -p $(dir $@)
	$(CC) -std=c99 -O1 -g $(WARN) $(SAN) -Isrc -o $@ $< $(PURE_SRCS) \
	    $(PURE_LIBS)

unit: deps $(UNIT_TESTS)
	@tools/run-unit.sh $(UNIT_TESTS)

integration: module
	VOICE_MODULE=$(TOP)/$(MODULE) NGINX_BIN=$(NGINX) prove -r t/

test: unit integration

demo: module
	@tools/demo.sh $(TOP)/$(MODULE)

clean:
	rm -rf $(BUILD)

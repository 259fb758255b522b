# nbd-utils: plain GNU make.  pkg-config is the only probe.
# The version lives in one place, debian/changelog's first line (a native
# package, so no Debian revision): the binaries, the tarball, the
# package and the installed man pages' footers (".Os nbd-utils") all
# read it from there.
VERSION     := $(shell sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
MANDIR      ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
BUILD       ?= build
PKGS        := libnbd gnutls nettle popt
# A tool is built once its main.c exists, so tools light up as they land.
TOOLS       := $(notdir $(patsubst %/main.c,%,$(wildcard cmd/*/main.c)))
BINS        := $(TOOLS:%=$(BUILD)/nbd-%)

CFLAGS   ?= -O2 -g
WARN     := -Wall -Wextra -Wmissing-prototypes -Wstrict-prototypes -Wshadow \
            -Wvla -Wformat=2 -Wpointer-arith -fno-common
CPPFLAGS += -D_GNU_SOURCE -Icommon -DVERSION='"$(VERSION)"'
CFLAGS   += -std=gnu11 $(WARN) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP -pthread
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -pthread
ifdef SANITIZE
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
endif
ifdef WERROR
CFLAGS   += -Werror
endif

COMMON_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard common/*.c))
UNIT_SRC   := $(wildcard tests/unit/test-*.c)
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
tool_objs   = $(patsubst %.c,$(BUILD)/%.o,$(wildcard cmd/$(1)/*.c))
TOOL_LIBS  := $(TOOLS:%=$(BUILD)/lib%.a)
MAIN_OBJ   := %/main.o
BATS_JOBS  ?= 3
TESTS      ?= tests

all: $(BINS)

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	$(AR) rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

.SECONDARY:
.SECONDEXPANSION:
$(BUILD)/nbd-%: $$(call tool_objs,$$*) $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Each tool's objects other than main.o form an archive, so unit tests can
# link the pure parts (formatters, describers) without a main().
$(BUILD)/lib%.a: $$(filter-out $$(MAIN_OBJ),$$(call tool_objs,$$*)) $(BUILD)/empty.o
	rm -f $@ && $(AR) rcs $@ $^

$(BUILD)/empty.o:
	@mkdir -p $(@D)
	echo 'extern int nbdu_empty; int nbdu_empty;' | $(CC) -x c -c -o $@ -

$(BUILD)/unit/%: tests/unit/%.c $(TOOL_LIBS) $(BUILD)/libcommon.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(TOOLS:%=-Icmd/%) $(LDFLAGS) -o $@ $< $(TOOL_LIBS) $(BUILD)/libcommon.a $(LDLIBS)

deps:
	@scripts/install-deps.sh

unit-bin: $(UNIT_BIN)

unit: unit-bin
	@set -e; for t in $(UNIT_BIN); do echo "unit: $$t"; $$t; done

# The unit programs and the bats files, ending with one line
# "N passed, N failed, N skipped" over both (scripts/check.sh).  Bats
# files run BATS_JOBS at a time; TESTS picks files.
check: deps
	@$(MAKE) --no-print-directory all unit-bin
	@NBDU_BUILD=$(abspath $(BUILD)) NBDU_SANITIZE=$(SANITIZE) \
	  scripts/check.sh -j $(BATS_JOBS) -o $(BUILD) $(UNIT_BIN:%=-u %) $(TESTS)

check-sanitize: deps
	@$(MAKE) --no-print-directory check BUILD=build-asan SANITIZE=address,undefined

# Under valgrind the whole suite takes well over a quarter of an hour,
# so by default a subset that runs every tool's main paths, errors and
# signals included (a few minutes); VALGRIND_TESTS=tests runs it all.
VALGRIND_TESTS ?= tests/cli.bats tests/info.bats tests/dump.bats \
	tests/stat-map.bats tests/copy-file.bats tests/copy-usage.bats tests/signal-exit.bats
check-valgrind: deps
	@$(MAKE) --no-print-directory all
	NBDU_BUILD=$(abspath $(BUILD)) NBDU_VALGRIND=1 bats $(VALGRIND_TESTS)

demo:
	@scripts/install-deps.sh demo
	@$(MAKE) --no-print-directory all
	@NBDU_BUILD=$(abspath $(BUILD)) scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@NBDU_BUILD=$(abspath $(BUILD)) QUICK=$(QUICK) bench/run.sh

# libFuzzer targets: tests/fuzz/fuzz-NAME.c, seeds in tests/fuzz/corpus/NAME/.
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_BIN   := $(patsubst tests/fuzz/%.c,build-fuzz/%,$(FUZZ_SRC))
FUZZ_TIME  ?= 60
FUZZ_FLAGS := -fsanitize=fuzzer,address,undefined -fno-omit-frame-pointer -g -O1

build-fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(wildcard common/*.c common/*.h cmd/*/*.c cmd/*/*.h)
	@mkdir -p $(@D)
	clang $(CPPFLAGS) -std=gnu11 $(shell pkg-config --cflags $(PKGS)) $(TOOLS:%=-Icmd/%) $(FUZZ_FLAGS) -o $@ $< \
	  $(filter-out %/main.c,$(wildcard common/*.c $(foreach t,$(TOOLS),cmd/$t/*.c))) $(LDLIBS)

# Each target first replays the inputs that once broke it
# (tests/fuzz/crashes/NAME-*), then fuzzes; any failure fails the target,
# with libFuzzer's report shown and the input left in build-fuzz/.
fuzz: deps $(FUZZ_BIN)
	@set -e; for f in $(FUZZ_BIN); do n=$${f#build-fuzz/fuzz-}; \
	  mkdir -p build-fuzz/corpus/$$n; \
	  old=$$(ls tests/fuzz/crashes/$$n-* 2>/dev/null || true); \
	  if [ -n "$$old" ]; then echo "fuzz: $$n replays $$(echo $$old | wc -w) known inputs"; \
	    $$f $$old >build-fuzz/$$n.log 2>&1 || { cat build-fuzz/$$n.log; exit 1; }; fi; \
	  echo "fuzz: $$n for $(FUZZ_TIME)s"; \
	  $$f -max_total_time=$(FUZZ_TIME) -print_final_stats=0 \
	    -artifact_prefix=build-fuzz/$$n- build-fuzz/corpus/$$n tests/fuzz/corpus/$$n \
	    >build-fuzz/$$n.log 2>&1 || { tail -40 build-fuzz/$$n.log; exit 1; }; \
	  tail -1 build-fuzz/$$n.log; \
	done

lint:
	mandoc -Tlint -W warning man/*.1
	shellcheck -s bash tests/*.bash scripts/*.sh completions/*.bash .ci/run $(wildcard bench/*.sh)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR)
	install -m 755 $(BINS) $(DESTDIR)$(BINDIR)/
	for m in $(wildcard man/*.1); do \
	  sed 's/^\.Os nbd-utils$$/& $(VERSION)/' $$m >$(DESTDIR)$(MANDIR)/man1/$${m#man/} && \
	  chmod 644 $(DESTDIR)$(MANDIR)/man1/$${m#man/} || exit 1; \
	done
	install -m 644 completions/nbd-utils.bash $(DESTDIR)$(BASHCOMPDIR)/nbd-utils
	for t in $(TOOLS); do ln -sf nbd-utils $(DESTDIR)$(BASHCOMPDIR)/nbd-$$t; done
	install -m 644 completions/_nbd-utils $(DESTDIR)$(ZSHCOMPDIR)/_nbd-utils

uninstall:
	for t in $(TOOLS); do \
	  rm -f $(DESTDIR)$(BINDIR)/nbd-$$t $(DESTDIR)$(MANDIR)/man1/nbd-$$t.1 $(DESTDIR)$(BASHCOMPDIR)/nbd-$$t; \
	done
	rm -f $(DESTDIR)$(BASHCOMPDIR)/nbd-utils $(DESTDIR)$(ZSHCOMPDIR)/_nbd-utils

# The release tarball holds the files git tracks, as they are in the work
# tree, and nothing else: no build output, no .git.  Names, owners and
# times are fixed (the last commit's), so the same tree gives the same
# bytes.  DIST_DIR says where it goes.
DIST     := nbd-utils-$(VERSION)
DIST_DIR ?= .
dist:
	@test -n "$(VERSION)" || { echo "make dist: no version in debian/changelog" >&2; exit 1; }
	@git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
	  { echo "make dist: needs a git checkout, to know which files are the source" >&2; exit 1; }
	@mkdir -p $(DIST_DIR)
	git ls-files -z | xargs -0 sh -c 'for f; do [ -e "$$f" ] && printf "%s\0" "$$f"; done' sh | \
	  tar --null -T - --transform='s,^,$(DIST)/,' --sort=name --owner=0 --group=0 --numeric-owner \
	    --mtime=@$$(git log -1 --format=%ct) -cf - | gzip -n >$(DIST_DIR)/$(DIST).tar.gz
	@echo "make dist: $(DIST_DIR)/$(DIST).tar.gz"

# The package is built from the release tarball unpacked in DEB_DIR, so
# it builds from what "make dist" ships, and dpkg-buildpackage, which
# writes beside the source tree it builds, writes into DEB_DIR, never into
# the checkout's parent.  lintian must find no errors.
DEB_DIR ?= build-deb
deb:
	@scripts/install-deps.sh deb
	@rm -rf $(DEB_DIR)/$(DIST)
	@$(MAKE) --no-print-directory dist DIST_DIR=$(DEB_DIR)
	tar -xzf $(DEB_DIR)/$(DIST).tar.gz -C $(DEB_DIR)
	cd $(DEB_DIR)/$(DIST) && dpkg-buildpackage -us -uc -b
	lintian --fail-on error $(DEB_DIR)/nbd-utils_$(VERSION)_*.changes
	@echo "make deb: $$(ls $(DEB_DIR)/nbd-utils_$(VERSION)_*.deb)"

clean:
	rm -rf build build-asan build-fuzz build-deb

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.PHONY: all check check-sanitize check-valgrind unit unit-bin lint install uninstall clean demo deps bench fuzz dist deb

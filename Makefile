# Front doors: make run | make test | make module LUA=<interpreter> | make modules | make bench
# The interpreter list and the interpreter -> cargo feature map live here and only here;
# scripts and tests receive them through the environment (KUMO_LUAS).

LUAS := lua5.1 lua5.2 lua5.3 lua5.4 luajit
# Versions with no Debian interpreter: their modules are loaded by Rust test hosts.
HOST_ONLY_LUAS := lua5.5
LUA ?= lua5.4
# luarocks passes $(LUA) as a full path (/usr/bin/lua5.4): only its name matters here.
override LUA := $(notdir $(LUA))
CARGO ?= cargo

# lua5.4 -> lua54, luajit -> luajit
lua_feature = $(if $(filter luajit,$(1)),luajit,lua$(subst .,,$(patsubst lua%,%,$(1))))

export KUMO_LUAS := $(LUAS)
# The interpreters copied, with their modules, into the real-kernel lane's initramfs and
# the runtime lane's OCI bundle: the case runtimes there, with the host.
export KUMO_BUNDLE_LUAS := lua5.4 luajit
# The versions tested in a Rust host with Lua compiled in (make host-check).
export KUMO_HOST_LUAS := lua5.4 $(HOST_ONLY_LUAS)
# Where the integration tests find what make builds (make test builds them first): the
# modules, target/lua/<interpreter>/kumo_parallelism.so, and the std reference.
export KUMO_LUA_MODULES := $(abspath target/lua)
export KUMO_STD_REFERENCE = $(abspath $(STD_REFERENCE))

.PHONY: run test module modules bench clean luas std-reference host rock-install host-check \
	kumod-hosts vm-test runtime-test docs $(addprefix module-,$(LUAS))

run:
	$(CARGO) run --quiet --release --example policy_host -- lua/examples/policy.lua

# One cargo invocation per Lua version, each with its own target dir: the `module`
# feature cannot share a build with `vendored`, and each .so links one Lua ABI.
module:
	@case " $(LUAS) $(HOST_ONLY_LUAS) " in *" $(LUA) "*) ;; *) echo "LUA must be one of: $(LUAS) $(HOST_ONLY_LUAS)" >&2; exit 2;; esac
	$(CARGO) build --quiet --release --lib --no-default-features \
		--features "$(call lua_feature,$(LUA)) module" --target-dir target/build/$(LUA)
	mkdir -p target/lua/$(LUA)
	@# copy then rename: a process loading the old .so meanwhile never sees a half-written file
	cp target/build/$(LUA)/release/libkumo_parallelism.so target/lua/$(LUA)/.kumo_parallelism.so.tmp
	mv -f target/lua/$(LUA)/.kumo_parallelism.so.tmp target/lua/$(LUA)/kumo_parallelism.so

# luarocks' install step for the rockspec: LIBDIR is the rock's lib directory, PREFIX the
# rock's own directory, which keeps the LuaCATS type file (it is no module to require).
rock-install: module
	mkdir -p "$(LIBDIR)" "$(PREFIX)/library"
	cp target/lua/$(LUA)/kumo_parallelism.so "$(LIBDIR)/kumo_parallelism.so"
	cp lua/library/kumo_parallelism.lua "$(PREFIX)/library/kumo_parallelism.lua"

# One target per interpreter, so that make -j builds them side by side (each has its own
# target dir, and LTO's last step runs on one core).
modules: $(addprefix module-,$(LUAS))
# A static pattern rule: make skips implicit rules for phony targets, so a plain `module-%:`
# rule never ran and `make modules` built nothing.
$(addprefix module-,$(LUAS)): module-%:
	@$(MAKE) --no-print-directory module LUA=$*

test:
	bash scripts/test.sh

bench: modules
	bash scripts/bench.sh

clean:
	rm -rf target

# The documents generated from the code and the case files: lua/library/kumo_parallelism.lua
# and docs/reference.md's tables of explain()'s fields and findings (tools/docgen, from the
# field list, the finding table and the rustdoc),
# docs/testing.md's tables of cases (scripts/case-docs, from scripts/cases/), and the golden
# files of the finding texts (src/explain/diagnose/snapshots/); make test fails when a
# committed copy is not current. Review the diff of what it rewrote before committing it.
docs:
	$(CARGO) run --quiet --manifest-path tools/docgen/Cargo.toml --target-dir target/build/docgen -- write
	KUMO_WRITE_DOCS=1 $(CARGO) test --quiet --lib explain::diagnose
	bash scripts/case-docs write

# The std reference: prints std::thread::available_parallelism(), nothing else.
STD_REFERENCE := target/build/std_parallelism/release/std_parallelism
std-reference:
	$(CARGO) build --quiet --release --manifest-path tools/std_parallelism/Cargo.toml \
		--target-dir target/build/std_parallelism
	@echo $(abspath $(STD_REFERENCE))

# The kumod-style host (vendored Lua 5.4, safe mode, register); prints its path last.
HOST := target/release/examples/policy_host
host:
	$(CARGO) build --quiet --release --example policy_host
	@echo $(abspath $(HOST))

# A host with Lua $(LUA) compiled in and exported (-rdynamic), which loads the real (release)
# .so with Lua::unsafe_new() and uses register in safe mode. For lua5.4 and lua5.5. The host
# itself is a test binary in libtest's format: built without optimisation, which builds
# faster.
host-check: module
	RUSTFLAGS="-C link-arg=-rdynamic" $(CARGO) build --quiet --example host_check \
		--no-default-features --features "$(call lua_feature,$(LUA)) vendored" \
		--target-dir target/build/host-$(LUA)
	KUMO_MODULE_DIR=target/lua/$(LUA) target/build/host-$(LUA)/debug/examples/host_check

# The kumod-shaped host with KumoMTA's mlua features, once per mlua line (hosts/), each a test
# binary in libtest's format; prints TAP.
kumod-hosts: module-lua5.4
	bash scripts/kumod-hosts.sh

# Real kernels under qemu: cgroup v2, v1 and hybrid, 8 and 64 CPUs (scripts/cases/vm-*.cases, scripts/vm/lane.sh); TAP.
vm-test:
	bash scripts/vm-test.sh

# Real container runtimes and sandboxes (runc, runsc, firejail, bwrap) on this machine's
# cgroups, one OCI bundle from the host's binaries (scripts/runtime-test.sh); TAP.
runtime-test:
	bash scripts/runtime-test.sh

# For tests and scripts that need the interpreter list outside make.
luas:
	@echo $(LUAS)

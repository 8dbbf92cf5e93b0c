# SPDX-License-Identifier: GPL-2.0
# rvfio-pci: build, boot and test. Large files live in $(RVFIO_CACHE)
# (default ~/.cache/rvfio), never in the repo.
#
#   make run      fetch, build, boot a VM, bind the edu device to rvfio-pci
#                 and use it from user space
#   make check    every test: host unit tests, lint, VM tests under both drivers
#   make check SANITIZE=1  (or make sanitize) the VM tests on the sanitizer kernel
#                 (KASAN, UBSAN, lockdep, KFENCE, kmemleak, hang detectors), built
#                 in its own directory; SANITIZE=1 works with build, vm, vm-test too
#   make vm CMD='...'  run any command in the test VM (exit status returned)
#   make vm-test T='uapi err'  the named suites of the VM tests, in one guest
#   make fuzz     the libFuzzer targets (tests/fuzz) on the host, SECS=60 each (T='config args')
#   make patches  the work as a git format-patch series against pristine 7.3
#                 (out/patches), checked with checkpatch.pl

SHELL := /bin/bash

.PHONY: all fetch build vm run check sanitize host-test fuzz lint vm-test fmt patches clean-cache

all: build

fetch:
	@scripts/fetch.sh

build: fetch
	@scripts/build.sh

vm: build
	@scripts/vm.sh -- $(CMD)

run: build
	@scripts/vm.sh --timeout 300 -- bash $(CURDIR)/scripts/demo.sh

host-test: fetch
	@scripts/host-test.sh

fuzz: fetch
	@scripts/fuzz.sh -t $(or $(SECS),60) $(T)

lint: build
	@scripts/lint.sh

vm-test: build
	@scripts/vm-test.sh $(T)

check:
	@scripts/check.sh

sanitize:
	@SANITIZE=1 scripts/check.sh

patches: build
	@scripts/patches.sh

fmt: build
	@scripts/lint.sh --fix

clean-cache:
	@bash -c '. scripts/lib.sh && rm -rf "$$CACHE/linux" "$$CACHE/vm"' 

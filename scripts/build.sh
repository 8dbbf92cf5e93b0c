#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Build bzImage and modules (LLVM=-19) with the project's config fragment,
# then install the modules and the UAPI headers into the cache.
. "$(dirname "$0")/lib.sh"

"$TOP/scripts/tree.sh"
RUST_LIB_SRC=$(cat "$BASE/rust-lib-src")
export RUST_LIB_SRC
JOBS=${JOBS:-$(nproc)}
# Rust is always compiled through clippy-driver, so every build is linted and switching
# between linted and unlinted builds never forces a rebuild.
MAKE=(make -s -C "$TREE" LLVM=$LLVM_SUFFIX CLIPPY=1 -j"$JOBS")
start=$(date +%s)

# The config fragments: the test kernel's, and with SANITIZE=1 the sanitizers' over it.
frags=("$TOP/scripts/config/rvfio.config")
[ "$SANITIZE" = 1 ] && frags+=("$TOP/scripts/config/sanitize.config")
fhash=$( (cat "${frags[@]}"; cat "$TREE/.rvfio-patches") | sha256sum | cut -c1-16)
if [ "$(cat "$TREE/.rvfio-config" 2>/dev/null)" != "$fhash" ] || [ ! -f "$TREE/.config" ]; then
	log "configuring: tinyconfig + kvm_guest.config + ${frags[*]##*/}"
	"${MAKE[@]}" rustavailable >/dev/null || die "Rust toolchain not usable (make rustavailable)"
	"${MAKE[@]}" tinyconfig >/dev/null
	(cd "$TREE" && KCONFIG_CONFIG=.config scripts/kconfig/merge_config.sh -m -Q \
		.config kernel/configs/kvm_guest.config "${frags[@]}" >/dev/null)
	"${MAKE[@]}" olddefconfig >/dev/null
	bad=0
	while read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qx "$line" "$TREE/.config" || { log "config: wanted $line, got: $(grep "^${line%%=*}=" "$TREE/.config" || echo unset)"; bad=1; } ;;
		"# CONFIG_"*" is not set")
			sym=${line#\# }; sym=${sym%% *}
			! grep -q "^$sym=" "$TREE/.config" || { log "config: wanted $sym unset"; bad=1; } ;;
		esac
	done < <(cat "${frags[@]}")
	[ $bad = 0 ] || die "the config fragment did not take"
	echo "$fhash" >"$TREE/.rvfio-config"
fi

log "building bzImage and modules (-j$JOBS)"
"${MAKE[@]}" bzImage modules 2>&1 | tee "$CACHE/build.log"
[ "${PIPESTATUS[0]}" = 0 ] || die "kernel build failed (log: $CACHE/build.log)"
kv=$("${MAKE[@]}" kernelrelease)
rm -rf "$CACHE/modules.new"
"${MAKE[@]}" INSTALL_MOD_PATH="$CACHE/modules.new" modules_install >/dev/null
rm -rf "$CACHE/modules" && mv "$CACHE/modules.new" "$CACHE/modules"
"${MAKE[@]}" headers_install >/dev/null
log "building the VFIO selftests"
# OUTPUT explicitly: the selftests' lib.mk only defaults it at the top make level, and
# make check runs this from inside make.
for d in vfio vfio/rvfio; do
	make -s -C "$TREE/tools/testing/selftests/$d" OUTPUT="$TREE/tools/testing/selftests/$d" >/dev/null
done
for t in rvfio_uapi_test rvfio_uapi_dump rvfio_irq_test rvfio_ioeventfd_test rvfio_teardown_test \
	rvfio_err_test rvfio_hotreset_test rvfio_unplug_test rvfio_sriov_test rvfio_stress; do
	[ -x "$TREE/tools/testing/selftests/vfio/rvfio/$t" ] || die "selftest $t was not built"
done
log "building the Rust edu sample"
mkdir -p "$CACHE/samples"
rustc --edition 2021 -O -D warnings -o "$CACHE/samples/rvfio_edu" "$TOP/samples/rvfio/rvfio_edu.rs" ||
	die "samples/rvfio/rvfio_edu.rs does not build"
echo "$kv" >"$CACHE/kernelrelease"
log "built $kv in $(($(date +%s) - start)) s"

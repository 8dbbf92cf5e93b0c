#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Fetch everything the build and the VM need: host packages, QEMU 10, the
# Linux 7.3 source, the rust-src matching rustc, and bindgen. Idempotent.
. "$(dirname "$0")/lib.sh"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

mkdir -p "$BASE" "$TOOLS/bin"
apt_private_update

# Host packages (bookworm), and QEMU from bookworm-backports.
pkgs="clang-19 lld-19 llvm-19 libclang-19-dev flex bison bc libelf-dev
      libssl-dev cpio uuid-dev make gcc python3 xz-utils zstd kmod
      busybox-static rsync"
missing=()
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get -q -y -o Dir::Etc::SourceList="$APT/install/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$APT/install/lists" \
		install --no-install-recommends "${missing[@]}" >/dev/null
fi
qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null &&
		qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"'
}
if ! qemu_ok; then
	log "installing QEMU from bookworm-backports"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get -q -y -o Dir::Etc::SourceList="$APT/install/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$APT/install/lists" \
		-t bookworm-backports install --no-install-recommends qemu-system-x86 >/dev/null
	qemu_ok || die "QEMU with igb not available"
fi
log "$(qemu-system-x86_64 --version | head -1)"

# Debian package version matching a prefix, newest first.
deb_version() {
	apt_private download policy "$1" 2>/dev/null |
		awk '/^ +(\*\*\* )?[0-9]/ {v = ($1 == "***") ? $2 : $1; print v}' |
		{ grep -E "^$2" || true; } | sort -V -r | head -1
}

# Linux 7.3 source.
if [ ! -f "$SRC/.rvfio-unpacked" ]; then
	v=$(deb_version linux-source-7.3 "$KVER_PIN-")
	if [ -z "$v" ]; then
		v=$(deb_version linux-source-7.3 "7\.3")
		log "pinned $KVER_PIN not available, falling back to $v"
	fi
	[ -n "$v" ] || die "no linux-source-7.3 package found"
	log "downloading linux-source-7.3 $v"
	(cd "$APT/download/archives" && apt_private download download "linux-source-7.3=$v" >/dev/null)
	deb=$(ls "$APT/download/archives"/linux-source-7.3_*.deb | head -1)
	rm -rf "$BASE/deb-src" "$SRC"
	mkdir -p "$BASE/deb-src"
	dpkg-deb -x "$deb" "$BASE/deb-src"
	tarball=$(ls "$BASE/deb-src"/usr/src/linux-source-7.3.tar.*)
	log "unpacking $(basename "$tarball")"
	mkdir -p "$SRC"
	tar -xf "$tarball" -C "$SRC" --strip-components=1
	rm -rf "$BASE/deb-src"
	touch "$SRC/.rvfio-unpacked"
fi
kv=$(make -s -C "$SRC" kernelversion)
echo "$kv" >"$BASE/kver"
log "kernel source $kv"

# rust-src matching rustc.
rv=$(rustc --version | awk '{print $2}')
if [ ! -d "$TOOLS/rust-src/usr/src/rustc-$rv/library" ]; then
	v=$(deb_version rust-src "$rv\+")
	[ -n "$v" ] || die "no rust-src package for rustc $rv"
	log "downloading rust-src $v"
	(cd "$APT/download/archives" && apt_private download download "rust-src=$v" >/dev/null)
	rm -rf "$TOOLS/rust-src"
	dpkg-deb -x "$(ls "$APT/download/archives"/rust-src_"${v/:/%3a}"_all.deb)" "$TOOLS/rust-src"
fi
echo "$TOOLS/rust-src/usr/src/rustc-$rv/library" >"$BASE/rust-lib-src"

# bindgen.
if ! "$TOOLS/bin/bindgen" --version 2>/dev/null | grep -q '0\.73\.2'; then
	log "cargo install bindgen-cli 0.73.2 (a few minutes)"
	cargo install -q --locked --root "$TOOLS" bindgen-cli --version 0.73.2
fi
# cargo-fuzz, for the libFuzzer targets in tests/fuzz.
if ! "$TOOLS/bin/cargo-fuzz" --version 2>/dev/null | grep -q '0\.13\.2'; then
	log "cargo install cargo-fuzz 0.13.2 (about a minute)"
	cargo install -q --locked --root "$TOOLS" cargo-fuzz --version 0.13.2
fi
log "fetch done"

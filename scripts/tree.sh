#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Lay out the build tree: a copy of the pristine source, the patches in
# patches/ applied, and the project's own files linked in at their upstream
# paths. Idempotent and incremental: untouched files keep their mtimes so
# make rebuilds only what changed.
. "$(dirname "$0")/lib.sh"

[ -f "$SRC/.rvfio-unpacked" ] || die "no kernel source: run 'make fetch'"
if [ ! -f "$TREE/.rvfio-copied" ]; then
	log "copying the pristine tree to $TREE"
	rm -rf "$TREE"
	mkdir -p "$(dirname "$TREE")"
	cp -a "$SRC" "$TREE"
	touch "$TREE/.rvfio-copied"
fi

# Patches: when the series changes, restore the files the old series
# touched, then apply the new one.
patches=("$TOP"/patches/*.patch)
hash=$(cat "${patches[@]}" | sha256sum | cut -c1-16)
if [ "$(cat "$TREE/.rvfio-patches" 2>/dev/null)" != "$hash" ]; then
	if [ -f "$TREE/.rvfio-patched-files" ]; then
		while read -r f; do
			if [ -e "$SRC/$f" ]; then cp -p "$SRC/$f" "$TREE/$f"; else rm -f "$TREE/$f"; fi
		done <"$TREE/.rvfio-patched-files"
	fi
	: >"$TREE/.rvfio-patched-files"
	for p in "${patches[@]}"; do
		log "applying $(basename "$p")"
		patch -s -p1 -d "$TREE" --no-backup-if-mismatch <"$p" || die "$(basename "$p") does not apply"
		grep -E '^\+\+\+ b/' "$p" | sed 's|^+++ b/||; s|\t.*||' >>"$TREE/.rvfio-patched-files"
	done
	echo "$hash" >"$TREE/.rvfio-patches"
fi

# Project files, linked at their upstream paths. Dangling links from files
# the project has since removed are cleaned up.
for d in drivers rust samples tools Documentation; do
	[ -d "$TOP/$d" ] || continue
	(cd "$TOP" && find "$d" -type f ! -path '*/target/*' ! -name '*.orig') | while read -r f; do
		if [ -e "$SRC/$f" ]; then
			die "$f exists upstream: change it with a patch in patches/"
		fi
		mkdir -p "$TREE/$(dirname "$f")"
		[ "$(readlink "$TREE/$f" 2>/dev/null)" = "$TOP/$f" ] || ln -sfn "$TOP/$f" "$TREE/$f"
	done
done
find "$TREE/drivers" "$TREE/rust" "$TREE/samples" "$TREE/tools" "$TREE/Documentation" \
	-xtype l -lname "$TOP/*" -delete 2>/dev/null || true
# Links into an older checkout of the repo (another clone) are replaced.
find "$TREE/drivers" "$TREE/rust" "$TREE/samples" "$TREE/tools" "$TREE/Documentation" \
	-type l ! -lname "$TOP/*" -lname '/*' -newer "$TREE/.rvfio-copied" 2>/dev/null |
	while read -r l; do
		rel=${l#"$TREE"/}
		if [ -e "$TOP/$rel" ]; then ln -sfn "$TOP/$rel" "$l"; else rm -f "$l"; fi
	done

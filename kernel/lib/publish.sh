# shellcheck shell=bash
# kernel/lib/publish.sh: a built kernel goes into its cache directory with
# what the runner and every result need to know about it (build-info.json,
# guest.env).
#
# Uses the caller's globals: objdir, kroot, out, key, started, debug, the
# source (lib/source.sh) and series (lib/series.sh) variables.

# Publish: fill a temporary directory, then rename it into place, so a
# reader either sees a complete kernel directory or none.
publish() {
	local stage config_sha release build_seconds patchset_json patch_json="" n debug_json=false
	stage=$(mktemp -d "$kroot/.stage.XXXXXX")
	tmp_paths+=("$stage")
	cp "$objdir/arch/x86/boot/bzImage" "$stage/bzImage"
	cp "$objdir/vmlinux" "$stage/vmlinux"
	cp "$objdir/System.map" "$stage/System.map"
	cp "$objdir/.config" "$stage/config"
	config_sha=$(sha256_file "$stage/config")
	release=$(cat "$objdir/include/config/kernel.release")
	build_seconds=$(($(date +%s) - started))
	if [[ -n $patchset_sha ]]; then
		for n in "${patch_names[@]}"; do patch_json+="${patch_json:+, }\"$n\""; done
		patchset_json="{\"sha256\": \"$patchset_sha\", \"patches\": [$patch_json]}"
	else
		patchset_json='"none"'
	fi
	((debug)) && debug_json=true
	cat >"$stage/build-info.json" <<JSON
{
  "source_package": "$src_pkg",
  "source_version": "$src_version",
  "source_note": "$src_note",
  "kernel_release": "$release",
  "config_sha256": "$config_sha",
  "preempt_model": "$(preempt_model "$stage/config")",
  "patchset": $patchset_json,
  "patchset_id": "$patchset_id",
  "series": "$series_name",
  "debug": $debug_json,
  "gcc": "$(gcc -dumpfullversion 2>/dev/null || echo unknown)",
  "pahole": "$(pahole --version 2>/dev/null || echo unknown)",
  "build_seconds": $build_seconds,
  "built_at": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cache_key": "$key"
}
JSON
	# KEY=VALUE lines for vm.sh to export inside the guest (parsed, not sourced).
	cat >"$stage/guest.env" <<ENV
SOCKBENCH_PATCHSET=$patchset_id
SOCKBENCH_KERNEL_CONFIG_SHA256=$config_sha
SOCKBENCH_KERNEL_RELEASE=$release
SOCKBENCH_KERNEL_DEBUG=$debug
SOCKBENCH_KERNEL_SOURCE=$src_pkg $src_version
SOCKBENCH_KERNEL_PREEMPT=$(preempt_model "$stage/config")
ENV
	chmod 755 "$stage"
	if ! mv -T "$stage" "$out" 2>/dev/null; then
		is_built || die "could not move $stage to $out"
	fi
	log "built $release ($src_pkg $src_version, patchset $patchset_id, debug=$debug) in ${build_seconds}s"
}


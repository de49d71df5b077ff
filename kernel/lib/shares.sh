# shellcheck shell=bash
# kernel/lib/shares.sh: which host directories the guest sees, and how.
#
# The guest's root is the host's / over 9p, read-only, and the guest mounts
# its own tmpfs on /tmp and /run, and proc/sys/dev, hiding the host's.
# Writable directories (--out dirs, --rw) and directories that sit under
# those hidden paths (the working directory, the checkout, --ro) are shared
# separately, each mounted at the same path.
#
#   add_rw_dir DIR          writable (created on the host if missing)
#   add_out_dirs ARG...     the directory of every --out PATH / --out=PATH
#   add_hidden_ro DIR       read-only, if DIR is where the guest hides the host's
#   write_shares FSTAB      the guest's fstab lines; sets virtfs_args (qemu)
# Needs MSIZE (the 9p payload size) from the caller.

declare -A share_mode=() # absolute path -> ro|rw

add_share() {
	local path=$1 mode=$2
	if [[ $mode == rw ]]; then
		share_mode[$path]=rw
	elif [[ -z ${share_mode[$path]:-} ]]; then
		share_mode[$path]=ro
	fi
}

add_rw_dir() {
	local dir=$1
	[[ $dir == /* ]] || dir=$PWD/$dir
	mkdir -p -- "$dir" || die "cannot create $dir for the guest's output"
	add_share "$(realpath -- "$dir")" rw
}

add_out_dirs() {
	local args=("$@") i out_path
	for ((i = 0; i < ${#args[@]}; i++)); do
		out_path=""
		case ${args[i]} in
		--out) ((i + 1 < ${#args[@]})) && out_path=${args[i + 1]} ;;
		--out=*) out_path=${args[i]#--out=} ;;
		esac
		[[ -n $out_path ]] || continue
		[[ $out_path == /* ]] || out_path=$PWD/$out_path
		# e.g. --out /dev/stdout: the guest's own /dev, never a host share.
		case $out_path in
		/dev/* | /proc/* | /sys/*) continue ;;
		esac
		add_rw_dir "$(dirname -- "$out_path")"
	done
}

add_hidden_ro() {
	local dir
	dir=$(realpath -- "$1") || die "--ro: no such directory: $1"
	case $dir/ in
	/tmp/* | /run/* | /dev/* | /proc/* | /sys/*) add_share "$dir" ro ;;
	esac
}

fstab_escape() { # fstab fields: octal escapes for blanks and backslash
	local s=$1
	s=${s//\\/\\134}
	s=${s// /\\040}
	s=${s//$'\t'/\\011}
	s=${s//$'\n'/\\012}
	printf '%s' "$s"
}

write_shares() { # $1: the fstab file for the guest
	local fstab=$1 n=0 path tag opts ro_opt
	virtfs_args=()
	: >"$fstab"
	# Sorted, so a parent directory is mounted before a share inside it.
	while IFS= read -r -d '' path; do
		[[ -n $path ]] || continue
		tag=sbfs$n
		n=$((n + 1))
		opts=trans=virtio,version=9p2000.L,msize=$MSIZE,X-mount.mkdir
		ro_opt=""
		if [[ ${share_mode[$path]} == ro ]]; then
			opts+=,ro
			ro_opt=,readonly=on
		fi
		# qemu option values escape ',' by doubling it.
		virtfs_args+=(-virtfs "local,path=${path//,/,,},mount_tag=$tag,security_model=none,multidevs=remap$ro_opt")
		printf '%s %s 9p %s 0 0\n' "$tag" "$(fstab_escape "$path")" "$opts" >>"$fstab"
	done < <(printf '%s\0' "${!share_mode[@]}" | sort -z)
	for path in "${!share_mode[@]}"; do
		log "shared ${share_mode[$path]}: $path"
	done
}

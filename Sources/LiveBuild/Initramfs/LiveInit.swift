/// The live init: the `/init` of our initramfs, a busybox shell script. It loads the storage
/// and filesystem modules, finds the live medium by the id stamped at build time, checks the
/// squashfs, mounts it read-only under an overlayfs whose upper layer is tmpfs (optionally after
/// copying it to RAM with `toram`), and switches root to systemd. On any failure it says what
/// went wrong on every console and drops to a rescue shell.
///
/// Boot parameters it reads (Docs/boot-parameters.md):
/// - `toram`: copy the squashfs to RAM (verifying its sha256) so the medium can be removed;
/// - `live.check`: verify the squashfs sha256 before use (without it: size and magic only);
/// - `live.wait=SECONDS`: how long to look for the medium (default 30);
/// - `live.media=/dev/XXX`: use this device instead of searching;
/// - `live.break`: stop in a shell just before switching root;
/// - `live.debug`: trace the init;
/// - `init=PATH`: what to run in the new root (default /sbin/init).
enum LiveInit {
    /// Values stamped into the initramfs at build time.
    struct Configuration: Equatable {
        var mediumID: String
        var squashfsPath: String
        var squashfsSize: UInt64
        var squashfsSHA256: String
        /// Module files (relative to /lib/modules in the initramfs), in load order.
        var modules: [String]

        /// `/etc/livebuild/initrd.conf`, sourced by the init.
        func render() -> String {
            """
            # Written by livebuild at build time.
            LIVE_MEDIUM_ID='\(mediumID)'
            LIVE_SQUASHFS='\(squashfsPath)'
            LIVE_SQUASHFS_SIZE=\(squashfsSize)
            LIVE_SQUASHFS_SHA256='\(squashfsSHA256)'
            LIVE_MODULES='\(modules.joined(separator: " "))'

            """
        }
    }

    /// The script itself. Kept free of bashisms: it runs under busybox `sh`.
    static let script = #"""
    #!/bin/sh
    # livebuild live init (busybox sh). See Docs/boot-parameters.md.
    /bin/busybox mkdir -p /bin /sbin /usr/bin /usr/sbin /proc /sys /dev /run /newroot /tmp
    /bin/busybox --install -s
    export PATH=/bin:/sbin:/usr/bin:/usr/sbin

    mount -t proc -o nosuid,nodev,noexec proc /proc
    mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
    mount -t devtmpfs -o mode=0755,nosuid devtmpfs /dev
    mkdir -p /dev/pts && mount -t devpts devpts /dev/pts
    mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /run
    mkdir -p /run/live/medium /run/live/rootfs /run/live/rw

    . /etc/livebuild/initrd.conf

    say() { echo "livebuild-init: $*"; }
    rescue() {
        echo "<2>livebuild-init: ERROR: $*" > /dev/kmsg 2>/dev/null
        echo "livebuild-init: ERROR: $*"
        echo "livebuild-init: dropping to a rescue shell (exit it to retry booting)"
        setsid cttyhack sh
        exec /init
    }

    TORAM=0; CHECK=0; WAIT=30; MEDIA=""; BREAK=0; NEWINIT=/sbin/init
    for arg in $(cat /proc/cmdline); do
        case "$arg" in
            toram) TORAM=1 ;;
            live.check) CHECK=1 ;;
            live.wait=*) WAIT="${arg#live.wait=}" ;;
            live.media=*) MEDIA="${arg#live.media=}" ;;
            live.break) BREAK=1 ;;
            live.debug) set -x ;;
            init=*) NEWINIT="${arg#init=}" ;;
        esac
    done

    say "loading modules"
    for m in $LIVE_MODULES; do
        insmod "/lib/modules/$m" 2>/dev/null
    done

    # Find the medium: a block device whose filesystem holds the marker live/ID.medium.
    try_medium() {
        mount -o ro "$1" /run/live/medium 2>/dev/null || return 1
        [ -e "/run/live/medium/live/$LIVE_MEDIUM_ID.medium" ] && return 0
        umount /run/live/medium
        return 1
    }

    say "looking for the live medium $LIVE_MEDIUM_ID (up to ${WAIT}s)"
    FOUND=""
    TRIES=$((WAIT * 4))
    while [ -z "$FOUND" ] && [ "$TRIES" -gt 0 ]; do
        if [ -n "$MEDIA" ]; then
            try_medium "$MEDIA" && FOUND="$MEDIA"
        else
            for path in /sys/class/block/*; do
                dev="/dev/${path##*/}"
                case "${path##*/}" in loop*|ram*|zram*) continue ;; esac
                [ -b "$dev" ] || continue
                try_medium "$dev" && { FOUND="$dev"; break; }
            done
        fi
        [ -n "$FOUND" ] && break
        TRIES=$((TRIES - 1))
        sleep 0.25
    done
    [ -n "$FOUND" ] || rescue "no live medium with id $LIVE_MEDIUM_ID found after ${WAIT}s (devices: $(ls /sys/class/block | tr '\n' ' ')); is the CD or USB stick attached? live.media=/dev/XXX names it"
    say "live medium found on $FOUND"

    # Keep the medium and every device above it (USB port, hub, controller) out of runtime
    # suspend: the root filesystem lives there, and some hosts (QEMU's xHCI among them) do
    # not resume a suspended stick in time.
    p=$(readlink -f "/sys/class/block/${FOUND##*/}")
    while [ -n "$p" ] && [ "$p" != "/sys" ]; do
        [ -w "$p/power/control" ] && echo on > "$p/power/control" 2>/dev/null
        p="${p%/*}"
    done

    SQUASHFS="/run/live/medium/$LIVE_SQUASHFS"
    [ -f "$SQUASHFS" ] || rescue "$LIVE_SQUASHFS is missing on $FOUND"
    SIZE=$(stat -c %s "$SQUASHFS")
    [ "$SIZE" = "$LIVE_SQUASHFS_SIZE" ] || rescue "$LIVE_SQUASHFS on $FOUND has $SIZE bytes, expected $LIVE_SQUASHFS_SIZE: the medium is damaged or from another build"
    [ "$(head -c 4 "$SQUASHFS")" = "hsqs" ] || rescue "$LIVE_SQUASHFS on $FOUND is not a squashfs image"

    if [ "$TORAM" = 1 ]; then
        say "copying the squashfs to RAM ($SIZE bytes)"
        mkdir -p /run/live/toram
        mount -t tmpfs -o mode=0755,size=$((SIZE / 1048576 + 64))m tmpfs /run/live/toram || rescue "cannot create a RAM disk for toram"
        SUM=$(cat "$SQUASHFS" | tee /run/live/toram/filesystem.squashfs | sha256sum | cut -d' ' -f1)
        [ "$SUM" = "$LIVE_SQUASHFS_SHA256" ] || rescue "the squashfs copied to RAM has sha256 $SUM, expected $LIVE_SQUASHFS_SHA256: the medium is damaged"
        umount /run/live/medium || rescue "cannot release the medium after copying to RAM"
        SQUASHFS=/run/live/toram/filesystem.squashfs
        say "squashfs in RAM and verified; the medium can be removed"
    elif [ "$CHECK" = 1 ]; then
        say "verifying the squashfs sha256"
        SUM=$(sha256sum "$SQUASHFS" | cut -d' ' -f1)
        [ "$SUM" = "$LIVE_SQUASHFS_SHA256" ] || rescue "$LIVE_SQUASHFS has sha256 $SUM, expected $LIVE_SQUASHFS_SHA256: the medium is damaged"
    fi

    mount -t squashfs -o ro,loop "$SQUASHFS" /run/live/rootfs || rescue "cannot mount $SQUASHFS (squashfs and loop modules loaded?)"
    mount -t tmpfs -o mode=0755 tmpfs /run/live/rw || rescue "cannot mount the tmpfs for changes"
    mkdir -p /run/live/rw/upper /run/live/rw/work
    mount -t overlay overlay -o lowerdir=/run/live/rootfs,upperdir=/run/live/rw/upper,workdir=/run/live/rw/work /newroot \
        || rescue "cannot mount the overlay root (overlay module loaded?)"
    [ -x "/newroot$NEWINIT" ] || [ -L "/newroot$NEWINIT" ] || rescue "$NEWINIT is missing in the image"

    if [ "$BREAK" = 1 ]; then
        say "live.break: root is ready in /newroot; exit the shell to continue"
        setsid cttyhack sh
    fi

    say "switching root to $NEWINIT"
    mount --move /run /newroot/run
    mount --move /dev /newroot/dev
    umount /proc /sys 2>/dev/null
    exec switch_root /newroot "$NEWINIT"
    rescue "switch_root to $NEWINIT failed"
    """#
}

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
/// - `fetch=URL`: no medium: bring the network up (DHCP, or the `ip=` a PXE loader passed),
///   download the squashfs over HTTP into RAM (retries, progress on the console), verify its
///   size and sha256, and boot from that; `${pxeserver}` in the URL is the boot server;
/// - `live.nfs=SERVER:/PATH`: no medium: bring the network up likewise, mount SERVER:/PATH
///   read-only over NFSv3 as the medium's live/ directory (a head exports its own), verify the squashfs's size
///   and sha256 once, and boot from it there; `${pxeserver}` may stand for SERVER;
/// - `persistence`: keep changes on the ext4 partition labelled ``persistenceLabel`` (a disk
///   image's, or one added to a USB stick) instead of in RAM; without such a partition the
///   init says so and falls back to RAM;
/// - `live.break`: stop in a shell just before switching root;
/// - `live.debug`: trace the init;
/// - `init=PATH`: what to run in the new root (default /sbin/init).
enum LiveInit {
    /// The filesystem label of a persistence partition (ext4 allows 16 bytes).
    static let persistenceLabel = "livebuild-rw"

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

    /// `/etc/livebuild/udhcpc.script`: busybox udhcpc calls it with the lease in its
    /// environment; it configures the interface and records the boot server (`siaddr`, else
    /// the DHCP server) for `${pxeserver}`.
    static let udhcpcScript = #"""
    #!/bin/sh
    case "$1" in
        deconfig) ip addr flush dev "$interface"; ip link set "$interface" up ;;
        bound|renew)
            ip addr flush dev "$interface"
            ip addr add "$ip/${mask:-24}" dev "$interface"
            for r in $router; do ip route add default via "$r" dev "$interface"; break; done
            server="$siaddr"
            [ -z "$server" ] || [ "$server" = 0.0.0.0 ] && server="$serverid"
            echo "DHCP_SERVER='$server'" > /run/live/dhcp.conf ;;
    esac
    exit 0
    """#

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

    TORAM=0; CHECK=0; WAIT=30; MEDIA=""; BREAK=0; NEWINIT=/sbin/init; FETCH=""; NFSROOT=""; IPARG=""; BOOTIF=; PERSIST=0; RAW=0
    for arg in $(cat /proc/cmdline); do
        case "$arg" in
            toram) TORAM=1 ;;
            live.check) CHECK=1 ;;
            live.wait=*) WAIT="${arg#live.wait=}" ;;
            live.media=*) MEDIA="${arg#live.media=}" ;;
            live.break) BREAK=1 ;;
            persistence) PERSIST=1 ;;
            live.debug) set -x ;;
            init=*) NEWINIT="${arg#init=}" ;;
            fetch=*) FETCH="${arg#fetch=}" ;;
            live.nfs=*) NFSROOT="${arg#live.nfs=}" ;;
            ip=*) IPARG="${arg#ip=}" ;;
            BOOTIF=*) BOOTIF="${arg#BOOTIF=}" ;;
        esac
    done

    say "loading modules"
    for m in $LIVE_MODULES; do
        insmod "/lib/modules/$m" 2>/dev/null
    done

    # Network boot: the squashfs comes over HTTP into RAM, verified before use.
    net_up() {
        ip link set lo up
        # pxelinux's IPAPPEND 1: ip=CLIENT:SERVER:GATEWAY:NETMASK.
        PXESERVER=$(echo "$IPARG" | cut -d: -f2)
        mac=""
        [ -n "$BOOTIF" ] && mac=$(echo "${BOOTIF#01-}" | tr - :)
        TRIES=$((WAIT * 4))
        while [ "$TRIES" -gt 0 ]; do
            for path in /sys/class/net/*; do
                dev="${path##*/}"
                [ "$dev" = lo ] && continue
                [ -n "$mac" ] && [ "$(cat "$path/address")" != "$mac" ] && continue
                ip link set "$dev" up
                if [ -n "$IPARG" ] && [ -n "$(echo "$IPARG" | cut -d: -f1)" ]; then
                    ip addr add "$(echo "$IPARG" | cut -d: -f1)/$(echo "$IPARG" | cut -d: -f4)" dev "$dev" \
                        && { GW=$(echo "$IPARG" | cut -d: -f3); [ -n "$GW" ] && ip route add default via "$GW"; NETDEV="$dev"; return 0; }
                elif udhcpc -i "$dev" -n -q -t 3 -T 2 -s /etc/livebuild/udhcpc.script >/dev/null 2>&1; then
                    NETDEV="$dev"
                    . /run/live/dhcp.conf
                    [ -n "$PXESERVER" ] || PXESERVER="$DHCP_SERVER"
                    return 0
                fi
            done
            TRIES=$((TRIES - 8))
            sleep 1
        done
        return 1
    }

    if [ -n "$FETCH" ]; then
        say "network boot: bringing the network up"
        net_up || rescue "no network interface got an address in ${WAIT}s (interfaces: $(ls /sys/class/net | tr '\n' ' ')); is the cable in, and does a DHCP server answer on this network?"
        case "$FETCH" in
            *'${pxeserver}'*)
                [ -n "$PXESERVER" ] || rescue "fetch=$FETCH names \${pxeserver}, but neither ip= nor DHCP gave a boot server; write the server's address into fetch="
                FETCH="$(echo "$FETCH" | sed "s/\${pxeserver}/$PXESERVER/")" ;;
        esac
        say "network up on $NETDEV ($(ip -4 -o addr show dev "$NETDEV" | awk '{print $4}')); fetching $FETCH ($LIVE_SQUASHFS_SIZE bytes)"
        mkdir -p /run/live/toram
        mount -t tmpfs -o mode=0755,size=$((LIVE_SQUASHFS_SIZE / 1048576 + 64))m tmpfs /run/live/toram || rescue "cannot create a RAM disk for the squashfs"
        SQUASHFS=/run/live/toram/filesystem.squashfs
        attempt=1
        while :; do
            rm -f "$SQUASHFS"
            wget -O "$SQUASHFS" "$FETCH" && [ "$(stat -c %s "$SQUASHFS")" = "$LIVE_SQUASHFS_SIZE" ] && break
            [ "$attempt" -ge 5 ] && rescue "could not download $FETCH after 5 attempts (last size $(stat -c %s "$SQUASHFS" 2>/dev/null || echo 0) of $LIVE_SQUASHFS_SIZE bytes); is the server up and serving this build's pxe/ tree?"
            say "download attempt $attempt failed; retrying in $((attempt * 2))s"
            sleep $((attempt * 2))
            attempt=$((attempt + 1))
        done
        say "verifying the squashfs sha256"
        SUM=$(sha256sum "$SQUASHFS" | cut -d' ' -f1)
        if [ "$SUM" != "$LIVE_SQUASHFS_SHA256" ]; then
            rm -f "$SQUASHFS"
            rescue "the squashfs from $FETCH has sha256 $SUM, expected $LIVE_SQUASHFS_SHA256: the server's copy is damaged or from another build; refusing to boot it"
        fi
        say "squashfs in RAM and verified"
    fi

    # Or the medium is a server's directory over NFS (a head's own boot medium): read in place,
    # verified once before use. Linux parses the NFS options itself (busybox here has no NFS
    # client of its own); addr= is the server's address, so SERVER must be numeric.
    if [ -n "$NFSROOT" ] && [ -z "$FETCH" ]; then
        say "network boot: bringing the network up"
        net_up || rescue "no network interface got an address in ${WAIT}s (interfaces: $(ls /sys/class/net | tr '\n' ' ')); is the cable in, and does a DHCP server answer on this network?"
        case "$NFSROOT" in
            *'${pxeserver}'*)
                [ -n "$PXESERVER" ] || rescue "live.nfs=$NFSROOT names \${pxeserver}, but neither ip= nor DHCP gave a boot server; write the server's address into live.nfs="
                NFSROOT="$(echo "$NFSROOT" | sed "s/\${pxeserver}/$PXESERVER/")" ;;
        esac
        NFSHOST="${NFSROOT%%:*}"; NFSPATH="${NFSROOT#*:}"
        case "$NFSHOST" in
            ""|*[!0-9.]*) rescue "live.nfs=$NFSROOT: expected SERVER:/PATH with SERVER an IPv4 address (the initramfs looks up no names)" ;;
        esac
        case "$NFSPATH" in
            /*) ;;
            *) rescue "live.nfs=$NFSROOT: expected SERVER:/PATH, an absolute path after the colon" ;;
        esac
        say "network up on $NETDEV ($(ip -4 -o addr show dev "$NETDEV" | awk '{print $4}')); mounting $NFSHOST:$NFSPATH over NFS"
        attempt=1
        # SERVER:/PATH is the medium's live/ directory (a head exports nothing else of it).
        mkdir -p /run/live/medium/live
        until mount -t nfs -o "ro,vers=3,proto=tcp,mountproto=tcp,nolock,hard,addr=$NFSHOST" "$NFSHOST:$NFSPATH" /run/live/medium/live; do
            [ "$attempt" -ge 5 ] && rescue "cannot mount $NFSHOST:$NFSPATH over NFS after 5 attempts; does the server export it (a head does once booted with its \"Cluster head\" entry, without toram)?"
            say "NFS mount attempt $attempt failed; retrying in $((attempt * 2))s"
            sleep $((attempt * 2))
            attempt=$((attempt + 1))
        done
        # The root is read over this connection from now on: systemd-networkd (which would drop
        # an address it did not configure, and ask DHCP as another client) keeps it, and renews
        # the lease as the client udhcpc was. /run moves into the new root.
        mkdir -p /run/systemd/network
        printf '[Match]\nMACAddress=%s\n\n[Network]\nDHCP=yes\nKeepConfiguration=yes\n\n[DHCPv4]\nClientIdentifier=mac\n' \
            "$(cat "/sys/class/net/$NETDEV/address")" > /run/systemd/network/10-livebuild-nfs-root.network
        SQUASHFS="/run/live/medium/$LIVE_SQUASHFS"
        [ -f "$SQUASHFS" ] || rescue "${LIVE_SQUASHFS#live/} is missing on $NFSHOST:$NFSPATH: the server exports something else than this build's live/ directory"
        SIZE=$(stat -c %s "$SQUASHFS")
        [ "$SIZE" = "$LIVE_SQUASHFS_SIZE" ] || rescue "$LIVE_SQUASHFS on $NFSHOST:$NFSPATH has $SIZE bytes, expected $LIVE_SQUASHFS_SIZE: the server's copy is damaged or from another build"
        say "verifying the squashfs sha256 (read once over NFS)"
        SUM=$(sha256sum "$SQUASHFS" | cut -d' ' -f1)
        [ "$SUM" = "$LIVE_SQUASHFS_SHA256" ] || rescue "the squashfs on $NFSHOST:$NFSPATH has sha256 $SUM, expected $LIVE_SQUASHFS_SHA256: the server's copy is damaged or from another build; refusing to boot it"
        say "squashfs on NFS and verified"
    fi

    # Otherwise, find the medium: a block device whose filesystem holds the marker live/ID.medium,
    # or a disk image's live partition, which holds the squashfs itself under the GPT name ID.
    if [ -z "$FETCH" ] && [ -z "$NFSROOT" ]; then
    raw_medium() {
        grep -qx "PARTNAME=$LIVE_MEDIUM_ID" "/sys/class/block/${1##*/}/uevent" 2>/dev/null
    }
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
            if raw_medium "$MEDIA"; then FOUND="$MEDIA"; RAW=1; else try_medium "$MEDIA" && FOUND="$MEDIA"; fi
        else
            for path in /sys/class/block/*; do
                dev="/dev/${path##*/}"
                case "${path##*/}" in loop*|ram*|zram*) continue ;; esac
                [ -b "$dev" ] || continue
                raw_medium "$dev" && { FOUND="$dev"; RAW=1; break; }
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

    if [ "$RAW" = 1 ]; then
        SQUASHFS="$FOUND"
        SIZE=$LIVE_SQUASHFS_SIZE
        PARTSIZE=$(( $(cat "/sys/class/block/${FOUND##*/}/size") * 512 ))
        [ "$PARTSIZE" -ge "$SIZE" ] || rescue "the live partition $FOUND has $PARTSIZE bytes, less than the squashfs's $SIZE: the disk image is truncated or damaged"
        [ "$(head -c 4 "$SQUASHFS")" = "hsqs" ] || rescue "the live partition $FOUND holds no squashfs image: the disk image is damaged"
    else
        SQUASHFS="/run/live/medium/$LIVE_SQUASHFS"
        [ -f "$SQUASHFS" ] || rescue "$LIVE_SQUASHFS is missing on $FOUND"
        SIZE=$(stat -c %s "$SQUASHFS")
        [ "$SIZE" = "$LIVE_SQUASHFS_SIZE" ] || rescue "$LIVE_SQUASHFS on $FOUND has $SIZE bytes, expected $LIVE_SQUASHFS_SIZE: the medium is damaged or from another build"
        [ "$(head -c 4 "$SQUASHFS")" = "hsqs" ] || rescue "$LIVE_SQUASHFS on $FOUND is not a squashfs image"
    fi

    if [ "$TORAM" = 1 ]; then
        say "copying the squashfs to RAM ($SIZE bytes)"
        mkdir -p /run/live/toram
        mount -t tmpfs -o mode=0755,size=$((SIZE / 1048576 + 64))m tmpfs /run/live/toram || rescue "cannot create a RAM disk for toram"
        SUM=$(head -c "$SIZE" "$SQUASHFS" | tee /run/live/toram/filesystem.squashfs | sha256sum | cut -d' ' -f1)
        [ "$SUM" = "$LIVE_SQUASHFS_SHA256" ] || rescue "the squashfs copied to RAM has sha256 $SUM, expected $LIVE_SQUASHFS_SHA256: the medium is damaged"
        [ "$RAW" = 1 ] || umount /run/live/medium || rescue "cannot release the medium after copying to RAM"
        SQUASHFS=/run/live/toram/filesystem.squashfs
        say "squashfs in RAM and verified; the medium can be removed"
    elif [ "$CHECK" = 1 ]; then
        say "verifying the squashfs sha256"
        SUM=$(head -c "$SIZE" "$SQUASHFS" | sha256sum | cut -d' ' -f1)
        [ "$SUM" = "$LIVE_SQUASHFS_SHA256" ] || rescue "$LIVE_SQUASHFS has sha256 $SUM, expected $LIVE_SQUASHFS_SHA256: the medium is damaged"
    fi

    fi

    mount -t squashfs -o ro,loop "$SQUASHFS" /run/live/rootfs || rescue "cannot mount $SQUASHFS (squashfs and loop modules loaded?)"

    # Changes go to RAM, or with `persistence` to the partition labelled livebuild-rw.
    RW=/run/live/rw
    if [ "$PERSIST" = 1 ]; then
        PDEV=""
        TRIES=20
        while [ -z "$PDEV" ] && [ "$TRIES" -gt 0 ]; do
            PDEV=$(findfs LABEL=\#(persistenceLabel) 2>/dev/null)
            [ -n "$PDEV" ] || { TRIES=$((TRIES - 1)); sleep 0.25; }
        done
        mkdir -p /run/live/persistence
        if [ -z "$PDEV" ]; then
            say "persistence: no partition labelled \#(persistenceLabel); changes stay in RAM and are lost at power-off"
        elif mount -t ext4 -o noatime "$PDEV" /run/live/persistence; then
            RW=/run/live/persistence
            say "persistence: changes are kept on $PDEV"
        else
            say "persistence: cannot mount $PDEV (labelled \#(persistenceLabel)) as ext4; changes stay in RAM and are lost at power-off"
        fi
    fi
    if [ "$RW" = /run/live/rw ]; then
        mount -t tmpfs -o mode=0755 tmpfs /run/live/rw || rescue "cannot mount the tmpfs for changes"
    fi
    mkdir -p "$RW/upper" "$RW/work"
    mount -t overlay overlay -o "lowerdir=/run/live/rootfs,upperdir=$RW/upper,workdir=$RW/work" /newroot \
        || rescue "cannot mount the overlay root (overlay module loaded?)"
    [ -x "/newroot$NEWINIT" ] || [ -L "/newroot$NEWINIT" ] || rescue "$NEWINIT is missing in the image"

    # The cluster key: media handed to a machine (ISO, USB stick, disk) load it as a second
    # initramfs; it is never in the squashfs, which a head serves to its network. Root's alone
    # in the new root, and gone from the initramfs. A network boot has none: clusterd asks the
    # head to admit the node.
    if [ -f /\#(ClusterKeyImage.keyPath) ]; then
        mkdir -p /newroot/etc/livebuild
        rm -f /newroot/\#(ClusterKeyImage.keyPath)
        (umask 077 && cat /\#(ClusterKeyImage.keyPath) > /newroot/\#(ClusterKeyImage.keyPath)) \
            || rescue "cannot install the cluster key from the boot medium into the root"
        chown 0:0 /newroot/\#(ClusterKeyImage.keyPath) && chmod 0600 /newroot/\#(ClusterKeyImage.keyPath)
        rm -f /\#(ClusterKeyImage.keyPath)
        say "cluster key from the boot medium installed"
    fi

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
